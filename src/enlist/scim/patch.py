"""SCIM PATCH (RFC 7644 §3.5.2) in both Entra dialects: parse a request, apply it to a document.

`parse_patch` turns a PatchOp body into `PatchOperation`s, normalising Entra's default dialect
(`Add`/`Replace`/`Remove`) and its `aadOptscim062020` dialect (path-less `replace` whose value
keys are dotted or URN-qualified paths) into the same operations. `apply_user_patch` and
`apply_group_patch` apply them to a resource document (see `enlist.scim.resource`) and return
a new one; the input is never mutated. The attribute rules are in `enlist.scim.patch_apply`,
the membership rules in `enlist.scim.patch_members`. Pure: no I/O.

A user result is always a document `parse_user` accepts unchanged; a group result one that
`parse_group` accepts. Group members are never part of the document: their operations come
back as `MemberChanges` deltas.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from enlist.scim.errors import invalid_path, invalid_syntax
from enlist.scim.patch_apply import apply_attribute_op, expand_pathless, parse_patch_path
from enlist.scim.patch_members import MemberChanges, MemberFold, apply_member_op
from enlist.scim.resource import (
    MAX_LIST_LENGTH,
    MAX_MEMBERS,
    check_bounds,
    check_group_bounds,
    find_key,
    parse_group,
    parse_user,
)
from enlist.scim.schema import resolve

if TYPE_CHECKING:
    from enlist.scim.filter_ast import PatchPath

__all__ = [
    "MAX_OPERATIONS",
    "PATCH_OP_SCHEMA",
    "MemberChanges",
    "OpName",
    "PatchOperation",
    "apply_group_patch",
    "apply_user_patch",
    "parse_patch",
]

PATCH_OP_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MAX_OPERATIONS = MAX_MEMBERS
"""authentik sends one operation per member and Okta may too: a whole group's worth is allowed
(the request's body-size limit bounds what this costs)."""

OpName: TypeAlias = Literal["add", "replace", "remove"]
_OPS: dict[str, OpName] = {"add": "add", "replace": "replace", "remove": "remove"}


@dataclass(frozen=True, slots=True)
class PatchOperation:
    """One operation. `path` None only for add/replace with an object value (from direct use).

    A path whose attribute name is a schema URN (`PatchPath(AttrPath(None, urn))`) names that
    whole extension object. `pathless` marks an operation expanded from a key of a path-less
    operation's value: there read-only attributes sent back unchanged are ignored.
    """

    op: OpName
    path: PatchPath | None
    value: Any = None
    pathless: bool = False


def parse_patch(body: object) -> list[PatchOperation]:
    """The operations of a PatchOp body; raises `ScimError` (400) for anything else.

    The body is an object with `Operations` (key in any case): a non-empty list of at most
    `MAX_OPERATIONS` (50,000) objects. A `members` value may list up to `MAX_MEMBERS`; every
    other list, 1,000 items. `schemas` is not checked (tolerated missing). `op` is case-insensitive. A
    `path` that does not parse: `invalidPath` with the parser's message; `remove` without a
    path: `invalidPath`. A path-less add/replace object value is expanded to one operation per
    key, each key itself a path (plain, dotted `name.givenName`, URN-qualified, or a bare
    extension URN whose object expands to one operation per attribute in it).
    """
    if not isinstance(body, dict):
        raise invalid_syntax("A PATCH body must be a JSON object with Operations")
    operations = body.get(find_key(body, "Operations"))
    if not isinstance(operations, list) or not operations:
        raise invalid_syntax("Operations must be a non-empty list of operations")
    if len(operations) > MAX_OPERATIONS:
        raise invalid_syntax(f"Operations has more than {MAX_OPERATIONS} operations")
    parsed: list[PatchOperation] = []
    for index, raw in enumerate(operations):
        parsed += _parse_operation(raw, f"Operations[{index}]")
    return parsed


def _parse_operation(raw: object, where: str) -> list[PatchOperation]:
    if not isinstance(raw, dict):
        raise invalid_syntax(f"{where} must be an object with op, path and value")
    name = raw.get(find_key(raw, "op"))
    op = _OPS.get(name.lower()) if isinstance(name, str) else None
    if op is None:
        raise invalid_syntax(f'{where}.op must be "add", "replace" or "remove"')
    path = raw.get(find_key(raw, "path"))
    value = raw.get(find_key(raw, "value"))
    if path is not None and not isinstance(path, str):
        raise invalid_path(f"{where}.path must be a string")
    if not (path or "").strip() and isinstance(value, dict):
        check_group_bounds(value, f"{where}.value")  # a path-less `{"members": [...]}`
    else:
        members = path is not None and path.strip().lower() == "members"
        check_bounds(value, f"{where}.value", max_items=MAX_MEMBERS if members else MAX_LIST_LENGTH)
    if path is None or not path.strip():
        if op == "remove":
            raise invalid_path(f"{where}: a remove operation needs a path")
        return [
            PatchOperation(op, key_path, item, pathless=True) for key_path, item in expand_pathless(value)
        ]
    return [PatchOperation(op, parse_patch_path(path.strip()), value)]


def apply_user_patch(
    doc: dict[str, Any], ops: list[PatchOperation], *, resource_id: str | None = None
) -> dict[str, Any]:
    """The user document after `ops`, applied in order; `doc` is not changed.

    `resource_id` is the user's id: an `id` equal to it is sent back unchanged and ignored.
    Raises `ScimError` (400): `mutability` for a changed `id`, and for `meta`, `groups` and other
    read-only targets named by a path (in a path-less value they are ignored); `invalidPath`
    for an unknown attribute; `noTarget` when a filtered add/replace
    matches nothing and cannot create the element; `invalidValue` naming the attribute when the
    result has a wrong type (or no `userName`).
    """
    work = copy.deepcopy(doc)
    for operation in ops:
        apply_attribute_op(
            work,
            operation.op,
            operation.path,
            operation.value,
            "User",
            resource_id=resource_id,
            pathless=operation.pathless,
        )
    return parse_user(work)


def apply_group_patch(
    doc: dict[str, Any], ops: list[PatchOperation], *, resource_id: str | None = None
) -> tuple[dict[str, Any], MemberChanges]:
    """The group document after `ops` (`doc` unchanged) and the net change to its members.

    `resource_id` and read-only attributes as in `apply_user_patch`. `displayName`,
    `externalId` and custom extension attributes follow the user rules; a
    `displayName` left empty is `invalidValue`. Operations on `members` fold into the returned
    `MemberChanges` (see `enlist.scim.patch_members`).
    """
    work = copy.deepcopy(doc)
    work.pop("members", None)
    fold = MemberFold()
    for operation in ops:
        targets: list[tuple[PatchPath | None, Any]] = [(operation.path, operation.value)]
        pathless = operation.pathless
        if operation.path is None and operation.op != "remove":
            targets, pathless = list(expand_pathless(operation.value)), True
        for path, value in targets:
            if path is not None and _is_members(path):
                apply_member_op(fold, operation.op, path, value)
            else:
                apply_attribute_op(
                    work, operation.op, path, value, "Group", resource_id=resource_id, pathless=pathless
                )
    group, _ = parse_group(work)
    return group, fold.result()


def _is_members(path: PatchPath) -> bool:
    resolved = resolve(path.attr, "Group")
    return resolved is not None and resolved.attribute.name == "members"
