"""SCIM operations on Groups: list, get, create, replace, patch (membership deltas), delete.

A group's members are never read to change them: a PATCH turns into inserts and deletes of the
membership rows it names, so adding one member costs the same in a group of 10 or of 100,000.
A group lands as a department, a portal group, or both (the tenant's `group_mode`); the members
it gains or loses are re-placed in their departments by the tenant's placement rule.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.lms.domain.changes import diff, member_changes
from enlist.lms.domain.members import displays_in_body, displays_in_ops
from enlist.lms.domain.users import etag
from enlist.lms.service.context import Request, check_if_match, transaction
from enlist.lms.store import departments as departments_store
from enlist.lms.store import groups as store
from enlist.lms.store import synclog
from enlist.lms.store.department_rule import group_moves, log_moves
from enlist.lms.store.filter_sql import group_clause, unique_name_lookup
from enlist.lms.store.groups import GroupRecord
from enlist.lms.store.users import existing_user_ids
from enlist.scim.errors import invalid_value, not_found, uniqueness
from enlist.scim.listing import ListQuery, Projection, list_response
from enlist.scim.patch import apply_group_patch, parse_patch
from enlist.scim.projection import project
from enlist.scim.resource import parse_group
from enlist.scim.schema import GROUP_SCHEMA_ID


async def render(
    conn: AsyncConnection, req: Request, records: list[GroupRecord], view: Projection
) -> list[dict[str, Any]]:
    """SCIM representations; the member lists are read only when the view asks for them."""
    wanted = bool(records) and view.wants("members")
    members = await store.members_of(conn, [r.id for r in records]) if wanted else {}
    out = []
    for r in records:
        resource: dict[str, Any] = {"schemas": [GROUP_SCHEMA_ID], "id": r.id, **r.doc}
        if view.wants("members"):
            resource["members"] = [
                {"value": uid, "$ref": f"{req.base_url}/Users/{uid}", "display": display, "type": "User"}
                for uid, display in members.get(r.id, [])
            ]
        resource["meta"] = {
            "resourceType": "Group",
            "created": r.created_at.isoformat().replace("+00:00", "Z"),
            "lastModified": r.updated_at.isoformat().replace("+00:00", "Z"),
            "location": f"{req.base_url}/Groups/{r.id}",
            "version": etag(r.version),
        }
        out.append(project(resource, "Group", view.attributes, view.excluded))
    return out


async def list_groups(req: Request, query: ListQuery) -> dict[str, Any]:
    view = Projection(query.attributes, query.excluded)
    name = unique_name_lookup(query.filter, "Group") if query.filter else None
    if name is not None:
        # How Entra asks whether a group exists: one lookup on the unique name index.
        async with req.db.read() as conn:
            found = await store.find_by_name(conn, req.tenant.id, name)
            page = [found] if found is not None and query.start == 1 and query.count > 0 else []
            resources = await render(conn, req, page, view)
        return list_response(int(found is not None), query.start, resources)
    where = group_clause(query.filter) if query.filter else None
    async with req.db.read() as conn:
        total, records = await store.query_groups(conn, req.tenant.id, where, query.start, query.count)
        resources = await render(conn, req, records, view)
    return list_response(total, query.start, resources)


async def get_group(req: Request, group_id: str, view: Projection) -> dict[str, Any]:
    async with req.db.read() as conn:
        record = await store.get_group(conn, req.tenant.id, group_id)
        if record is None:
            raise not_found(f"Group {group_id} not found")
        return (await render(conn, req, [record], view))[0]


async def create_group(req: Request, body: object) -> dict[str, Any]:
    doc, member_ids = parse_group(body)
    req.entry.resource_type, req.entry.resource_name = "Group", str(doc["displayName"])

    async def work(conn: AsyncConnection) -> dict[str, Any]:
        tenant = req.tenant
        await _check_name_free(conn, tenant.id, str(doc["displayName"]), None)
        await _check_members(conn, tenant.id, member_ids)
        record = await store.insert_group(conn, tenant.id, doc)
        await store.add_members(conn, tenant.id, record.id, member_ids, displays_in_body(body))
        await _land(conn, req, record, member_ids, [], renamed=False)
        req.entry.resource_id, req.entry.action, req.entry.status = record.id, "create", 201
        req.entry.changes = diff(None, doc) + member_changes(member_ids, [])
        await synclog.record(conn, tenant.id, req.entry)
        return (await render(conn, req, [record], Projection()))[0]

    return await transaction(req, work)


async def replace_group(req: Request, group_id: str, body: object, if_match: str | None) -> dict[str, Any]:
    doc, member_ids = parse_group(body)

    async def work(conn: AsyncConnection) -> dict[str, Any]:
        old = await _locked(conn, req, group_id, if_match)
        existing = set(await store.all_member_ids(conn, old.id))
        wanted = set(member_ids)
        await _check_members(conn, req.tenant.id, sorted(wanted - existing))
        added, removed = sorted(wanted - existing), sorted(existing - wanted)
        written = await _write(
            conn, req, old, doc, added, removed, "replace", respond=True, displays=displays_in_body(body)
        )
        assert written is not None
        return written

    return await transaction(req, work)


async def patch_group(
    req: Request,
    group_id: str,
    body: object,
    if_match: str | None,
    *,
    respond: bool,
    view: Projection | None = None,
) -> dict[str, Any] | None:
    ops = parse_patch(body)

    async def work(conn: AsyncConnection) -> dict[str, Any] | None:
        old = await _locked(conn, req, group_id, if_match)
        doc, delta = apply_group_patch(old.doc, ops, resource_id=old.id)
        if delta.replace is not None:
            existing = set(await store.all_member_ids(conn, old.id))
            wanted = set(delta.replace)
            added, removed = sorted(wanted - existing), sorted(existing - wanted)
        else:
            # MemberChanges folds "remove all, then add" into `replace`, so here the two are apart.
            if delta.remove_all:
                removed = await store.all_member_ids(conn, old.id)
            else:
                removed = sorted(await store.current_members(conn, old.id, list(delta.remove)))
            adding = list(dict.fromkeys(delta.add))
            already = await store.current_members(conn, old.id, adding)
            added = [m for m in adding if m not in already]
        await _check_members(conn, req.tenant.id, added)
        return await _write(
            conn,
            req,
            old,
            doc,
            added,
            removed,
            "update",
            respond=respond,
            displays=displays_in_ops(ops),
            view=view,
        )

    return await transaction(req, work)


async def delete_group(req: Request, group_id: str, if_match: str | None) -> None:
    async def work(conn: AsyncConnection) -> None:
        tenant = req.tenant
        old = await _locked(conn, req, group_id, if_match)
        members = await store.all_member_ids(conn, old.id)
        await store.delete_group(conn, tenant.id, old.id)
        residents = await departments_store.remove_group_department(conn, tenant, old.id)
        await departments_store.place_users(conn, tenant, sorted(set(members) | set(residents)))
        moves = await group_moves(conn, tenant, members)
        await log_moves(conn, tenant, moves, req.entry.method, req.entry.path)
        req.entry.action, req.entry.status = "delete", 204
        req.entry.changes = diff(old.doc, None) + member_changes([], members)
        await synclog.record(conn, tenant.id, req.entry)

    await transaction(req, work)


async def _locked(conn: AsyncConnection, req: Request, group_id: str, if_match: str | None) -> GroupRecord:
    old = await store.get_group(conn, req.tenant.id, group_id, for_update=True)
    if old is None:
        raise not_found(f"Group {group_id} not found")
    req.entry.resource_type, req.entry.resource_id, req.entry.resource_name = (
        "Group",
        old.id,
        old.display_name,
    )
    check_if_match(if_match, old.version)
    return old


async def _write(
    conn: AsyncConnection,
    req: Request,
    old: GroupRecord,
    doc: dict[str, Any],
    added: list[str],
    removed: list[str],
    action: str,
    *,
    respond: bool,
    displays: dict[str, str] | None = None,
    view: Projection | None = None,
) -> dict[str, Any] | None:
    tenant = req.tenant
    if str(doc["displayName"]).casefold() != old.display_name.casefold():
        await _check_name_free(conn, tenant.id, str(doc["displayName"]), old.id)
    await store.remove_members(conn, old.id, removed)
    await store.add_members(conn, tenant.id, old.id, added, displays)
    changes = diff(old.doc, doc) + member_changes(added, removed)
    record = old
    if changes:
        record = await store.update_group(conn, tenant.id, old, doc)
        await _land(conn, req, record, added, removed, renamed=record.display_name != old.display_name)
    req.entry.action, req.entry.changes = action, changes
    req.entry.resource_name = record.display_name
    req.entry.status = 200 if respond else 204
    await synclog.record(conn, tenant.id, req.entry)
    return (await render(conn, req, [record], view or Projection()))[0] if respond else None


async def _land(
    conn: AsyncConnection,
    req: Request,
    record: GroupRecord,
    added: list[str],
    removed: list[str],
    *,
    renamed: bool,
) -> None:
    """Keep the group's department (when the tenant makes them) and its members' placement."""
    tenant = req.tenant
    if tenant.policy.department_source == "group_names":  # the tree rule (ADR 0034)
        members = await store.all_member_ids(conn, record.id) if renamed else []
        moves = await group_moves(conn, tenant, sorted({*added, *removed, *members}))
        await log_moves(conn, tenant, moves, req.entry.method, req.entry.path)
        return
    if not tenant.policy.makes_departments:
        return
    department_id = await departments_store.ensure_group_department(
        conn, tenant, record.id, record.display_name
    )
    if renamed:
        # The rule chooses by name (patterns, then the name tie-break): a rename can move anyone.
        members = await store.all_member_ids(conn, record.id)
        await departments_store.place_users(conn, tenant, sorted({*added, *removed, *members}))
        return
    await departments_store.place_leavers(conn, tenant, department_id, removed)
    await departments_store.place_joiners(conn, tenant, record.id, record.display_name, department_id, added)


async def _check_name_free(conn: AsyncConnection, tenant_id: int, name: str, own_id: str | None) -> None:
    clash = await store.find_by_name(conn, tenant_id, name)
    if clash is not None and clash.id != own_id:
        raise uniqueness(f"displayName {name!r} is already taken by group {clash.id}")


async def _check_members(conn: AsyncConnection, tenant_id: int, member_ids: list[str]) -> None:
    if not member_ids:
        return
    missing = sorted(set(member_ids) - await existing_user_ids(conn, tenant_id, member_ids))
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise invalid_value(f"members must be users of this tenant; unknown: {shown}")
