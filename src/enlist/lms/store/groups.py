"""The groups repository: SCIM groups and their membership table, per tenant.

Membership is only ever changed by deltas: adding one member inserts one row (ignored when it is
there already), removing one deletes one row. Nothing here reads a group's member list except
`members_of`, which only a full group read calls (never a read with `excludedAttributes=members`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.lms.store.rows import chunks, insert_ignoring_duplicates, new_id, now
from enlist.lms.store.tables import group_members, groups, users


@dataclass(frozen=True, slots=True)
class GroupRecord:
    id: str
    display_name: str
    doc: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


_COLUMNS = (
    groups.c.id,
    groups.c.display_name,
    groups.c.doc,
    groups.c.version,
    groups.c.created_at,
    groups.c.updated_at,
)


def _of(tenant_id: int) -> sa.ColumnElement[bool]:
    return groups.c.tenant_id == tenant_id


async def get_group(
    conn: AsyncConnection, tenant_id: int, group_id: str, *, for_update: bool = False
) -> GroupRecord | None:
    query = sa.select(*_COLUMNS).where(_of(tenant_id) & (groups.c.id == group_id))
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return GroupRecord(*row) if row else None


async def find_by_name(conn: AsyncConnection, tenant_id: int, display_name: str) -> GroupRecord | None:
    row = (
        await conn.execute(
            sa.select(*_COLUMNS).where(_of(tenant_id) & (groups.c.display_name_ci == display_name.casefold()))
        )
    ).first()
    return GroupRecord(*row) if row else None


async def query_groups(
    conn: AsyncConnection, tenant_id: int, where: sa.ColumnElement[bool] | None, start: int, count: int
) -> tuple[int, list[GroupRecord]]:
    condition = _of(tenant_id) if where is None else _of(tenant_id) & where
    total = (await conn.execute(sa.select(sa.func.count()).select_from(groups).where(condition))).scalar_one()
    if count <= 0 or start > total:
        return total, []
    rows = (
        await conn.execute(
            sa.select(*_COLUMNS)
            .where(condition)
            .order_by(groups.c.display_name_ci, groups.c.id)
            .offset(start - 1)
            .limit(count)
        )
    ).all()
    return total, [GroupRecord(*r) for r in rows]


def _columns(doc: dict[str, Any]) -> dict[str, Any]:
    name = str(doc["displayName"])
    return {
        "display_name": name,
        "display_name_ci": name.casefold(),
        "external_id": doc.get("externalId"),
        "doc": doc,
    }


async def insert_group(conn: AsyncConnection, tenant_id: int, doc: dict[str, Any]) -> GroupRecord:
    moment = now()
    group_id = new_id()
    await conn.execute(
        groups.insert().values(
            id=group_id, tenant_id=tenant_id, version=1, created_at=moment, updated_at=moment, **_columns(doc)
        )
    )
    return GroupRecord(group_id, str(doc["displayName"]), doc, 1, moment, moment)


async def update_group(
    conn: AsyncConnection, tenant_id: int, old: GroupRecord, doc: dict[str, Any]
) -> GroupRecord:
    """Write the group's attributes and bump its version (membership changes bump it too)."""
    moment = now()
    await conn.execute(
        groups.update()
        .where(_of(tenant_id) & (groups.c.id == old.id))
        .values(version=old.version + 1, updated_at=moment, **_columns(doc))
    )
    return GroupRecord(old.id, str(doc["displayName"]), doc, old.version + 1, old.created_at, moment)


async def delete_group(conn: AsyncConnection, tenant_id: int, group_id: str) -> None:
    await conn.execute(group_members.delete().where(group_members.c.group_id == group_id))
    await conn.execute(groups.delete().where(_of(tenant_id) & (groups.c.id == group_id)))


async def current_members(conn: AsyncConnection, group_id: str, user_ids: list[str]) -> set[str]:
    """Which of `user_ids` are members of the group now (an indexed lookup, not a member scan)."""
    found: set[str] = set()
    for part in chunks(sorted(set(user_ids))):
        rows = await conn.execute(
            sa.select(group_members.c.user_id).where(
                (group_members.c.group_id == group_id) & group_members.c.user_id.in_(part)
            )
        )
        found.update(r[0] for r in rows)
    return found


async def add_members(
    conn: AsyncConnection,
    tenant_id: int,
    group_id: str,
    user_ids: list[str],
    displays: dict[str, str] | None = None,
) -> None:
    """Insert membership rows (a member already there is left alone)."""
    if not user_ids:
        return
    moment = now()
    displays = displays or {}
    statement = insert_ignoring_duplicates(conn, group_members)
    for part in chunks(user_ids):
        await conn.execute(
            statement,
            [
                {
                    "group_id": group_id,
                    "user_id": u,
                    "tenant_id": tenant_id,
                    "added_at": moment,
                    "display": displays.get(u),
                }
                for u in part
            ],
        )


async def remove_members(conn: AsyncConnection, group_id: str, user_ids: list[str]) -> None:
    for part in chunks(sorted(set(user_ids))):
        await conn.execute(
            group_members.delete().where(
                (group_members.c.group_id == group_id) & group_members.c.user_id.in_(part)
            )
        )


async def all_member_ids(conn: AsyncConnection, group_id: str) -> list[str]:
    rows = await conn.execute(sa.select(group_members.c.user_id).where(group_members.c.group_id == group_id))
    return [r[0] for r in rows]


async def members_of(conn: AsyncConnection, group_ids: list[str]) -> dict[str, list[tuple[str, str]]]:
    """`{group_id: [(user_id, display), …]}`: the full member lists, for full group reads only."""
    result: dict[str, list[tuple[str, str]]] = {g: [] for g in group_ids}
    if not group_ids:
        return result
    rows = await conn.execute(
        sa.select(
            group_members.c.group_id,
            users.c.id,
            sa.func.coalesce(group_members.c.display, users.c.display_name, users.c.user_name),
        )
        .join(users, users.c.id == group_members.c.user_id)
        .where(group_members.c.group_id.in_(group_ids))
        .order_by(group_members.c.group_id, group_members.c.added_at, users.c.id)
    )
    for group_id, user_id, display in rows:
        result[group_id].append((user_id, display))
    return result
