"""Reads the admin pages need and the engine does not offer: pages of assignments, directory
users and groups, group members, one log record.

Every list is keyset-paged (`enlist.web.paging`) along an index, so a page costs a fixed number
of statements whatever its depth: a page of rows plus, for the names on it, one lookup per kind
by primary key. Totals are bounded counts (`COUNTED`): a page never counts a whole big table.
Searches are prefix searches on the case-folded name columns, which are indexed; a range
(`>= q AND < q'`) uses the index on SQLite and PostgreSQL alike, where `LIKE` alone would not.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.provisioning.directory.tables import dir_group_members, dir_groups, dir_users
from enlist.provisioning.logs import store as log_store
from enlist.provisioning.store.tables import assignments, provisioning_log
from enlist.web.paging import CursorKey, Page, page_of

COUNTED = 10_000  # totals above this show as "more than 10,000"
PICKER_SIZE = 50


@dataclass(frozen=True, slots=True)
class Entry:
    """A directory user or group as a list shows it."""

    kind: str  # user | group
    id: str
    name: str  # userPrincipalName or displayName
    display_name: str
    detail: str  # a user's mail and department; a group's description
    enabled: bool = True
    deleted: bool = False
    members: int | None = None
    since: datetime | None = None  # when it was assigned (assignment lists)


def _prefix(column: sa.ColumnElement[str], query: str) -> list[sa.ColumnElement[bool]]:
    """`column` starts with `query` (case-folded): a range on the index, `>= q AND < q'` where
    q' is q with its last character incremented, and a LIKE that keeps the answer exact under
    any collation."""
    folded = query.strip().casefold()
    if not folded:
        return []
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    where = [column >= folded, column.like(escaped + "%", escape="\\")]
    if ord(folded[-1]) < sys.maxunicode:
        where.append(column < folded[:-1] + chr(ord(folded[-1]) + 1))
    return where


def _user(row: Any, since: datetime | None = None) -> Entry:
    a = row.attributes or {}
    detail = " · ".join(str(a[k]) for k in ("mail", "department") if a.get(k))
    return Entry(
        "user",
        row.id,
        row.upn,
        str(a.get("displayName") or ""),
        detail,
        enabled=bool(row.account_enabled),
        deleted=row.deleted_at is not None,
        since=since,
    )


def _group(row: Any, members: int | None = None, since: datetime | None = None) -> Entry:
    a = row.attributes or {}
    return Entry(
        "group",
        row.id,
        row.display_name,
        row.display_name,
        str(a.get("description") or ""),
        deleted=row.deleted_at is not None,
        members=members,
        since=since,
    )


_USER_COLUMNS = (
    dir_users.c.id,
    dir_users.c.upn,
    dir_users.c.upn_ci,
    dir_users.c.attributes,
    dir_users.c.account_enabled,
    dir_users.c.deleted_at,
)
_GROUP_COLUMNS = (
    dir_groups.c.id,
    dir_groups.c.display_name,
    dir_groups.c.display_name_ci,
    dir_groups.c.attributes,
    dir_groups.c.deleted_at,
)


async def bounded_count(conn: AsyncConnection, query: sa.Select[Any]) -> int | None:
    """How many rows `query` has, or None when it has more than `COUNTED` (never counted)."""
    inner = query.limit(COUNTED + 1).subquery()
    counted = int((await conn.execute(sa.select(sa.func.count()).select_from(inner))).scalar_one())
    return counted if counted <= COUNTED else None


async def users_page(conn: AsyncConnection, search: str, after: CursorKey | None, size: int) -> Page[Entry]:
    """Directory users by userPrincipalName; `search` is a prefix of it."""
    where = _prefix(dir_users.c.upn_ci, search)
    query = sa.select(*_USER_COLUMNS).where(*where).order_by(dir_users.c.upn_ci).limit(size + 1)
    if after and isinstance(after[0], str):
        query = query.where(dir_users.c.upn_ci > after[0])
    rows = (await conn.execute(query)).all()
    total = await bounded_count(conn, sa.select(dir_users.c.upn_ci).where(*where))
    return page_of([_user(r) for r in rows], size, after is None, lambda e: [e.name.casefold()], total)


async def groups_page(conn: AsyncConnection, search: str, after: CursorKey | None, size: int) -> Page[Entry]:
    """Directory groups by displayName, with their member counts; `search` is a prefix of it."""
    where = _prefix(dir_groups.c.display_name_ci, search)
    query = sa.select(*_GROUP_COLUMNS).where(*where).order_by(dir_groups.c.display_name_ci).limit(size + 1)
    if after and isinstance(after[0], str):
        query = query.where(dir_groups.c.display_name_ci > after[0])
    rows = (await conn.execute(query)).all()
    counts = await member_counts(conn, [r.id for r in rows])
    total = await bounded_count(conn, sa.select(dir_groups.c.display_name_ci).where(*where))
    entries = [_group(r, counts.get(r.id, 0)) for r in rows]
    return page_of(entries, size, after is None, lambda e: [e.name.casefold()], total)


async def member_counts(conn: AsyncConnection, group_ids: Sequence[str]) -> dict[str, int]:
    if not group_ids:
        return {}
    m = dir_group_members.c
    rows = await conn.execute(
        sa.select(m.group_id, sa.func.count()).where(m.group_id.in_(group_ids)).group_by(m.group_id)
    )
    return {r[0]: int(r[1]) for r in rows}


async def pick(conn: AsyncConnection, search: str) -> list[Entry]:
    """The assignment picker's list: groups, then users, whose name starts with `search`."""
    groups = await conn.execute(
        sa.select(*_GROUP_COLUMNS)
        .where(*_prefix(dir_groups.c.display_name_ci, search), dir_groups.c.deleted_at.is_(None))
        .order_by(dir_groups.c.display_name_ci)
        .limit(PICKER_SIZE)
    )
    users = await conn.execute(
        sa.select(*_USER_COLUMNS)
        .where(*_prefix(dir_users.c.upn_ci, search), dir_users.c.deleted_at.is_(None))
        .order_by(dir_users.c.upn_ci)
        .limit(PICKER_SIZE)
    )
    return [_group(r) for r in groups] + [_user(r) for r in users]


