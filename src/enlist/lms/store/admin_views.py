"""What the portal's admin pages read about users and groups: keyset pages that stay fast at scale.

Every list here is one index range read in index order, `size + 1` rows after a cursor, so the
500th page costs what the first does. Logins (`user_name_ci`) and group names
(`display_name_ci`) are unique per tenant, so each is its own cursor. Counts shown beside a list
are bounded (`COUNT_CAP`): past it a page says "more than" instead of counting every row.

Searching users matches the *start* of the login, the display name, the family name or an email
address. Each of those is a range on an index the SCIM filters already need, so a search reads
the matches, not the tenant: a "contains" search would read all 100,000 rows every time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.lms.store.tables import departments, group_members, groups, user_emails, users
from enlist.web.paging import PAGE_SIZE, CursorKey, Page, page_of

COUNT_CAP = 2000
_BEYOND = "\U0010ffff"  # sorts after every character: `x >= p AND x < p + _BEYOND` is "starts with p"

manager_users = users.alias("manager")


@dataclass(frozen=True, slots=True)
class UserRow:
    """A user as a list shows them."""

    id: str
    user_name: str
    display_name: str | None
    email: str | None
    status: str
    department_id: str | None
    department_name: str | None


@dataclass(frozen=True, slots=True)
class UserDetail:
    """A user as their own page shows them (terminated users included)."""

    id: str
    user_name: str
    external_id: str | None
    doc: dict[str, Any]
    status: str
    department_id: str | None
    department_name: str | None
    manager_id: str | None
    manager_name: str | None
    created_at: datetime
    updated_at: datetime
    status_changed_at: datetime
    version: int


@dataclass(frozen=True, slots=True)
class GroupRow:
    id: str
    display_name: str
    external_id: str | None
    members: int


@dataclass(frozen=True, slots=True)
class MemberRow:
    id: str
    user_name: str
    display_name: str | None
    status: str
    added_at: datetime


@dataclass(frozen=True, slots=True)
class UserFilter:
    """The Users page's filters; every one optional."""

    search: str = ""
    status: str = ""
    department_id: str = ""


def starts_with(column: sa.ColumnElement[Any], prefix: str) -> sa.ColumnElement[bool]:
    """`column` starts with `prefix`, as an index range (LIKE would need a special index or
    collation to use one, and would need escaping)."""
    return (column >= prefix) & (column < prefix + _BEYOND)


async def status_counts(conn: AsyncConnection, tenant_id: int) -> dict[str, int]:
    """Users per status: one read of the (tenant, status, login) index, no table rows."""
    rows = await conn.execute(
        sa.select(users.c.status, sa.func.count())
        .where(users.c.tenant_id == tenant_id)
        .group_by(users.c.status)
    )
    counts = {"active": 0, "inactive": 0, "terminated": 0}
    counts.update({status: int(n) for status, n in rows})
    return counts


_USER_ROW = (
    users.c.id,
    users.c.user_name,
    users.c.display_name,
    users.c.email,
    users.c.status,
    users.c.department_id,
    departments.c.name,
)


