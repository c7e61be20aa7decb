"""The request bodies Entra's provisioning service sends, in both of its PATCH dialects.

- `"entra"` is Entra's default: capitalised ops (`Add`/`Replace`/`Remove`), booleans as the
  strings `"True"`/`"False"`, `Add` for an attribute the target did not have, the manager as a
  bare id on the enterprise URN path, and members removed with `Remove` + a value list.
- `"rfc"` is what Entra sends with `?aadOptscim062020` on the Tenant URL, kept to plain RFC 7644:
  lower-case `replace`/`remove`, real booleans, the manager as `{"value": id}`, `add` members
  with a value list and one `remove` of `members[value eq "id"]` per member.

One user's (or group's) changed attributes go into one PatchOp, one operation per attribute,
as Entra batches them. (Entra's flagged dialect also folds simple attributes into one path-less
`replace`; the `rfc` dialect keeps one path per operation, which every RFC server reads the same
way.) Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

__all__ = [
    "MANAGER_PATH",
    "PATCH_OP_SCHEMA",
    "AttributeChange",
    "Dialect",
    "filter_query",
    "group_patch_body",
    "member_patch_bodies",
    "user_patch_body",
]

Dialect: TypeAlias = Literal["rfc", "entra"]

PATCH_OP_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MANAGER_PATH = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"


@dataclass(frozen=True, slots=True)
class AttributeChange:
    """One attribute to write: `value` None removes it; `old_present` says the target had a value.

    `path` is a SCIM PATCH path (`displayName`, `name.givenName`, `emails[type eq "work"].value`,
    `urn:…:enterprise:2.0:User:employeeNumber`); the manager is `MANAGER_PATH` with the
    manager's target id as `value`.
    """

    path: str
    value: Any
    old_present: bool = True


def user_patch_body(changes: Sequence[AttributeChange], dialect: Dialect) -> dict[str, Any]:
    """One PatchOp writing every change in `changes`, in order; ValueError when there is none."""
    return _patch_op([_user_operation(change, dialect) for change in _non_empty(changes)])


def group_patch_body(changes: Sequence[AttributeChange], dialect: Dialect) -> dict[str, Any]:
    """One PatchOp for a group's own attributes (`displayName`, `externalId`); members are not one.

    Membership goes through `member_patch_bodies`: a `members` change here is a ValueError.
    """
    operations = []
    for change in _non_empty(changes):
        if change.path.split("[", 1)[0].lower() == "members":
            raise ValueError("group members are written with member_patch_bodies, not as an attribute")
        operations.append(_plain_operation(change, dialect))
    return _patch_op(operations)


def member_patch_bodies(
    add: Sequence[str], remove: Sequence[str], dialect: Dialect, chunk: int = 50
) -> list[dict[str, Any]]:
    """The PatchOps adding `add` and removing `remove` (target ids), at most `chunk` members each.

    Additions come first, then removals; a request may carry both when they fit. No request when
    both lists are empty. An id in both lists is a ValueError: the target may apply either last.
    """
    if chunk < 1:
        raise ValueError("chunk must be at least 1")
    if both := set(add) & set(remove):
        raise ValueError(f"{len(both)} member(s) are both added and removed, for example {min(both)!r}")
    bodies: list[dict[str, Any]] = []
    operations: list[dict[str, Any]] = []
    room = chunk
    for op, ids in (("add", add), ("remove", remove)):
        start = 0
        while start < len(ids):
            if room == 0:
                bodies.append(_patch_op(operations))
                operations, room = [], chunk
            taken = list(ids[start : start + room])
            start += len(taken)
            room -= len(taken)
            operations.extend(_member_operations(op, taken, dialect))
    if operations:
        bodies.append(_patch_op(operations))
    return bodies


def filter_query(attribute: str, value: str) -> str:
    """`attribute eq "value"`, the value a JSON string: `\\`, `"` and control characters escaped."""
    return f"{attribute} eq {_quoted(value)}"


def _non_empty(changes: Sequence[AttributeChange]) -> Sequence[AttributeChange]:
    if not changes:
        raise ValueError("a PATCH needs at least one change")
    return changes


def _patch_op(operations: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP_SCHEMA], "Operations": operations}


def _user_operation(change: AttributeChange, dialect: Dialect) -> dict[str, Any]:
    if change.path.lower() != MANAGER_PATH.lower() or change.value is None:
        return _plain_operation(change, dialect)
    manager_id = change.value
    if not isinstance(manager_id, str) or not manager_id:
        raise ValueError("the manager's value is the manager's target id, a non-empty string")
    if dialect == "rfc":
        return {"op": "replace", "path": change.path, "value": {"value": manager_id}}
    return {"op": _entra_set(change), "path": change.path, "value": manager_id}


def _plain_operation(change: AttributeChange, dialect: Dialect) -> dict[str, Any]:
    if change.value is None:
        return {"op": "remove" if dialect == "rfc" else "Remove", "path": change.path}
    if dialect == "rfc":
        return {"op": "replace", "path": change.path, "value": change.value}
    value = change.value
    if isinstance(value, bool):
        # Entra's expression engine produces booleans as strings (entra-scim.md §2.5.2).
        value = "True" if value else "False"
    return {"op": _entra_set(change), "path": change.path, "value": value}


def _entra_set(change: AttributeChange) -> str:
    return "Replace" if change.old_present else "Add"


def _member_operations(op: str, ids: list[str], dialect: Dialect) -> list[dict[str, Any]]:
    values = [{"value": member} for member in ids]
    if dialect == "entra":
        return [{"op": op.capitalize(), "path": "members", "value": values}]
    if op == "add":
        return [{"op": "add", "path": "members", "value": values}]
    return [{"op": "remove", "path": f"members[value eq {_quoted(member)}]"} for member in ids]


def _quoted(value: str) -> str:
    # A filter's value is a JSON string: `"` and `\` escaped, and control characters too.
    return json.dumps(value, ensure_ascii=False)
