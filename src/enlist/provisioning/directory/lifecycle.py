"""Soft delete, restore and hard delete of users and groups, as Entra's recycle bin does them.

Soft delete keeps the object, its attributes, manager and memberships, and sets `deleted_at`; the
object stays restorable for `RETENTION`, then `purge_deleted` (which the service runs on a timer)
hard-deletes it. A hard delete removes the row and every membership row that names it, and
records a change for the object itself, one `membership` change per group that lost it as a
member, and one `user` change per report whose manager it was (their manager is cleared). A
group's own member list goes with it without entries: the group is gone.

The feed then says, for an object id, what Graph's delta says with `@removed`: the row with
`deleted_at` set is `changed` (soft-deleted, restorable), no row at all is `deleted`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.provisioning.directory.errors import NotRestorableError, ObjectNotFoundError
from enlist.provisioning.directory.feed import ChangeKind, append, chunks, lock_feed, record, utcnow
from enlist.provisioning.directory.tables import dir_group_members, dir_groups, dir_users

RETENTION = timedelta(days=30)
"""How long a soft-deleted object stays restorable (Entra: 30 days)."""


async def soft_delete_users(
    conn: AsyncConnection, ids: Iterable[str], *, now: datetime | None = None
) -> list[str]:
    """Soft-delete the users among `ids` that exist and are not deleted yet; the ids it deleted."""
    return await _soft_delete(conn, dir_users, "user", ids, now or utcnow())


async def soft_delete_groups(
    conn: AsyncConnection, ids: Iterable[str], *, now: datetime | None = None
) -> list[str]:
    """Soft-delete the groups among `ids` that exist and are not deleted yet; the ids it deleted."""
    return await _soft_delete(conn, dir_groups, "group", ids, now or utcnow())


async def soft_delete_user(conn: AsyncConnection, user_id: str, *, now: datetime | None = None) -> bool:
    """Soft-delete one user: True, or False when it was soft-deleted already."""
    await _require(conn, dir_users, user_id)
    return bool(await soft_delete_users(conn, [user_id], now=now))


async def soft_delete_group(conn: AsyncConnection, group_id: str, *, now: datetime | None = None) -> bool:
    """Soft-delete one group: True, or False when it was soft-deleted already."""
    await _require(conn, dir_groups, group_id)
    return bool(await soft_delete_groups(conn, [group_id], now=now))


async def _soft_delete(
    conn: AsyncConnection, table: sa.Table, kind: ChangeKind, ids: Iterable[str], moment: datetime
) -> list[str]:
    await lock_feed(conn)
    targets: list[str] = []
    for part in chunks(sorted(set(ids))):
        rows = await conn.execute(
            sa.select(table.c.id).where(table.c.id.in_(part) & table.c.deleted_at.is_(None))
        )
        targets.extend(r[0] for r in rows)
    await _stamp(conn, table, kind, targets, moment, deleted_at=moment)
    return targets


async def _stamp(
    conn: AsyncConnection,
    table: sa.Table,
    kind: ChangeKind,
    ids: list[str],
    moment: datetime,
    **values: Any,
) -> None:
    """Record one change per object and write `values` with the object's new seq."""
    seqs = await record(conn, [(kind, i, None) for i in ids], moment)
    if ids:
        await conn.execute(
            table.update().where(table.c.id == sa.bindparam("b_id")),
            [{"b_id": i, "seq": s, "updated_at": moment, **values} for i, s in zip(ids, seqs, strict=True)],
        )


async def restore_users(
    conn: AsyncConnection,
    ids: Iterable[str],
    *,
    now: datetime | None = None,
    retention: timedelta = RETENTION,
) -> list[str]:
    """Bring back soft-deleted users with their attributes, manager and memberships; the ids it
    restored (those not deleted are left alone). Raises `NotRestorableError` when one was deleted
    longer than `retention` ago, `ObjectNotFoundError` when one does not exist (never did, or
    was purged)."""
    return await _restore(conn, dir_users, "user", ids, now or utcnow(), retention)


async def restore_groups(
    conn: AsyncConnection,
    ids: Iterable[str],
    *,
    now: datetime | None = None,
    retention: timedelta = RETENTION,
) -> list[str]:
    """Bring back soft-deleted groups with their members; as `restore_users`."""
    return await _restore(conn, dir_groups, "group", ids, now or utcnow(), retention)


async def restore_user(
    conn: AsyncConnection, user_id: str, *, now: datetime | None = None, retention: timedelta = RETENTION
) -> bool:
    """`restore_users` for one user: True, or False when it was not deleted."""
    return bool(await restore_users(conn, [user_id], now=now, retention=retention))


