"""Many bulk operations in one apply round: how a 5,000-user upload stays fast.

Applying operations one transaction each costs some thirty statements apiece. Here a chunk of
valid operations (already checked by `bulk.prepare`) is matched, resolved and applied as ONE
page of records in ONE transaction, which also marks them applied: still all or nothing per
operation, because the chunk is all or nothing, and whenever any record of it would not apply
as sent (a userName another user has, a manager or member not found) the chunk is rolled back
and its operations are applied one by one instead, each failing or applying alone.

An operation whose manager is neither in the directory nor in the chunk is left out, waiting
(`bulk.ManagerNotYetError` semantics), with the key it waits for.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.provisioning.directory.tables import dir_users
from enlist.provisioning.sources.model import Page, UserRecord
from enlist.provisioning.sources.push.bulk import applied_response
from enlist.provisioning.sources.push.mapping import user_attributes
from enlist.provisioning.sources.push.tables import push_external_ids
from enlist.provisioning.sources.push.writes import Push, apply_page
from enlist.scim.schema import ENTERPRISE_USER_SCHEMA_ID

Item = tuple[int, Any, dict[str, Any]]  # position, the request as sent, its canonical user


class ChunkRefusedError(Exception):
    """Some operation of the chunk cannot be applied as sent: apply them one by one."""


@dataclass
class ChunkResult:
    applied: dict[int, tuple[dict[str, Any], list[str]]] = field(default_factory=dict)
    waiting: dict[int, str] = field(default_factory=dict)  # position -> the manager key it waits for


async def _external_ids(conn: AsyncConnection, push: Push, keys: list[str]) -> dict[str, str]:
    e = push_external_ids.c
    found: dict[str, str] = {}
    for start in range(0, len(keys), 500):
        rows = await conn.execute(
            sa.select(e.external_id_ci, e.source_id).where(
                (e.source == push.source.id)
                & (e.kind == "user")
                & e.external_id_ci.in_(keys[start : start + 500])
            )
        )
        found.update((r[0], r[1]) for r in rows)
    return found


async def _users_where(conn: AsyncConnection, push: Push, column: Any, values: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for start in range(0, len(values), 500):
        rows = await conn.execute(
            sa.select(dir_users).where(
                (dir_users.c.source == push.source.name) & column.in_(values[start : start + 500])
            )
        )
        found.update((getattr(r, column.key), r) for r in rows)
    return found


def _manager_value(doc: dict[str, Any]) -> str | None:
    enterprise = doc.get(ENTERPRISE_USER_SCHEMA_ID)
    manager = enterprise.get("manager") if isinstance(enterprise, dict) else None
    value = manager.get("value") if isinstance(manager, dict) else None
    return str(value) if value else None


async def _resource_ids(
    conn: AsyncConnection, push: Push, items: list[Item]
) -> tuple[dict[str, str], dict[str, str]]:
    """The push ids of the users the items match on externalId (case-folded), and of those they
    create: a new id, or a soft-deleted user's of this source with that userName (restored)."""
    keys = sorted({doc["externalId"].casefold() for _, _, doc in items})
    ids = await _external_ids(conn, push, keys)
    unmatched_upns = sorted(
        {str(doc["userName"]).casefold() for _, _, doc in items if doc["externalId"].casefold() not in ids}
    )
    by_upn = await _users_where(conn, push, dir_users.c.upn_ci, unmatched_upns)
    new_ids: dict[str, str] = {}
    for _, _, doc in items:
        key = doc["externalId"].casefold()
        if key in ids or key in new_ids:
            continue
        same = by_upn.get(str(doc["userName"]).casefold())
        if same is not None and same.deleted_at is None:
            raise ChunkRefusedError  # a userName this source's other user has: a 409, one by one
        new_ids[key] = same.source_id if same is not None else str(uuid.uuid4())
    return ids, new_ids


async def apply_chunk(conn: AsyncConnection, push: Push, items: list[Item], now: datetime) -> ChunkResult:
    """Apply `items` in `conn`'s transaction; raises `ChunkRefusedError` (roll back, then go one
    by one) when any of them would not apply as sent."""
    ids, new_ids = await _resource_ids(conn, push, items)
    resource_of = {**ids, **new_ids}
    stored = await _users_where(conn, push, dir_users.c.source_id, sorted(set(resource_of.values())))
    named_managers = sorted(
        {m for _, _, doc in items if (m := _manager_value(doc)) and m.casefold() not in resource_of}
    )
    by_external = await _external_ids(conn, push, [m.casefold() for m in named_managers])
    by_push_id = await _users_where(conn, push, dir_users.c.source_id, named_managers)
    result = ChunkResult()
    records: list[UserRecord] = []
    seen: set[str] = set()
    for position, request, doc in items:
        manager = _manager_value(doc)
        manager_id = None
        if manager is not None:
            manager_id = resource_of.get(manager.casefold()) or by_external.get(manager.casefold())
            if manager_id is None and manager in by_push_id and by_push_id[manager].deleted_at is None:
                manager_id = manager
            if manager_id is None:
                result.waiting[position] = manager.casefold()
                continue
        key = doc["externalId"].casefold()
        resource_id = resource_of[key]
        attributes, _ = user_attributes(doc)
        row = stored.get(resource_id)
        if row is not None:
            attributes = {**dict.fromkeys(row.attributes), **attributes}
        records.append(UserRecord(resource_id, attributes, manager_id))
        location = f"{push.base_url}/Users/{resource_id}"
        created = row is None and resource_id not in seen  # a repeated externalId: created once
        seen.add(resource_id)
        result.applied[position] = (
            applied_response(request, location, created=created),
            [resource_id.casefold(), key],
        )
    if not records:
        return result
    try:
        await apply_page(
            conn,
            push,
            Page(users=tuple(records)),
            f"bulk operations {min(result.applied)}-{max(result.applied)}",
            now,
        )
    except Exception as exc:  # a ScimError or a constraint: the chunk goes one by one
        raise ChunkRefusedError from exc
    fresh = [
        {"source": push.source.id, "kind": "user", "external_id_ci": k, "source_id": v}
        for k, v in new_ids.items()
    ]
    if fresh:
        e = push_external_ids.c
        await conn.execute(
            push_external_ids.delete().where(
                (e.source == push.source.id) & (e.kind == "user") & e.source_id.in_(list(new_ids.values()))
            )
        )
        await conn.execute(push_external_ids.insert(), fresh)
    return result
