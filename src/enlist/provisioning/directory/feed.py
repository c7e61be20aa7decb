"""The change feed's write side, shared by every writer of the directory.

A writer calls `lock_feed` before its first write and `record` for each change, in its own
transaction. On PostgreSQL `lock_feed` takes one transaction-scoped advisory lock, so writers of
the directory run one at a time and commit in seq order: a reader that has seen seq N has seen
every change below N that will ever commit, and a watermark is simply the highest seq read.
(A seq taken by a transaction that rolled back leaves a gap; gaps mean nothing.) SQLite
serialises writers already.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.provisioning.directory.tables import dir_changes

ChangeKind = Literal["user", "group", "membership"]
Change = tuple[ChangeKind, str, str | None]
"""(kind, object id, member id): for a membership the object is the group."""

CHUNK = 500
_FEED_LOCK = 0x656E6C697374  # any fixed bigint: "enlist" in ASCII


def utcnow() -> datetime:
    return datetime.now(UTC)


def chunks(items: Sequence[Any]) -> list[Sequence[Any]]:
    """Split a long IN list so no statement exceeds the database's parameter limits."""
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


async def lock_feed(conn: AsyncConnection) -> None:
    """Serialise this transaction with every other writer of the directory (PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_FEED_LOCK)))


async def append(conn: AsyncConnection, changes: Sequence[Change], at: datetime) -> None:
    """Append the changes to the feed, in this order."""
    await lock_feed(conn)
    if changes:
        rows = [{"kind": k, "object_id": o, "member_id": m, "at": at} for k, o, m in changes]
        await conn.execute(dir_changes.insert(), rows)


async def record(conn: AsyncConnection, changes: Sequence[Change], at: datetime) -> list[int]:
    """`append`, and the seq each change got, in the same order.

    The seqs are read back rather than taken from `RETURNING`: SQLite does not promise the order
    of a bulk insert's `RETURNING` rows, and asking SQLAlchemy to sort them makes it insert one
    row at a time (15 times slower). Under the feed lock every seq above the maximum read before
    the insert is this transaction's."""
    if not changes:
        return []
    await lock_feed(conn)
    c = dir_changes.c
    before = (await conn.execute(sa.select(sa.func.coalesce(sa.func.max(c.seq), 0)))).scalar_one()
    await append(conn, changes, at)
    rows = await conn.execute(sa.select(c.seq, c.kind, c.object_id, c.member_id).where(c.seq > before))
    seqs = {(kind, object_id, member_id): seq for seq, kind, object_id, member_id in rows}
    return [seqs[change] for change in changes]