async def restore_group(
    conn: AsyncConnection, group_id: str, *, now: datetime | None = None, retention: timedelta = RETENTION
) -> bool:
    """`restore_groups` for one group: True, or False when it was not deleted."""
    return bool(await restore_groups(conn, [group_id], now=now, retention=retention))


async def _restore(
    conn: AsyncConnection,
    table: sa.Table,
    kind: ChangeKind,
    ids: Iterable[str],
    moment: datetime,
    retention: timedelta,
) -> list[str]:
    await lock_feed(conn)
    wanted = sorted(set(ids))
    found: dict[str, datetime | None] = {}
    for part in chunks(wanted):
        rows = await conn.execute(sa.select(table.c.id, table.c.deleted_at).where(table.c.id.in_(part)))
        found.update((r.id, r.deleted_at) for r in rows)
    for object_id in wanted:
        if object_id not in found:
            raise ObjectNotFoundError(f"no {kind} {object_id}")
        deleted_at = found[object_id]
        if deleted_at is not None and moment - deleted_at > retention:
            raise NotRestorableError(
                f"{kind} {object_id} was deleted on {deleted_at:%Y-%m-%d}, beyond the retention"
            )
    targets = [i for i in wanted if found[i] is not None]
    await _stamp(conn, table, kind, targets, moment, deleted_at=None)
    return targets


async def _require(conn: AsyncConnection, table: sa.Table, object_id: str) -> datetime | None:
    """The object's `deleted_at`; raises `ObjectNotFoundError` when there is no such object."""
    row = (await conn.execute(sa.select(table.c.deleted_at).where(table.c.id == object_id))).first()
    if row is None:
        raise ObjectNotFoundError(f"no {'user' if table is dir_users else 'group'} {object_id}")
    return row.deleted_at  # type: ignore[no-any-return]


async def purge_deleted(conn: AsyncConnection, now: datetime, retention: timedelta = RETENTION) -> int:
    """Hard-delete every user and group soft-deleted longer than `retention` before `now`; how
    many objects it removed."""
    cutoff = now - retention
    await lock_feed(conn)
    users = (await conn.execute(sa.select(dir_users.c.id).where(dir_users.c.deleted_at < cutoff))).all()
    groups = (await conn.execute(sa.select(dir_groups.c.id).where(dir_groups.c.deleted_at < cutoff))).all()
    await _hard_delete_users(conn, sorted(r[0] for r in users), now)
    await _hard_delete_groups(conn, sorted(r[0] for r in groups), now)
    return len(users) + len(groups)


async def hard_delete_user(conn: AsyncConnection, user_id: str, *, now: datetime | None = None) -> None:
    """Remove a user at once, deleted or not (see the module's rules for what it records)."""
    await lock_feed(conn)
    await _require(conn, dir_users, user_id)
    await _hard_delete_users(conn, [user_id], now or utcnow())


async def hard_delete_group(conn: AsyncConnection, group_id: str, *, now: datetime | None = None) -> None:
    """Remove a group at once, deleted or not, with its member list."""
    await lock_feed(conn)
    await _require(conn, dir_groups, group_id)
    await _hard_delete_groups(conn, [group_id], now or utcnow())


async def _leave_groups(conn: AsyncConnection, ids: list[str], member_type: str, moment: datetime) -> None:
    """Remove `ids` from every group that has them as members, recording each removal."""
    m = dir_group_members.c
    for part in chunks(ids):
        where = m.member_id.in_(part) & (m.member_type == member_type)
        rows = (await conn.execute(sa.select(m.group_id, m.member_id).where(where))).all()
        if rows:
            await conn.execute(dir_group_members.delete().where(where))
            await append(conn, [("membership", g, m) for g, m in rows], moment)


async def _hard_delete_users(conn: AsyncConnection, ids: list[str], moment: datetime) -> None:
    if not ids:
        return
    await _leave_groups(conn, ids, "user", moment)
    gone = set(ids)
    for part in chunks(ids):
        rows = await conn.execute(sa.select(dir_users.c.id).where(dir_users.c.manager_id.in_(part)))
        reports = sorted(r[0] for r in rows if r[0] not in gone)
        await _stamp(conn, dir_users, "user", reports, moment, manager_id=None)
    for part in chunks(ids):
        await conn.execute(dir_users.delete().where(dir_users.c.id.in_(part)))
    await append(conn, [("user", i, None) for i in ids], moment)


async def _hard_delete_groups(conn: AsyncConnection, ids: list[str], moment: datetime) -> None:
    if not ids:
        return
    await _leave_groups(conn, ids, "group", moment)
    for part in chunks(ids):
        await conn.execute(dir_group_members.delete().where(dir_group_members.c.group_id.in_(part)))
        await conn.execute(dir_groups.delete().where(dir_groups.c.id.in_(part)))
    await append(conn, [("group", i, None) for i in ids], moment)
