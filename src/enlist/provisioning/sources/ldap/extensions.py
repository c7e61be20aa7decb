"""Custom LDAP attributes read into directory extension attributes (pure).

An LDAP source maps a fixed set of attributes (`mapping`); an admin adds any other one with
`source set NAME attributes.EXT=ldapAttribute`. The value read lands in the user's directory
attribute `extension_EXT`, the name Entra gives a directory extension, so a target mapping
reads it as `[extension_EXT]`. A name already written `extension_…` (copied from an Entra
mapping, `extension_9a1b…_costCenter`) is kept as it is. `attributes.EXT=` (empty) removes it.

Stored in the source's settings as `{"attributes": {"extension_EXT": "ldapAttribute"}}`.

Values: one value is a string, several are a list of strings (in the server's order), none is
`None` (the attribute is cleared, as a read returns the whole entry). A value that is not
UTF-8 (`objectSid`, a photo) is given as base64 text.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from typing import Any

PREFIX = "extension_"
KEY_PREFIX = "attributes."
_EXTENSION = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,119}$")
# An LDAP attribute description without options: a name (RFC 4512 descr) or a numeric OID.
_LDAP_ATTRIBUTE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9-]{0,127}|[0-9]+(?:\.[0-9]+)+)$")

Extensions = tuple[tuple[str, str], ...]
"""(directory attribute, LDAP attribute) pairs, by directory attribute."""


def directory_name(given: str) -> str:
    """The directory attribute `attributes.<given>` writes: `extension_<given>`, or `given` when
    it is already so named. Raises ValueError for a name a mapping could not refer to."""
    name = given.strip()
    if not _EXTENSION.match(name):
        msg = (
            f"attributes.{given} is not a usable name: give attributes.NAME=ldapAttribute with NAME "
            "of letters, digits and _ (starting with a letter)"
        )
        raise ValueError(msg)
    return name if name.startswith(PREFIX) and len(name) > len(PREFIX) else PREFIX + name


def ldap_attribute(value: str, key: str) -> str:
    """An LDAP attribute name as given (a name or an OID), or ValueError."""
    name = value.strip()
    if not _LDAP_ATTRIBUTE.match(name):
        msg = f"{key} must name one LDAP attribute (employeeType, departmentNumber…), not {value!r}"
        raise ValueError(msg)
    return name


def change(stored: Mapping[str, Any], key: str, value: str) -> dict[str, str]:
    """The source's `attributes` after `source set … attributes.EXT=value` (empty: removed)."""
    current = {str(k): str(v) for k, v in dict(stored.get("attributes") or {}).items()}
    name = directory_name(key.removeprefix(KEY_PREFIX))
    if value.strip():
        current[name] = ldap_attribute(value, key)
    else:
        current.pop(name, None)
    return dict(sorted(current.items()))


def from_stored(stored: Any) -> Extensions:
    """The stored `attributes` object as pairs, checked (ValueError says which is wrong)."""
    if stored in (None, ""):
        return ()
    if not isinstance(stored, Mapping):
        msg = "the LDAP setting attributes must be an object {extension name: LDAP attribute}"
        raise ValueError(msg)  # noqa: TRY004 - a bad setting, reported as the others are
    return tuple(
        sorted((directory_name(str(k)), ldap_attribute(str(v), f"attributes.{k}")) for k, v in stored.items())
    )


def _text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(value).decode("ascii")


def extension_values(attrs: Mapping[str, Sequence[bytes]], extensions: Extensions) -> dict[str, Any]:
    """The extension attributes of one entry; `attrs` is keyed by case-folded attribute name."""
    found: dict[str, Any] = {}
    for name, attribute in extensions:
        values = [_text(v) for v in attrs.get(attribute.casefold()) or ()]
        found[name] = values[0] if len(values) == 1 else (values or None)
    return found
