"""The fake's GET handlers (graph-source.md §8.2 G1-G10), one function per route."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from tests.fakes.graph import delta
from tests.fakes.graph.app import _Pages
from tests.fakes.graph.faults import Fault
from tests.fakes.graph.rules import (
    DELTA_OPTIONS,
    LIST_OPTIONS,
    MANAGER_MISSING,
    READ_DELETED_GROUPS,
    READ_USERS,
    GraphError,
    Reply,
    refuse_unknown,
    select_of,
    top_of,
)
from tests.fakes.graph.tenant import GROUP_DEFAULT, GROUP_PROPERTIES, USER_DEFAULT, USER_PROPERTIES

if TYPE_CHECKING:
    from tests.fakes.graph.app import FakeGraph

_FILTER_ID = re.compile(r"id eq '([^']+)'")
_SP_APPID = re.compile(r"\(appId='([^']*)'\)")


def _not_found(what: str) -> GraphError:
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{what}' does not exist or one of its queried reference-property objects are not present.",
    )


def _list_render(
    obj: dict[str, Any], select: frozenset[str] | None, default: tuple[str, ...]
) -> dict[str, Any]:
    wanted = select if select is not None else frozenset(default)
    out = {p: obj.get(p) for p in sorted(wanted)}  # lists answer null for unset (§2.1)
    out["id"] = obj["id"]
    return out


def handle(
    fake: FakeGraph,
    route: str,
    path: str,
    options: Mapping[str, str],
    headers: Mapping[str, str],
    permissions: frozenset[str],
    fault: Fault | None,
) -> Reply:
    if "$skiptoken" in options and route not in {"users_delta", "groups_delta"}:
        refuse_unknown(options, frozenset({"$skiptoken"}))
        state = fake.resume(options["$skiptoken"])
        return fake.page(state)
    tenant = fake.tenant
    if route in {"users", "groups"}:
        refuse_unknown(options, LIST_OPTIONS)
        kind: Literal["user", "group"] = "user" if route == "users" else "group"
        select = select_of(options, USER_PROPERTIES if kind == "user" else GROUP_PROPERTIES, kind)
        top = top_of(options)
        expand = options.get("$expand")
        if "$filter" in options or "$orderby" in options or "$search" in options:
            raise GraphError(
                400, "Request_UnsupportedQuery", "The fake Graph serves no $filter/$orderby/$search here."
            )
        if expand is not None and (kind != "user" or expand not in {"manager", "manager($select=id)"}):
            raise GraphError(400, "Request_BadRequest", f"Unsupported $expand '{expand}'.")
        if expand is not None:
            top = min(top, 100)  # the known issue of §2.3: $expand caps pages at 100
        source = tenant.users if kind == "user" else tenant.groups
        items = []
        for object_id, obj in source.items():
            if object_id in tenant.deleted_at:
                continue
            item = _list_render(obj, select, USER_DEFAULT if kind == "user" else GROUP_DEFAULT)
            if expand is not None and object_id in tenant.managers:
                item["manager"] = {"@odata.type": "#microsoft.graph.user", "id": tenant.managers[object_id]}
            items.append(item)
        context = f"{fake.graph_base}/v1.0/$metadata#{route}"
        return fake.page(_Pages(route, items, top, context))
    if route in {"users_delta", "groups_delta"}:
        return _delta(fake, route, options, headers, fault)
    if route == "users_count":
        if headers.get("consistencylevel", "").lower() != "eventual":
            raise GraphError(
                400,
                "Request_BadRequest",
                "$count is not currently supported without ConsistencyLevel:eventual.",
            )
        return Reply(200, str(sum(1 for u in tenant.users if u not in tenant.deleted_at)))
    parts = path.strip("/").split("/")
    if route in {"user", "manager"}:
        user = tenant.live_user(parts[1])
        if user is None:
            raise _not_found(parts[1])
        if route == "user":
            select = select_of(options, USER_PROPERTIES, "user")
            return Reply(200, _list_render(user, select, USER_DEFAULT))
        manager_id = tenant.managers.get(parts[1])
        manager = tenant.live_user(manager_id) if manager_id else None
        if manager is None:
            raise GraphError(404, "Request_ResourceNotFound", MANAGER_MISSING)
        select = select_of(options, USER_PROPERTIES, "user")
        return Reply(
            200, {"@odata.type": "#microsoft.graph.user", **_list_render(manager, select, USER_DEFAULT)}
        )
    if route == "group":
        group = tenant.live_group(parts[1])
        if group is None:
            raise _not_found(parts[1])
        return Reply(200, _list_render(group, select_of(options, GROUP_PROPERTIES, "group"), GROUP_DEFAULT))
    if route == "members":
        return _members(fake, parts, options, permissions)
    if route in {"service_principals", "service_principal", "assigned_to"}:
        return _service_principals(fake, route, path, options)
    if route == "deleted_items":
        if len(parts) < 3:
            raise GraphError(
                400, "Request_BadRequest", "Unsupported query: an OData cast to user or group is required."
            )
        kind = "user" if parts[2].endswith("user") else "group"
        if not permissions & (READ_USERS if kind == "user" else READ_DELETED_GROUPS):
            raise GraphError(
                403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
            )
        source = tenant.users if kind == "user" else tenant.groups
        items = [
            {
                **_list_render(source[i], None, USER_DEFAULT if kind == "user" else GROUP_DEFAULT),
                "deletedDateTime": "2026-12-01T00:00:00Z",
            }
            for i in tenant.deleted_at
            if i in source
        ]
        return fake.page(
            _Pages(path.strip("/"), items, top_of(options), f"{fake.graph_base}/v1.0/$metadata#{kind}s")
        )
    raise GraphError(400, "Request_BadRequest", f"Resource not found for the segment '{path}'.")


def _members(
    fake: FakeGraph, parts: list[str], options: Mapping[str, str], permissions: frozenset[str]
) -> Reply:
    tenant = fake.tenant
    refuse_unknown(options, frozenset({"$select", "$top", "$count", "$skiptoken"}))
    group = tenant.live_group(parts[1])
    if group is None:
        raise _not_found(parts[1])
    select = select_of(options, USER_PROPERTIES | GROUP_PROPERTIES, "directoryObject")
    top = top_of(options)
    cast = parts[3].removeprefix("microsoft.graph.") if len(parts) > 3 else None
    if cast == "group" and "Unified" in group["groupTypes"]:
        raise GraphError(
            400, "Request_UnsupportedQuery", "The specified type cast is not supported for this group."
        )
    found: dict[str, str] = {}
    queue = [parts[1]]
    while queue:
        current = queue.pop(0)
        for member, kind in tenant.members.get(current, {}).items():
            if member in found:
                continue
            found[member] = kind
            if parts[2] == "transitiveMembers" and kind == "group":
                queue.append(member)
    limited = not permissions & READ_USERS
    items = []
    for member, kind in found.items():
        if cast is not None and kind != cast:
            continue
        obj = tenant.live_user(member) if kind == "user" else tenant.live_group(member)
        if obj is None and kind == "group":
            continue
        if obj is None:
            obj = tenant.users.get(member)  # soft-deleted users keep their memberships (§5.4)
            if obj is None:
                continue
        rendered = _list_render(obj, select, ("id", "displayName", "mail"))
        if limited and kind == "user":
            rendered = dict.fromkeys(rendered) | {"id": member}
        items.append({"@odata.type": f"#microsoft.graph.{kind}", **rendered})
    return fake.page(
        _Pages("/".join(parts), items, top, f"{fake.graph_base}/v1.0/$metadata#directoryObjects")
    )


def _service_principals(fake: FakeGraph, route: str, path: str, options: Mapping[str, str]) -> Reply:
    tenant = fake.tenant
    sps = list(tenant.service_principals.values())
    if route == "service_principals":
        refuse_unknown(options, frozenset({"$filter", "$select", "$top"}))
        flt = options.get("$filter", "")
        match = re.fullmatch(r"(appId|displayName) eq '([^']*)'", flt)
        if flt and match is None:
            raise GraphError(400, "Request_UnsupportedQuery", f"Unsupported query: {flt}")
        if match is not None:
            field = "app_id" if match.group(1) == "appId" else "display_name"
            sps = [sp for sp in sps if getattr(sp, field) == match.group(2)]
        items = [_sp(sp) for sp in sps]
        return fake.page(
            _Pages(
                "servicePrincipals",
                items,
                top_of(options),
                f"{fake.graph_base}/v1.0/$metadata#servicePrincipals",
            )
        )
    app_id = _SP_APPID.search(path)
    if app_id is not None:
        found = [sp for sp in sps if sp.app_id == app_id.group(1)]
    else:
        found = [sp for sp in sps if sp.id == path.split("/")[2]]
    if not found:
        raise _not_found(path.split("/")[2] if app_id is None else app_id.group(1))
    sp = found[0]
    if route == "service_principal":
        return Reply(200, _sp(sp))
    refuse_unknown(options, frozenset({"$top", "$select"}))
    context = f"{fake.graph_base}/v1.0/$metadata#servicePrincipals('{sp.id}')/appRoleAssignedTo"
    return fake.page(_Pages(path.strip("/"), list(sp.assignments), top_of(options), context))


def _sp(sp: Any) -> dict[str, Any]:
    return {
        "id": sp.id,
        "appId": sp.app_id,
        "displayName": sp.display_name,
        "appRoleAssignmentRequired": True,
        "appRoles": [],
    }


def _delta(
    fake: FakeGraph, route: str, options: Mapping[str, str], headers: Mapping[str, str], fault: Fault | None
) -> Reply:
    tenant = fake.tenant
    kind: Literal["user", "group"] = "user" if route == "users_delta" else "group"
    refuse_unknown(options, DELTA_OPTIONS | frozenset({"$expand", "$orderby"}))
    if "$expand" in options or "$orderby" in options:
        raise GraphError(400, "BadRequest", "$expand and $orderby are not supported on delta queries.")
    resource = "users/delta" if kind == "user" else "groups/delta"
    if "$skiptoken" in options:
        if "$select" in options:
            raise GraphError(400, "BadRequest", "$select is not supported together with $skiptoken.")
        return fake.delta_page(fake.resume(options["$skiptoken"]))
    minimal = headers.get("prefer", "").lower() == "return=minimal"
    if "$deltatoken" in options and options["$deltatoken"] != "latest":
        if "$select" in options:
            raise GraphError(400, "BadRequest", "$select is not supported together with $deltatoken here.")
        if fault is not None and fault.kind == "reset_cursor":
            raise GraphError(
                410,
                "resyncRequired",
                "The sync state was reset.",
                {"Location": f"{fake.graph_base}/v1.0/{resource}?$deltatoken="},
            )
        link = fake.delta_link(options["$deltatoken"])
        if (
            link is None
            or tenant.now() - link.created > fake.cursor_ttl
            or (fault is not None and fault.kind == "expire_cursor")
        ):
            raise GraphError(
                400,
                "syncStateNotFound",
                "The sync state generation is not found. The delta token is expired and data must be synchronized again.",
            )
        upto = delta.visible_head(tenant, link.seq)
        after = link.after if fake.knobs.replay else link.seq
        items = delta.changed_items(tenant, kind, link.select, after, upto, minimal=minimal, knobs=fake.knobs)
        state = _Pages(
            resource,
            items,
            fake.knobs.page_size,
            f"{fake.graph_base}/v1.0/$metadata#{kind}s",
            kind=kind,
            select=link.select,
            record_seq=upto,
            after=link.seq,
        )
        return fake.delta_page(state)
    allowed = (
        (USER_PROPERTIES | {"manager"}) if kind == "user" else (GROUP_PROPERTIES | {"members", "owners"})
    )
    select = select_of(options, frozenset(allowed), kind, in_delta=True)
    head = tenant.head
    if options.get("$deltatoken") == "latest":
        items: list[dict[str, Any]] = []
    else:
        items = delta.initial_items(tenant, kind, select, fake.knobs)
    flt = options.get("$filter")
    if flt is not None:
        ids = _FILTER_ID.findall(flt)
        if not ids or len(ids) > 50:
            raise GraphError(400, "BadRequest", "Delta $filter takes 1 to 50 'id eq' clauses.")
        items = [i for i in items if i["id"] in ids]
    context = f"{fake.graph_base}/v1.0/$metadata#{resource.split('/', maxsplit=1)[0]}"
    state = _Pages(
        resource, items, fake.knobs.page_size, context, kind=kind, select=select, record_seq=head, after=head
    )
    return fake.delta_page(state)
