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


# The sections of the assignments list, in order: a section's rows walk the directory's name
# index ("gone": assignments whose directory object was purged, by id).
_SECTIONS = ("group", "user", "gone")


async def _assigned_section(
    conn: AsyncConnection, app_id: int, section: str, after: tuple[str, str] | None, limit: int
) -> list[tuple[str, str, str, datetime]]:
    """At least `limit` (kind, sort name, id, assigned_at) of one section after (name, id) when
    there are that many, in (name, id) order. The statements walk an index and never sort: users
    by their unique userPrincipalName; groups by displayName, whose ties (group names are unique
    only per source) are read whole by an equality search and ordered by id here."""
    a = assignments.c
    if section == "gone":
        in_groups = sa.exists().where(dir_groups.c.id == a.source_id)
        in_users = sa.exists().where(dir_users.c.id == a.source_id)
        query = sa.select(a.kind, a.source_id.label("name"), a.source_id, a.assigned_at).where(
            a.app_id == app_id,
            ((a.kind == "group") & ~in_groups) | ((a.kind == "user") & ~in_users),
        )
        if after is not None:
            query = query.where(a.source_id > after[1])
        return _tuples(await conn.execute(query.order_by(a.source_id).limit(limit)))
    table, name = (
        (dir_groups, dir_groups.c.display_name_ci) if section == "group" else (dir_users, dir_users.c.upn_ci)
    )
    # A correlated lookup, not a join: the planner then walks the directory's name index (the
    # order wanted) and probes the assignments' primary key, rather than sorting.
    assigned = (a.app_id == app_id) & (a.kind == section) & (a.source_id == table.c.id)
    query = sa.select(
        sa.literal(section).label("kind"),
        name.label("name"),
        table.c.id.label("source_id"),
        sa.select(a.assigned_at).where(assigned).scalar_subquery().label("assigned_at"),
    ).where(sa.exists().where(assigned))
    found: list[tuple[str, str, str, datetime]] = []
    if after is not None and section == "group":  # the rest of a tie the last page ended in
        found = _tuples(await conn.execute(query.where(name == after[0], table.c.id > after[1])))
    rest = query.where(name > after[0]) if after is not None else query
    found += _tuples(await conn.execute(rest.order_by(name).limit(limit)))
    if section == "group" and len(found) >= limit:  # read the last name's tie whole
        last = found[-1][1]
        found = [r for r in found if r[1] != last]
        found += _tuples(await conn.execute(query.where(name == last)))
    return sorted(found, key=lambda r: (r[1], r[2]))


def _tuples(rows: Iterable[Any]) -> list[tuple[str, str, str, datetime]]:
    return [(r.kind, r.name, r.source_id, r.assigned_at) for r in rows]


async def assignments_page(
    conn: AsyncConnection, app_id: int, after: CursorKey | None, size: int
) -> Page[Entry]:
    """An application's assignments: groups by displayName, then users by userPrincipalName
    (case-folded), then any whose directory object was purged, by id; keyset-paged along
    (section, name, id). Each section walks the directory's name index and probes the
    assignments' primary key, so no page sorts: a page reads its rows plus the directory rows
    between them that are not assigned (few when groups are assigned, the usual case)."""
    start = 0
    position: tuple[str, str] | None = None
    if after and len(after) == 3 and all(isinstance(v, str) for v in after) and after[0] in _SECTIONS:
        start = _SECTIONS.index(str(after[0]))
        position = (str(after[1]), str(after[2]))
    rows: list[tuple[str, str, str, datetime, str]] = []
    for section in _SECTIONS[start:]:
        found = await _assigned_section(conn, app_id, section, position, size + 1 - len(rows))
        rows += [(*r, section) for r in found]
        position = None
        if len(rows) > size:
            break
    rows = rows[: size + 1]  # a tie read whole may bring more; the cursor carries (name, id)
    found_entries = {
        kind: await entries(conn, kind, [r[2] for r in rows if r[0] == kind]) for kind in ("group", "user")
    }
    keys: dict[tuple[str, str], CursorKey] = {}
    shown = []
    for kind, name, source_id, since, section in rows:
        entry = found_entries[kind].get(source_id)
        if entry is None:  # purged from the directory: still assigned, shown by id
            entry = Entry(kind, source_id, source_id, "", "no longer in the directory", deleted=True)
        shown.append(Entry(**{**_fields(entry), "since": since}))
        keys[(kind, source_id)] = [section, name, source_id]
    total = await bounded_count(
        conn, sa.select(assignments.c.source_id).where(assignments.c.app_id == app_id)
    )
    return page_of(shown, size, after is None, lambda e: keys[(e.kind, e.id)], total)


def _fields(entry: Entry) -> dict[str, Any]:
    return {f: getattr(entry, f) for f in Entry.__slots__}


async def group_members_page(
    conn: AsyncConnection, group_id: str, after: CursorKey | None, size: int
) -> Page[Entry]:
    """A group's direct members (users and nested groups), along the membership's primary key:
    a stable order, by directory id. Not by name: the membership table holds no name, and sorting
    a 100,000-member group's names for every page is the cost `test_provisioning_scale` forbids."""
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
