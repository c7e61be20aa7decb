"""Delta rounds of the fake (graph-source.md §5, §8.3): what a round or a deltaLink returns.

Pure functions of the tenant: `initial_items` enumerates current state (round one),
`changed_items` folds the change log after a sequence number into one item per object, with
`@removed` for deletions, `manager@delta` and `members@delta`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from tests.fakes.graph.tenant import GROUP_DEFAULT, USER_DEFAULT, Change, Tenant

USER_TYPE = "#microsoft.graph.user"
GROUP_TYPE = "#microsoft.graph.group"


@dataclass
class Knobs:
    """Documented anomalies of §8.3, all off by default."""

    page_size: int = 3
    duplicates: bool = False
    replay: bool = False
    member_slice: int = 0
    empty_pages: bool = False
    keep_memberships_on_purge: bool = False


def _render(obj: dict[str, Any], select: frozenset[str] | None, default: tuple[str, ...]) -> dict[str, Any]:
    wanted = select if select is not None else frozenset(default)
    # Delta omits never-set properties (§5.5); `id` is always returned.
    out = {k: v for k, v in obj.items() if k in wanted and v is not None}
    out["id"] = obj["id"]
    return out


def _ref(kind: str, object_id: str, *, removed: bool = False) -> dict[str, Any]:
    ref: dict[str, Any] = {"@odata.type": USER_TYPE if kind == "user" else GROUP_TYPE, "id": object_id}
    if removed:
        ref["@removed"] = {"reason": "deleted"}
    return ref


def _removed(object_id: str, reason: Literal["changed", "deleted"]) -> dict[str, Any]:
    return {"id": object_id, "@removed": {"reason": reason}}


def _sliced(group: dict[str, Any], members: list[dict[str, Any]], knobs: Knobs) -> list[dict[str, Any]]:
    if not members:
        return [group]
    size = knobs.member_slice or len(members)
    return [{**group, "members@delta": members[i : i + size]} for i in range(0, len(members), size)]


def initial_items(
    tenant: Tenant, kind: Literal["user", "group"], select: frozenset[str] | None, knobs: Knobs
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if kind == "user":
        for user_id in tenant.users:
            user = tenant.live_user(user_id)
            if user is None:
                continue
            item = _render(user, select, USER_DEFAULT)
            if select is not None and "manager" in select and user_id in tenant.managers:
                item["manager@delta"] = [_ref("user", tenant.managers[user_id])]
            items.append(item)
    else:
        for group_id in tenant.groups:
            group = tenant.live_group(group_id)
            if group is None:
                continue
            item = _render(group, select, GROUP_DEFAULT)
            members = [_ref(k, m) for m, k in tenant.members[group_id].items()]
            items.extend(_sliced(item, members, knobs) if select is None or "members" in select else [item])
    if knobs.duplicates:
        items = items + items[: max(1, len(items) // 2)]
    return items


def visible_head(tenant: Tenant, after: int) -> int:
    """The last sequence number a deltaLink may record: changes not yet visible (replication
    delay) must be delivered by a later round, so the link stops before the first of them."""
    now = tenant.now()
    for change in tenant.log:
        if change.seq > after and change.visible_at > now:
            return change.seq - 1
    return tenant.head


def changed_items(
    tenant: Tenant,
    kind: Literal["user", "group"],
    select: frozenset[str] | None,
    after: int,
    upto: int,
    *,
    minimal: bool,
    knobs: Knobs,
) -> list[dict[str, Any]]:
    per_object: dict[str, list[Change]] = {}
    for change in tenant.log:
        if after < change.seq <= upto and change.kind == kind:
            per_object.setdefault(change.object_id, []).append(change)
    items: list[dict[str, Any]] = []
    for object_id, changes in per_object.items():
        items.extend(_fold(tenant, kind, object_id, changes, select, minimal=minimal, knobs=knobs))
    if knobs.duplicates:
        items = items + items
    return items


def _fold(
    tenant: Tenant,
    kind: Literal["user", "group"],
    object_id: str,
    changes: list[Change],
    select: frozenset[str] | None,
    *,
    minimal: bool,
    knobs: Knobs,
) -> list[dict[str, Any]]:
    objects = tenant.users if kind == "user" else tenant.groups
    if object_id not in objects:
        return [_removed(object_id, "deleted")]
    if object_id in tenant.deleted_at:
        return [_removed(object_id, "changed")]
    obj = objects[object_id]
    default = USER_DEFAULT if kind == "user" else GROUP_DEFAULT
    wanted = select if select is not None else frozenset(default)
    whole = any(c.what in {"create", "restore"} for c in changes)
    changed_props = frozenset().union(*(c.properties for c in changes)) & wanted
    item: dict[str, Any] | None = None
    if whole or (changed_props and not minimal):
        item = _render(obj, select, default)
    elif changed_props:
        item = {"id": object_id, **{p: obj.get(p) for p in changed_props}}
    if kind == "user":
        manager_changes = [c for c in changes if c.what == "manager"]
        if "manager" in wanted and (manager_changes or (whole and object_id in tenant.managers)):
            item = item or {"id": object_id}
            current = tenant.managers.get(object_id)
            if current is not None:
                item["manager@delta"] = [_ref("user", current)]
            elif manager_changes and manager_changes[0].member_id is not None:
                item["manager@delta"] = [_ref("user", manager_changes[0].member_id, removed=True)]
            else:
                item["manager@delta"] = []
        return [item] if item is not None else []
    if select is not None and "members" not in select:
        return [item] if item is not None else []
    members: list[dict[str, Any]]
    if whole:
        members = [_ref(k, m) for m, k in tenant.members[object_id].items()]
    else:
        last: dict[str, Change] = {}
        for c in changes:
            if c.member_id is not None and c.what in {"member_add", "member_remove"}:
                last[c.member_id] = c
        members = [
            _ref(
                "group" if m in tenant.groups else "user",
                m,
                removed=c.what == "member_remove",
            )
            for m, c in last.items()
        ]
    if not members:
        return [item] if item is not None else []
    head = item or _render(obj, select, default)
    if minimal and not whole:
        head = item or {"id": object_id}
    return _sliced(head, members, knobs)