async def entries(conn: AsyncConnection, kind: str, ids: Iterable[str]) -> dict[str, Entry]:
    """The directory users or groups with these ids (a page's worth), by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    if kind == "user":
        rows = await conn.execute(sa.select(*_USER_COLUMNS).where(dir_users.c.id.in_(wanted)))
        return {r.id: _user(r) for r in rows}
    rows = await conn.execute(sa.select(*_GROUP_COLUMNS).where(dir_groups.c.id.in_(wanted)))
    return {r.id: _group(r) for r in rows}


async def assignments_page(
    conn: AsyncConnection, app_id: int, after: CursorKey | None, size: int
) -> Page[Entry]:
    """An application's assignments: groups first, then users, each by name (a group's
    displayName, a user's userPrincipalName, case-folded; one no longer in the directory by its
    id), keyset-paged along (kind, name, id). The name comes from an outer join on the directory's
    primary keys, so a page sorts the app's assignments once (the assignments table has no name
    column to index; an app's assignments are few next to the directory)."""
    a, g, u = assignments.c, dir_groups.c, dir_users.c
    name = sa.func.coalesce(g.display_name_ci, u.upn_ci, a.source_id).label("sort_name")
    joined = assignments.outerjoin(dir_groups, (a.kind == "group") & (g.id == a.source_id)).outerjoin(
        dir_users, (a.kind == "user") & (u.id == a.source_id)
    )
    query = (
        sa.select(a.kind, a.source_id, a.assigned_at, name)
        .select_from(joined)
        .where(a.app_id == app_id)
        .order_by(a.kind, name, a.source_id)
        .limit(size + 1)
    )
    if after and len(after) == 3 and all(isinstance(v, str) for v in after):
        query = query.where(sa.tuple_(a.kind, name, a.source_id) > sa.tuple_(*(sa.literal(v) for v in after)))
    rows = (await conn.execute(query)).all()
    found = {
        kind: await entries(conn, kind, [r.source_id for r in rows if r.kind == kind])
        for kind in ("group", "user")
    }
    counts = await member_counts(conn, [r.source_id for r in rows if r.kind == "group"])
    keys = {(r.kind, r.source_id): r.sort_name for r in rows}
    shown = []
    for r in rows:
        entry = found[r.kind].get(r.source_id)
        if entry is None:  # purged from the directory: still assigned, shown by id
            entry = Entry(r.kind, r.source_id, r.source_id, "", "no longer in the directory", deleted=True)
        members = counts.get(r.source_id, 0) if r.kind == "group" else None
        shown.append(Entry(**{**_fields(entry), "since": r.assigned_at, "members": members}))
    total = await bounded_count(conn, sa.select(a.source_id).where(a.app_id == app_id))
    return page_of(shown, size, after is None, lambda e: [e.kind, keys[(e.kind, e.id)], e.id], total)


def _fields(entry: Entry) -> dict[str, Any]:
    return {f: getattr(entry, f) for f in Entry.__slots__}


async def group_members_page(
    conn: AsyncConnection, group_id: str, after: CursorKey | None, size: int
) -> Page[Entry]:
    """A group's direct members (users and nested groups), along the membership's primary key."""
    m = dir_group_members.c
    query = (
        sa.select(m.member_id, m.member_type)
        .where(m.group_id == group_id)
        .order_by(m.member_id)
        .limit(size + 1)
    )
    if after and isinstance(after[0], str):
        query = query.where(m.member_id > after[0])
    rows = (await conn.execute(query)).all()
    found = {
        kind: await entries(conn, kind, [r.member_id for r in rows if r.member_type == kind])
        for kind in ("group", "user")
    }
    shown = [
        found[r.member_type].get(r.member_id)
        or Entry(r.member_type, r.member_id, r.member_id, "", "not in the directory", deleted=True)
        for r in rows
    ]
    total = await bounded_count(conn, sa.select(m.member_id).where(m.group_id == group_id))
    return page_of(shown, size, after is None, lambda e: [e.id], total)


async def user_options(conn: AsyncConnection, search: str, limit: int = 20) -> list[str]:
    """userPrincipalNames starting with `search`, for Provision on demand's suggestions."""
    if not search.strip():
        return []
    rows = await conn.execute(
        sa.select(dir_users.c.upn)
        .where(*_prefix(dir_users.c.upn_ci, search))
        .order_by(dir_users.c.upn_ci)
        .limit(limit)
    )
    return [r[0] for r in rows]


async def log_record(conn: AsyncConnection, app_id: int, record_id: int) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            sa.select(provisioning_log).where(
                (provisioning_log.c.app_id == app_id) & (provisioning_log.c.id == record_id)
            )
        )
    ).first()
    return log_store.as_json(row) if row else None
