"""SCIM operations on a push source's Users: create, replace, patch, delete, get, list.

POST and PUT are whole resources: an attribute the body does not carry is cleared (PUT is how
Okta's AIW apps send every change, `active: false` included). PATCH is applied to the stored
user as SCIM (both Entra dialects and Okta's path-less form, `enlist.scim.patch`), then written
as a whole. A POST whose userName is a soft-deleted user's of this source restores that user
(same id). DELETE soft-deletes (restorable for 30 days); `active: false` disables. Each call
is ONE transaction: an error anywhere leaves the directory as it was.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.provisioning.directory.tables import dir_users
from enlist.provisioning.sources.model import Page, Removal, UserRecord
from enlist.provisioning.sources.push.mapping import user_attributes, user_resource
from enlist.provisioning.sources.push.writes import (
    Push,
    apply_page,
    check_manager,
    keep_external_id,
    owned,
    push_ids,
)
from enlist.scim.errors import not_found, uniqueness
from enlist.scim.patch import apply_user_patch, parse_patch
from enlist.scim.resource import parse_user


async def render(conn: AsyncConnection, push: Push, row: Any) -> dict[str, Any]:
    manager = (
        (await push_ids(conn, dir_users, [row.manager_id])).get(row.manager_id) if row.manager_id else None
    )
    meta = {"lastModified": row.updated_at.isoformat()}
    return user_resource(row.source_id, row.attributes, manager, push.base_url, meta)


async def _write(
    conn: AsyncConnection,
    push: Push,
    resource_id: str,
    doc: dict[str, Any],
    stored: Any,
    what: str,
    now: datetime,
) -> dict[str, Any]:
    attributes, manager = user_attributes(doc)
    if stored is not None:
        # A whole resource: what it no longer carries is cleared.
        attributes = {**dict.fromkeys(stored.attributes), **attributes}
    await check_manager(conn, push, manager, what)
    await keep_external_id(conn, push, "user", resource_id, doc.get("externalId"), what)
    await apply_page(conn, push, Page(users=(UserRecord(resource_id, attributes, manager),)), what, now)
    row = await owned(conn, push, dir_users, resource_id)
    return await render(conn, push, row)


async def create(conn: AsyncConnection, push: Push, body: object, now: datetime) -> dict[str, Any]:
    what = "POST /Users"
    doc = parse_user(body)
    upn_ci = str(doc["userName"]).casefold()
    same = (
        await conn.execute(
            sa.select(dir_users).where(
                (dir_users.c.upn_ci == upn_ci) & (dir_users.c.source == push.source.name)
            )
        )
    ).first()
    if same is not None and same.deleted_at is None:
        raise uniqueness(
            f"{what}: userName {doc['userName']} is already user {same.source_id} of this source"
        )
    resource_id = same.source_id if same is not None else str(uuid.uuid4())
    return await _write(conn, push, resource_id, doc, same, what, now)


async def upsert(
    conn: AsyncConnection, push: Push, resource_id: str | None, doc: dict[str, Any], what: str, now: datetime
) -> tuple[dict[str, Any], bool]:
    """A bulk upload's operation: replace `resource_id` (matched on externalId) or create; the
    resource and whether it was created."""
    if resource_id is None:
        return await create(conn, push, doc, now), True
    stored = await owned(conn, push, dir_users, resource_id, deleted=True)
    return await _write(conn, push, resource_id, doc, stored, what, now), stored is None


async def replace(
    conn: AsyncConnection, push: Push, resource_id: str, body: object, now: datetime
) -> dict[str, Any]:
    what = f"PUT /Users/{resource_id}"
    stored = await _stored(conn, push, resource_id)
    return await _write(conn, push, resource_id, parse_user(body), stored, what, now)


async def patch(
    conn: AsyncConnection, push: Push, resource_id: str, body: object, now: datetime
) -> dict[str, Any]:
    what = f"PATCH /Users/{resource_id}"
    stored = await _stored(conn, push, resource_id)
    operations = parse_patch(body)
    current = parse_user(await render(conn, push, stored))
    doc = apply_user_patch(current, operations, resource_id=resource_id)
    return await _write(conn, push, resource_id, doc, stored, what, now)


async def delete(conn: AsyncConnection, push: Push, resource_id: str, now: datetime) -> None:
    what = f"DELETE /Users/{resource_id}"
    await _stored(conn, push, resource_id)
    await apply_page(conn, push, Page(removals=(Removal("user", resource_id, "deleted"),)), what, now)


async def get(conn: AsyncConnection, push: Push, resource_id: str) -> dict[str, Any]:
    return await render(conn, push, await _stored(conn, push, resource_id))


async def _stored(conn: AsyncConnection, push: Push, resource_id: str) -> Any:
    row = await owned(conn, push, dir_users, resource_id)
    if row is None:
        raise not_found(f"User {resource_id} not found")
    return row
