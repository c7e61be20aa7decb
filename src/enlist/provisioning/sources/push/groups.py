"""SCIM operations on a push source's Groups: create, replace, patch, delete, get, list.

Members are this source's users and groups (nesting kept), named by their push ids; a member
that is not one of them is `invalidValue`, never silently dropped. POST and PUT replace the
whole group (Okta's AIW apps PUT the whole member list on every change); PATCH folds member
adds and removes (`members[value eq "…"]`, path-less `{"members": […]}`, Okta's redundant
`id` in a rename) onto the stored members, then writes the whole group. One transaction each.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.provisioning.directory.tables import dir_group_members, dir_groups, dir_users
from enlist.provisioning.sources.model import GroupRecord, Page, Removal
from enlist.provisioning.sources.push.mapping import group_attributes, group_resource
from enlist.provisioning.sources.push.writes import Push, apply_page, keep_external_id, live_members, owned
from enlist.scim.errors import not_found
from enlist.scim.patch import apply_group_patch, parse_patch
from enlist.scim.resource import parse_group


async def members_of(conn: AsyncConnection, group_id: str) -> list[tuple[str, str, str]]:
    """(push id, display, `User` | `Group`) of a group's members, in a stable order."""
    m = dir_group_members.c
    out: list[tuple[str, str, str]] = []
    for table, kind, display in (
        (dir_users, "User", dir_users.c.upn),
        (dir_groups, "Group", dir_groups.c.display_name),
    ):
        rows = await conn.execute(
            sa.select(table.c.source_id, display)
            .join(dir_group_members, m.member_id == table.c.id)
            .where((m.group_id == group_id) & table.c.source_id.is_not(None))
            .order_by(table.c.source_id)
        )
        out.extend((r[0], r[1], kind) for r in rows)
    return out


async def render(conn: AsyncConnection, push: Push, row: Any) -> dict[str, Any]:
    meta = {"lastModified": row.updated_at.isoformat()}
    return group_resource(row.source_id, row.attributes, await members_of(conn, row.id), push.base_url, meta)


async def _write(
    conn: AsyncConnection,
    push: Push,
    resource_id: str,
    doc: dict[str, Any],
    member_ids: list[str],
    stored: Any,
    what: str,
    now: datetime,
) -> dict[str, Any]:
    attributes = group_attributes(doc)
    if stored is not None:
        attributes = {**dict.fromkeys(stored.attributes), **attributes}
    users, groups = await live_members(conn, push, member_ids, what)
    record = GroupRecord(
        resource_id, attributes, frozenset(users), frozenset(groups - {resource_id}), members_complete=True
    )
    await keep_external_id(conn, push, "group", resource_id, doc.get("externalId"), what)
    await apply_page(conn, push, Page(groups=(record,)), what, now)
    return await render(conn, push, await owned(conn, push, dir_groups, resource_id))


async def create(conn: AsyncConnection, push: Push, body: object, now: datetime) -> dict[str, Any]:
    doc, member_ids = parse_group(body)
    return await _write(conn, push, str(uuid.uuid4()), doc, member_ids, None, "POST /Groups", now)


async def replace(
    conn: AsyncConnection, push: Push, resource_id: str, body: object, now: datetime
) -> dict[str, Any]:
    stored = await _stored(conn, push, resource_id)
    doc, member_ids = parse_group(body)
    return await _write(conn, push, resource_id, doc, member_ids, stored, f"PUT /Groups/{resource_id}", now)


async def patch(
    conn: AsyncConnection, push: Push, resource_id: str, body: object, now: datetime
) -> dict[str, Any]:
    stored = await _stored(conn, push, resource_id)
    operations = parse_patch(body)
    current = await render(conn, push, stored)
    members = [m["value"] for m in current.pop("members")]
    doc, _ = parse_group(current)
    doc, changes = apply_group_patch(doc, operations, resource_id=resource_id)
    after = changes.apply_to(members)
    return await _write(conn, push, resource_id, doc, after, stored, f"PATCH /Groups/{resource_id}", now)


async def delete(conn: AsyncConnection, push: Push, resource_id: str, now: datetime) -> None:
    await _stored(conn, push, resource_id)
    page = Page(removals=(Removal("group", resource_id, "deleted"),))
    await apply_page(conn, push, page, f"DELETE /Groups/{resource_id}", now)


async def get(conn: AsyncConnection, push: Push, resource_id: str) -> dict[str, Any]:
    return await render(conn, push, await _stored(conn, push, resource_id))


async def _stored(conn: AsyncConnection, push: Push, resource_id: str) -> Any:
    row = await owned(conn, push, dir_groups, resource_id)
    if row is None:
        raise not_found(f"Group {resource_id} not found")
    return row
