"""The `display` a client sent with a group member, kept so that it comes back as sent.

Entra never sends one; Microsoft's reference collection and scim2-tester do, and read it back.
The member ids themselves come from `enlist.scim.resource.parse_group` / `apply_group_patch`;
this only collects `{id: display}` from the same payloads.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from enlist.scim.patch import PatchOperation

MAX_DISPLAY = 512


def displays_in(items: Any) -> dict[str, str]:
    """`{value: display}` for member objects that carry both as strings."""
    found: dict[str, str] = {}
    for item in items if isinstance(items, list) else [items]:
        if isinstance(item, dict):
            lowered = {str(k).lower(): v for k, v in item.items()}
            # `displayName` is not RFC 7643, but Microsoft's reference collection sends it.
            value, display = lowered.get("value"), lowered.get("display") or lowered.get("displayname")
            if isinstance(value, str) and isinstance(display, str) and display:
                found[value] = display[:MAX_DISPLAY]
    return found


def displays_in_body(body: object) -> dict[str, str]:
    if not isinstance(body, dict):
        return {}
    members = next((v for k, v in body.items() if str(k).lower() == "members"), None)
    return displays_in(members)


def displays_in_ops(ops: Iterable[PatchOperation]) -> dict[str, str]:
    found: dict[str, str] = {}
    for op in ops:
        if op.op == "remove":
            continue
        if op.path is not None and op.path.attr.name.lower() == "members" and op.path.filter is None:
            found.update(displays_in(op.value))
    return found
