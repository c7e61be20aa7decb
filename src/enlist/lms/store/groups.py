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
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.db.prepared import Prepared
from enlist.db.rows import chunks, new_id, now, paged
from enlist.lms.store.tables import group_members, groups, users
from enlist.lms.store.value_lengths import check_group


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


_OF = groups.c.tenant_id == sa.bindparam("tenant_id")
_BY_ID = sa.select(*_COLUMNS).where(_OF & (groups.c.id == sa.bindparam("group_id")))
_GET = Prepared(_BY_ID)
_GET_FOR_UPDATE = Prepared(_BY_ID.with_for_update())
_FIND_BY_NAME = Prepared(sa.select(*_COLUMNS).where(_OF & (groups.c.display_name_ci == sa.bindparam("name"))))


async def get_group(
    conn: AsyncConnection, tenant_id: int, group_id: str, *, for_update: bool = False
) -> GroupRecord | None:
    query = _GET_FOR_UPDATE if for_update else _GET
    row = await query.first(conn, tenant_id=tenant_id, group_id=group_id)
    return GroupRecord(*row) if row else None


async def find_by_name(conn: AsyncConnection, tenant_id: int, display_name: str) -> GroupRecord | None:
    """The group with that displayName (case-insensitive): one lookup on its unique index."""
    row = await _FIND_BY_NAME.first(conn, tenant_id=tenant_id, name=display_name.casefold())
    return GroupRecord(*row) if row else None


async def query_groups(
    conn: AsyncConnection, tenant_id: int, where: sa.ColumnElement[bool] | None, start: int, count: int
) -> tuple[int, list[GroupRecord]]:
    condition = _of(tenant_id) if where is None else _of(tenant_id) & where
    return await paged(
        conn,
        sa.select(*_COLUMNS).where(condition).order_by(groups.c.display_name_ci, groups.c.id),
        sa.select(sa.func.count()).select_from(groups).where(condition),
        start,
        count,
        lambda row: GroupRecord(*row),
    )


def _columns(doc: dict[str, Any]) -> dict[str, Any]:
    check_group(doc)
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


# An UPDATE reserves its columns' names for the SET clause: the WHERE binds are named apart.
_UPDATE = Prepared(
    groups.update()
    .where((groups.c.tenant_id == sa.bindparam("of_tenant")) & (groups.c.id == sa.bindparam("of_group")))
    .values(
        {
            name: sa.bindparam(f"new_{name}")
            for name in ("version", "updated_at", "display_name", "display_name_ci", "external_id", "doc")
        }
    )
)


async def update_group(
    conn: AsyncConnection, tenant_id: int, old: GroupRecord, doc: dict[str, Any]
) -> GroupRecord:
    """Write the group's attributes and bump its version (membership changes bump it too)."""
    moment = now()
    columns = {f"new_{name}": value for name, value in _columns(doc).items()}
    await _UPDATE.run(
        conn,
        of_tenant=tenant_id,
        of_group=old.id,
        new_version=old.version + 1,
        new_updated_at=moment,
        **columns,
    )
    return GroupRecord(old.id, str(doc["displayName"]), doc, old.version + 1, old.created_at, moment)


async def delete_group(conn: AsyncConnection, tenant_id: int, group_id: str) -> None:
    await conn.execute(group_members.delete().where(group_members.c.group_id == group_id))
    await conn.execute(groups.delete().where(_of(tenant_id) & (groups.c.id == group_id)))


_IS_MEMBER = Prepared(
    sa.select(group_members.c.user_id).where(
        (group_members.c.group_id == sa.bindparam("group_id"))
        & (group_members.c.user_id == sa.bindparam("user_id"))
    )
)
_MEMBER_ROW: dict[str, Any] = {
    name: sa.bindparam(name) for name in ("group_id", "user_id", "tenant_id", "added_at", "display")
}
_ADD_MEMBERS = {
    "sqlite": Prepared(sqlite.insert(group_members).values(_MEMBER_ROW).on_conflict_do_nothing()),
    "postgresql": Prepared(postgresql.insert(group_members).values(_MEMBER_ROW).on_conflict_do_nothing()),
}


async def current_members(conn: AsyncConnection, group_id: str, user_ids: list[str]) -> set[str]:
    """Which of `user_ids` are members of the group now (an indexed lookup, not a member scan)."""
    unique = sorted(set(user_ids))
    if len(unique) == 1:
        return {row[0] for row in await _IS_MEMBER.rows(conn, group_id=group_id, user_id=unique[0])}
    found: set[str] = set()
    for part in chunks(unique):
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
    statement = _ADD_MEMBERS[conn.dialect.name]
    for part in chunks(user_ids):
        await statement.run_many(
            conn,
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
