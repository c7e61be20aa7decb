"""Reading AD attribute values out of python-ldap entries, whatever case the DC spells names in."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from enlist.provisioning.sources.ldap.dialect import Attributes


def values(attributes: Attributes, name: str) -> Sequence[bytes]:
    """An attribute's values ([] when absent); attribute names are case-insensitive in LDAP."""
    found = attributes.get(name)
    if found is not None:
        return found
    lowered = name.lower()
    return next((v for key, v in attributes.items() if key.lower() == lowered), [])


def integer(attributes: Attributes, name: str) -> int | None:
    found = values(attributes, name)
    return int(found[0]) if found else None


def guid_text(raw: bytes) -> str:
    """objectGUID bytes (Microsoft's layout: the first three fields little-endian) -> UUID text."""
    return str(uuid.UUID(bytes_le=bytes(raw)))


def guid_filter_value(guid: str) -> str:
    """A UUID text as an escaped objectGUID filter value: `\\xx` for each of its 16 bytes."""
    return "".join(f"\\{byte:02x}" for byte in uuid.UUID(guid).bytes_le)


def is_group(attributes: Attributes) -> bool:
    return any(value.lower() == b"group" for value in values(attributes, "objectClass"))