def _user_rows_from(where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    return (
        sa.select(*_USER_ROW)
        .select_from(users.outerjoin(departments, departments.c.id == users.c.department_id))
        .where(where)
    )


def _matching_ids(tenant_id: int, text: str) -> sa.CompoundSelect[Any]:
    """Ids of the tenant's users whose login, display name, family name or an email address
    starts with `text` (each branch one index range)."""
    mine = users.c.tenant_id == tenant_id
    return sa.union(
        sa.select(users.c.id).where(mine & starts_with(users.c.user_name_ci, text)),
        sa.select(users.c.id).where(mine & starts_with(users.c.display_name_ci, text)),
        sa.select(users.c.id).where(mine & starts_with(users.c.family_name_ci, text)),
        sa.select(user_emails.c.user_id).where(
            (user_emails.c.tenant_id == tenant_id) & starts_with(user_emails.c.value_ci, text)
        ),
    )


async def users_page(
    conn: AsyncConnection, tenant_id: int, wanted: UserFilter, after: CursorKey | None, size: int = PAGE_SIZE
) -> Page[UserRow]:
    """One page of the tenant's users in login order, with a bounded total."""
    where = users.c.tenant_id == tenant_id
    if wanted.status:
        where = where & (users.c.status == wanted.status)
    if wanted.department_id:
        where = where & (users.c.department_id == wanted.department_id)
    cursor = str(after[0]) if after and isinstance(after[0], str) else None
    text = wanted.search.strip().casefold()
    if text:
        return await _search_page(conn, tenant_id, where, text, cursor, size)
    total = await conn.scalar(
        sa.select(sa.func.count()).select_from(
            sa.select(users.c.id).where(where).limit(COUNT_CAP + 1).subquery()
        )
    )
    if cursor is not None:
        where = where & (users.c.user_name_ci > cursor)
    rows = (await conn.execute(_user_rows_from(where).order_by(users.c.user_name_ci).limit(size + 1))).all()
    return page_of([UserRow(*r) for r in rows], size, cursor is None, _login_key, int(total or 0))


async def _search_page(
    conn: AsyncConnection,
    tenant_id: int,
    where: sa.ColumnElement[bool],
    text: str,
    cursor: str | None,
    size: int,
) -> Page[UserRow]:
    # A search with few matches reads them through the four prefix ranges and sorts them here;
    # one with many matches (a single letter) walks the login index instead, where a page's
    # worth of matches turns up quickly. Either way: two statements, bounded work.
    found = (
        await conn.execute(
            sa.select(users.c.user_name_ci, users.c.id)
            .where(where & users.c.id.in_(_matching_ids(tenant_id, text)))
            .limit(COUNT_CAP + 1)
        )
    ).all()
    if len(found) <= COUNT_CAP:
        ordered = sorted((login, user_id) for login, user_id in found if cursor is None or login > cursor)
        ids = [user_id for _login, user_id in ordered[: size + 1]]
        rows = (await conn.execute(_user_rows_from(users.c.id.in_(ids)))).all()
        by_id = {r.id: UserRow(*r) for r in rows}
        return page_of([by_id[i] for i in ids if i in by_id], size, cursor is None, _login_key, len(found))
    matches = (
        starts_with(users.c.user_name_ci, text)
        | starts_with(users.c.display_name_ci, text)
        | starts_with(users.c.family_name_ci, text)
        | users.c.id.in_(
            sa.select(user_emails.c.user_id).where(
                (user_emails.c.tenant_id == tenant_id) & starts_with(user_emails.c.value_ci, text)
            )
        )
    )
    if cursor is not None:
        where = where & (users.c.user_name_ci > cursor)
    rows = (
        await conn.execute(_user_rows_from(where & matches).order_by(users.c.user_name_ci).limit(size + 1))
    ).all()
    return page_of([UserRow(*r) for r in rows], size, cursor is None, _login_key, COUNT_CAP + 1)


def _login_key(row: UserRow) -> CursorKey:
    return [row.user_name.casefold()]


async def user_detail(conn: AsyncConnection, tenant_id: int, user_id: str) -> UserDetail | None:
    """The user with their department's and manager's names, in one statement."""
    row = (
        await conn.execute(
            sa.select(
                users.c.id,
                users.c.user_name,
                users.c.external_id,
                users.c.doc,
                users.c.status,
                users.c.department_id,
                departments.c.name,
                users.c.manager_id,
                manager_users.c.user_name,
                users.c.created_at,
                users.c.updated_at,
                users.c.status_changed_at,
                users.c.version,
            )
            .select_from(
                users.outerjoin(departments, departments.c.id == users.c.department_id).outerjoin(
                    manager_users, manager_users.c.id == users.c.manager_id
                )
            )
            .where((users.c.tenant_id == tenant_id) & (users.c.id == user_id))
        )
    ).first()
    return UserDetail(*tuple(row)) if row else None


async def groups_page(
    conn: AsyncConnection, tenant_id: int, search: str, after: CursorKey | None, size: int = PAGE_SIZE
) -> Page[GroupRow]:
    """One page of groups by name (prefix search), each with its member count."""
    where = groups.c.tenant_id == tenant_id
    text = search.strip().casefold()
    if text:
        where = where & starts_with(groups.c.display_name_ci, text)
    total = await conn.scalar(
        sa.select(sa.func.count()).select_from(
            sa.select(groups.c.id).where(where).limit(COUNT_CAP + 1).subquery()
        )
    )
    cursor = str(after[0]) if after and isinstance(after[0], str) else None
    if cursor is not None:
        where = where & (groups.c.display_name_ci > cursor)
    rows = (
        await conn.execute(
            sa.select(groups.c.id, groups.c.display_name, groups.c.external_id)
            .where(where)
            .order_by(groups.c.display_name_ci)
            .limit(size + 1)
        )
    ).all()
    counts = await member_counts(conn, [r.id for r in rows])
    found = [GroupRow(r.id, r.display_name, r.external_id, counts.get(r.id, 0)) for r in rows]
    return page_of(found, size, cursor is None, lambda g: [g.display_name.casefold()], int(total or 0))


async def member_counts(conn: AsyncConnection, group_ids: list[str]) -> dict[str, int]:
    """Members per group for one page of groups (reads the membership key, not the rows)."""
    if not group_ids:
        return {}
    rows = await conn.execute(
        sa.select(group_members.c.group_id, sa.func.count())
        .where(group_members.c.group_id.in_(group_ids))
        .group_by(group_members.c.group_id)
    )
    return {group_id: int(n) for group_id, n in rows}


async def members_page(
    conn: AsyncConnection, group_id: str, after: CursorKey | None, size: int = PAGE_SIZE
) -> Page[MemberRow]:
    """One page of a group's members in the order they joined (keyset on added_at, user id)."""
    where = group_members.c.group_id == group_id
    first = True
    if after and len(after) == 2 and isinstance(after[0], str) and isinstance(after[1], str):
        try:
            joined = datetime.fromisoformat(after[0])
        except ValueError:
            joined = None
        if joined is not None and joined.tzinfo is not None:
            where = where & (
                sa.tuple_(group_members.c.added_at, group_members.c.user_id)
                > sa.tuple_(sa.literal(joined, group_members.c.added_at.type), sa.literal(after[1]))
            )
            first = False
    rows = (
        await conn.execute(
            sa.select(
                users.c.id, users.c.user_name, users.c.display_name, users.c.status, group_members.c.added_at
            )
            .select_from(group_members.join(users, users.c.id == group_members.c.user_id))
            .where(where)
            .order_by(group_members.c.added_at, group_members.c.user_id)
            .limit(size + 1)
        )
    ).all()
    return page_of([MemberRow(*r) for r in rows], size, first, lambda m: [m.added_at.isoformat(), m.id])
