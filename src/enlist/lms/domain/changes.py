"""What a SCIM write changed, attribute by attribute, for the sync log.

Documents are flattened to `attribute → value` (`name.givenName`, `emails`, `employeeNumber`,
custom extension attributes as `<urn>:<name>`); a change is every attribute whose value differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from enlist.scim.schema import ENTERPRISE_USER_SCHEMA_ID


@dataclass(frozen=True, slots=True)
class Change:
    attribute: str
    old: Any
    new: Any

    def to_json(self) -> dict[str, Any]:
        return {"attribute": self.attribute, "old": self.old, "new": self.new}


def flatten(doc: dict[str, Any] | None) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in (doc or {}).items():
        if key.startswith("urn:") and isinstance(value, dict):
            prefix = "" if key == ENTERPRISE_USER_SCHEMA_ID else f"{key}:"
            for sub, sub_value in value.items():
                _put(flat, f"{prefix}{sub}", sub_value)
        else:
            _put(flat, key, value)
    return flat


def _put(flat: dict[str, Any], key: str, value: Any) -> None:
    if isinstance(value, dict) and key != "manager":
        for sub, sub_value in value.items():
            flat[f"{key}.{sub}"] = sub_value
    else:
        flat[key] = value


def diff(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[Change]:
    """Changes from `old` to `new` (None on either side: created or deleted), in attribute order."""
    before, after = flatten(old), flatten(new)
    return [
        Change(key, before.get(key), after.get(key))
        for key in sorted(before.keys() | after.keys())
        if before.get(key) != after.get(key)
    ]


def member_changes(added: list[str], removed: list[str]) -> list[Change]:
    """Membership as the sync log shows it: one change listing who joined and who left."""
    if not added and not removed:
        return []
    return [Change("members", sorted(removed) or None, sorted(added) or None)]
