"""The users repository: rows of the `users` table and their email index, per tenant.

Terminated users stay in the table (the portal's reports keep them) but are invisible to SCIM:
every SCIM read here excludes them unless asked. Writers pass the split SCIM document
(`enlist.lms.domain.users.SplitUser`); the repository derives every column from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.db.planner import unindexed
from enlist.db.prepared import Prepared
from enlist.db.rows import chunks, new_id, now, paged
from enlist.lms.domain.users import UserFields, pending_manager
from enlist.lms.store.tables import group_members, groups, user_emails, users
from enlist.lms.store.value_lengths import check_user
from enlist.scim.schema import ENTERPRISE_USER_SCHEMA_ID


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: str
    user_name: str
    doc: dict[str, Any]
    status: str
    manager_id: str | None
    department_id: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    active_shown: bool

    @property
    def display(self) -> str:
        return str(self.doc.get("displayName") or self.user_name)


_COLUMNS = (
    users.c.id,
    users.c.user_name,
    users.c.doc,
    users.c.status,
    users.c.manager_id,
    users.c.department_id,
    users.c.version,
    users.c.created_at,
    users.c.updated_at,
    users.c.active_shown,
)


def _record(row: Any) -> UserRecord:
    return UserRecord(*row)


def visible(tenant_id: int) -> sa.ColumnElement[bool]:
    """Users of the tenant that SCIM can see (not terminated)."""
    return (users.c.tenant_id == tenant_id) & (users.c.status != "terminated")


_VISIBLE = (users.c.tenant_id == sa.bindparam("tenant_id")) & (users.c.status != "terminated")
_BY_ID = sa.select(*_COLUMNS).where(_VISIBLE & (users.c.id == sa.bindparam("user_id")))
_GET = Prepared(_BY_ID)
_GET_FOR_UPDATE = Prepared(_BY_ID.with_for_update())
_BY_LOGIN = (users.c.tenant_id == sa.bindparam("tenant_id")) & (users.c.user_name_ci == sa.bindparam("login"))
_FIND_BY_LOGIN = Prepared(sa.select(*_COLUMNS).where(_BY_LOGIN))
_FIND_VISIBLE_BY_LOGIN = Prepared(sa.select(*_COLUMNS).where(_BY_LOGIN & (users.c.status != "terminated")))


async def get_user(
    conn: AsyncConnection, tenant_id: int, user_id: str, *, for_update: bool = False
) -> UserRecord | None:
    query = _GET_FOR_UPDATE if for_update else _GET
    row = await query.first(conn, tenant_id=tenant_id, user_id=user_id)
    return _record(row) if row else None


async def find_by_user_name(conn: AsyncConnection, tenant_id: int, user_name: str) -> UserRecord | None:
    """Any user of the tenant with that login (case-insensitive), terminated ones included."""
    row = await _FIND_BY_LOGIN.first(conn, tenant_id=tenant_id, login=user_name.casefold())
    return _record(row) if row else None


async def find_visible_by_user_name(
    conn: AsyncConnection, tenant_id: int, user_name: str
) -> UserRecord | None:
    """The visible user with that login (case-insensitive): one lookup on the unique login index."""
    row = await _FIND_VISIBLE_BY_LOGIN.first(conn, tenant_id=tenant_id, login=user_name.casefold())
    return _record(row) if row else None


async def query_users(
    conn: AsyncConnection, tenant_id: int, where: sa.ColumnElement[bool] | None, start: int, count: int
) -> tuple[int, list[UserRecord]]:
    """One page of visible users matching `where`, ordered by login, and the total count."""
    condition = visible(tenant_id) if where is None else visible(tenant_id) & where
    return await paged(
        conn,
        sa.select(*_COLUMNS).where(condition).order_by(users.c.user_name_ci, users.c.id),
        sa.select(sa.func.count()).select_from(users).where(condition),
        start,
        count,
        _record,
    )


_INSERT_COLUMNS = (
    "id",
    "tenant_id",
    "doc",
    "status",
    "manager_id",
    "department_id",
    "version",
    "created_at",
    "updated_at",
    "status_changed_at",
    *UserFields.COLUMNS,
)
_INSERT = Prepared(users.insert().values({name: sa.bindparam(name) for name in _INSERT_COLUMNS}))


async def insert_user(
    conn: AsyncConnection,
    tenant_id: int,
    doc: dict[str, Any],
    fields: UserFields,
    *,
    status: str,
    manager_id: str | None,
    department_id: str,
) -> UserRecord:
    check_user(fields)
    moment = now()
    user_id = new_id()
    await _INSERT.run(
        conn,
        id=user_id,
        tenant_id=tenant_id,
        doc=doc,
        status=status,
        manager_id=manager_id,
        department_id=department_id,
        version=1,
        created_at=moment,
        updated_at=moment,
        status_changed_at=moment,
        **fields.columns(),
    )
    await _write_emails(conn, tenant_id, user_id, fields)
    return UserRecord(
        user_id,
        fields.user_name,
        doc,
        status,
        manager_id,
        department_id,
        1,
        moment,
        moment,
        active_shown=True,
    )


async def update_user(
    conn: AsyncConnection,
    tenant_id: int,
    old: UserRecord,
    doc: dict[str, Any],
    fields: UserFields,
    *,
    status: str,
    manager_id: str | None,
    active_shown: bool = True,
) -> UserRecord:
    """Write the new state of a user; bumps the version. Emails are rewritten only if they changed."""
    check_user(fields)
    moment = now()
    values: dict[str, Any] = {
        "doc": doc,
        "manager_id": manager_id,
        "active_shown": active_shown,
        "version": old.version + 1,
        "updated_at": moment,
        **fields.columns(),
    }
    if status != old.status:
        values["status"] = status
        values["status_changed_at"] = moment
    await conn.execute(
        users.update().where((users.c.tenant_id == tenant_id) & (users.c.id == old.id)).values(**values)
    )
    if doc.get("emails") != old.doc.get("emails"):
        await conn.execute(user_emails.delete().where(user_emails.c.user_id == old.id))
        await _write_emails(conn, tenant_id, old.id, fields)
    return UserRecord(
        old.id,
        fields.user_name,
        doc,
        status,
        manager_id,
        old.department_id,
        old.version + 1,
        old.created_at,
        moment,
        active_shown,
    )


async def find_visible_by_external_id(conn: AsyncConnection, tenant_id: int, external_id: str) -> str | None:
    """The id of a visible user whose externalId is `external_id` (exact), if exactly one has it."""
    rows = await conn.execute(
        sa.select(users.c.id).where(visible(tenant_id) & (users.c.external_id == external_id)).limit(2)
    )
    found = [r[0] for r in rows]
    return found[0] if len(found) == 1 else None


async def resolve_pending_managers(
    conn: AsyncConnection, tenant_id: int, manager_id: str, references: list[str]
) -> list[tuple[str, str, str]]:
    """Point the users whose pending manager reference (ADR 0011) is one of `references` (the
    arriving user's id and externalId) at `manager_id`; each one's (id, userName, reference
    resolved). One indexed read, then one
    write per waiting user: a pending reference sits in the manager column, marked by the
    `manager` its document still carries (`enlist.lms.domain.users.pending_manager`)."""
    wanted = sorted({r for r in references if r})
    rows = await conn.execute(
        sa.select(users.c.id, users.c.user_name, users.c.doc, users.c.version)
        .where(visible(tenant_id) & users.c.manager_id.in_(wanted) & (users.c.id != manager_id))
        .with_for_update()
    )
    resolved: list[tuple[str, str, str]] = []
    for user_id, user_name, doc, version in rows.all():
        reference = pending_manager(doc)
        if reference is None or reference not in wanted:
            continue  # already resolved to this user: nothing pending
        enterprise = {k: v for k, v in doc[ENTERPRISE_USER_SCHEMA_ID].items() if k != "manager"}
        rest = {k: v for k, v in doc.items() if k != ENTERPRISE_USER_SCHEMA_ID}
        new_doc = {**rest, ENTERPRISE_USER_SCHEMA_ID: enterprise} if enterprise else rest
        await conn.execute(
            users.update()
            .where((users.c.tenant_id == tenant_id) & (users.c.id == user_id))
            .values(doc=new_doc, manager_id=manager_id, version=version + 1, updated_at=now())
        )
        resolved.append((user_id, user_name, reference))
    return resolved


async def terminate_user(conn: AsyncConnection, tenant_id: int, user: UserRecord) -> None:
    """Employment ended: the user leaves SCIM's view and every group, and keeps their history."""
    moment = now()
    await conn.execute(
        users.update()
        .where((users.c.tenant_id == tenant_id) & (users.c.id == user.id))
        .values(status="terminated", status_changed_at=moment, updated_at=moment, version=user.version + 1)
    )
    await conn.execute(group_members.delete().where(group_members.c.user_id == user.id))
    await _forget_manager(conn, tenant_id, user.id)


async def free_login(conn: AsyncConnection, tenant_id: int, user: UserRecord) -> None:
    """Let a terminated user's login go to someone else: the terminated record keeps its
    history under the login with a suffix naming it (`login~terminated-<id prefix>`)."""
    freed = f"{user.user_name}~terminated-{user.id[:8]}"
    await conn.execute(
        users.update()
        .where((users.c.tenant_id == tenant_id) & (users.c.id == user.id))
        .values(user_name=freed, user_name_ci=freed.casefold(), updated_at=now())
    )


async def move_to_department(
    conn: AsyncConnection, tenant_id: int, user_ids: list[str], department_id: str
) -> None:
    for part in chunks(user_ids):
        await conn.execute(
            users.update()
            .where((unindexed(users.c.tenant_id) == tenant_id) & users.c.id.in_(part))
            .values(department_id=department_id)
        )


async def erase_user(conn: AsyncConnection, tenant_id: int, user: UserRecord) -> None:
    """Remove the user and everything that points at them."""
    await _forget_manager(conn, tenant_id, user.id)
    await conn.execute(group_members.delete().where(group_members.c.user_id == user.id))
    await conn.execute(user_emails.delete().where(user_emails.c.user_id == user.id))
    await conn.execute(users.delete().where((users.c.tenant_id == tenant_id) & (users.c.id == user.id)))


async def _forget_manager(conn: AsyncConnection, tenant_id: int, user_id: str) -> None:
    await conn.execute(
        users.update()
        .where((users.c.tenant_id == tenant_id) & (users.c.manager_id == user_id))
        .values(manager_id=None, version=users.c.version + 1, updated_at=now())
    )


async def count_active(conn: AsyncConnection, tenant_id: int) -> int:
    query = sa.select(sa.func.count()).where((users.c.tenant_id == tenant_id) & (users.c.status == "active"))
    return int((await conn.execute(query)).scalar_one())


_EXISTS = Prepared(sa.select(users.c.id).where(_VISIBLE & (users.c.id == sa.bindparam("user_id"))))


async def existing_user_ids(conn: AsyncConnection, tenant_id: int, ids: list[str]) -> set[str]:
    """Which of `ids` are visible users of the tenant: one indexed query per 500 ids on SQLite,
    one for all of them on PostgreSQL (`id = ANY(array)`)."""
    unique = sorted(set(ids))
    if len(unique) == 1:
        return {row[0] for row in await _EXISTS.rows(conn, tenant_id=tenant_id, user_id=unique[0])}
    visible = (unindexed(users.c.tenant_id) == tenant_id) & (users.c.status != "terminated")
    if conn.dialect.name == "postgresql":
        # One array parameter, not 500: asyncpg prepares each statement, and after five runs
        # PostgreSQL may switch a 500-parameter IN to a generic plan that walks the tenant's
        # whole (tenant_id, ...) index: a second per statement, 100 statements for a
        # 50,000-member group. `= ANY($1)` is planned on the primary key whatever its length.
        array = sa.bindparam("ids", unique, type_=postgresql.ARRAY(users.c.id.type))
        rows = await conn.execute(sa.select(users.c.id).where(visible & (users.c.id == sa.any_(array))))
        return {r[0] for r in rows}
    found: set[str] = set()
    for part in chunks(unique):
        rows = await conn.execute(sa.select(users.c.id).where(visible & users.c.id.in_(part)))
        found.update(r[0] for r in rows)
    return found


_GROUPS_OF_ONE = Prepared(
    sa.select(groups.c.id, groups.c.display_name)
    .join(groups, groups.c.id == group_members.c.group_id)
    .where(
        (group_members.c.tenant_id == sa.bindparam("tenant_id"))
        & (group_members.c.user_id == sa.bindparam("user_id"))
    )
    .order_by(groups.c.display_name_ci)
)


async def groups_of(
    conn: AsyncConnection, tenant_id: int, user_ids: list[str]
) -> dict[str, list[tuple[str, str]]]:
    """`{user_id: [(group_id, displayName), …]}` for the users of one page."""
    result: dict[str, list[tuple[str, str]]] = {u: [] for u in user_ids}
    if len(user_ids) == 1:
        found = await _GROUPS_OF_ONE.rows(conn, tenant_id=tenant_id, user_id=user_ids[0])
        result[user_ids[0]] = [(group_id, name) for group_id, name in found]
        return result
    for part in chunks(user_ids):
        rows = await conn.execute(
            sa.select(group_members.c.user_id, groups.c.id, groups.c.display_name)
            .join(groups, groups.c.id == group_members.c.group_id)
            .where((unindexed(group_members.c.tenant_id) == tenant_id) & group_members.c.user_id.in_(part))
            .order_by(groups.c.display_name_ci)
        )
        for user_id, group_id, name in rows:
            result[user_id].append((group_id, name))
    return result


_INSERT_EMAIL = Prepared(
    user_emails.insert().values(
        {
            name: sa.bindparam(name)
            for name in ("user_id", "position", "tenant_id", "value_ci", "type", "is_primary")
        }
    )
)


async def _write_emails(conn: AsyncConnection, tenant_id: int, user_id: str, fields: UserFields) -> None:
    if not fields.emails:
        return
    await _INSERT_EMAIL.run_many(
        conn,
        [
            {
                "user_id": user_id,
                "position": i,
                "tenant_id": tenant_id,
                "value_ci": value.casefold(),
                "type": kind,
                "is_primary": primary,
            }
            for i, (value, kind, primary) in enumerate(fields.emails)
        ],
    )
