"""Each source's own log: one row per read, newest first.

A read's row is written in the transaction that claims the source's lease (`running`), its
record count is updated with each staged page, and it is completed in the transaction that
applies the round (`ok`) or records the failure (`failed`, `held`), so the log says the same as
the directory, whichever process read the source. A row left `running` by a process that died is
closed by the next read of that source: that read holds the lease, so no other read runs.
Rows older than `KEEP` are dropped when the source is next read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.provisioning.sources.tables import source_reads

KEEP = timedelta(days=30)
ABANDONED = "the process reading the source stopped before the read ended; nothing of it was applied"


@dataclass(frozen=True, slots=True)
class ReadEntry:
    """One read: who started it (`schedule` or `admin`), what was asked (`requested`) and read
    (`kind`), its outcome and counts. `counts` holds `COUNT_KEYS` once the read is applied."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    trigger: str
    requested: str
    kind: str | None
    status: str
    records: int
    counts: dict[str, int] | None
    duration_s: float | None
    error: str | None
    conflicts: list[dict[str, Any]]
    warnings: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "trigger": self.trigger,
            "requested": self.requested,
            "kind": self.kind,
            "status": self.status,
            "records": self.records,
            "counts": self.counts,
            "duration_s": self.duration_s,
            "error": self.error,
            "conflicts": self.conflicts,
            "warnings": self.warnings,
        }


def _entry(row: Any) -> ReadEntry:
    m = row._mapping  # noqa: SLF001
    return ReadEntry(
        id=m["id"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        trigger=m["trigger"],
        requested=m["requested"],
        kind=m["kind"],
        status=m["status"],
        records=m["records"],
        counts=m["counts"],
        duration_s=m["duration_s"],
        error=m["error"],
        conflicts=list(m["conflicts"] or ()),
        warnings=list(m["warnings"] or ()),
    )


async def start(
    conn: AsyncConnection, source_id: int, owner: str, *, trigger: str, requested: str, moment: datetime
) -> int:
    """Record a read as running (call it holding the source's lease); its id."""
    await conn.execute(
        source_reads.update()
        .where((source_reads.c.source == source_id) & (source_reads.c.status == "running"))
        .values(status="failed", error=ABANDONED, finished_at=moment)
    )
    await conn.execute(
        source_reads.delete().where(
            (source_reads.c.source == source_id) & (source_reads.c.started_at < moment - KEEP)
        )
    )
    read_id = await conn.scalar(
        source_reads.insert()
        .values(
            source=source_id,
            started_at=moment,
            trigger=trigger,
            requested=requested,
            status="running",
            records=0,
            owner=owner,
        )
        .returning(source_reads.c.id)
    )
    assert read_id is not None
    return int(read_id)


async def progress(conn: AsyncConnection, read_id: int, records: int) -> None:
    await conn.execute(source_reads.update().where(source_reads.c.id == read_id).values(records=records))


async def finish(conn: AsyncConnection, read_id: int, **values: Any) -> None:
    """Complete the read's row: `status`, `finished_at`, and what is known (`kind`, `counts`,
    `duration_s`, `error`, `conflicts`, `warnings`, `records`)."""
    await conn.execute(source_reads.update().where(source_reads.c.id == read_id).values(**values))


async def page(conn: AsyncConnection, source_id: int, before_id: int | None, limit: int) -> list[ReadEntry]:
    """Up to `limit` reads of the source, newest first, older than `before_id` when given."""
    query = sa.select(source_reads).where(source_reads.c.source == source_id)
    if before_id is not None:
        query = query.where(source_reads.c.id < before_id)
    rows = await conn.execute(query.order_by(source_reads.c.id.desc()).limit(limit))
    return [_entry(r) for r in rows]


async def latest(conn: AsyncConnection, source_ids: Iterable[int]) -> dict[int, ReadEntry]:
    """The newest read of each of the sources that has one."""
    wanted = list(source_ids)
    if not wanted:
        return {}
    newest = (
        sa.select(sa.func.max(source_reads.c.id))
        .where(source_reads.c.source.in_(wanted))
        .group_by(source_reads.c.source)
    )
    rows = await conn.execute(sa.select(source_reads).where(source_reads.c.id.in_(newest)))
    return {r._mapping["source"]: _entry(r) for r in rows}  # noqa: SLF001
