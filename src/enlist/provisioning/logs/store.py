"""Provisioning logs in the store: written in batches, read with Entra's filters, exported.

Filters: time range, status, action, identity (a source or target id, or text in the name),
cycle id. Newest first, keyset-paged by id. Export as JSON (one array) or CSV; retention per app.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.csv_cells import csv_line
from enlist.db.rows import chunks, now
from enlist.provisioning.logs import wording
from enlist.provisioning.logs.records import LogRecord
from enlist.provisioning.store.tables import provisioning_log

CSV_COLUMNS = (
    "id",
    "at",
    "cycle_id",
    "change_id",
    "object_kind",
    "action",
    "status",
    "source_id",
    "source_name",
    "target_id",
    "error_code",
    "reason",
    "recommendation",
    "duration_ms",
    "modified",
    "steps",
    "request_id",
    "skip_reason",  # derived (logs.wording): Graph's SkipReason of a skipped record
    "skip_explanation",  # the same in an admin's words, with what to do
)
DERIVED = ("skip_reason", "skip_explanation")


async def write(conn: AsyncConnection, app_id: int, records: list[LogRecord]) -> None:
    for part in chunks(records, 200):
        await conn.execute(provisioning_log.insert(), [r.row(app_id) for r in part])


@dataclass(frozen=True, slots=True)
class LogFilter:
    since: datetime | None = None
    until: datetime | None = None
    status: str | None = None
    action: str | None = None
    identity: str | None = None
    cycle_id: str | None = None
    object_kind: str | None = None
    limit: int = 100
    before_id: int | None = None


def _where(app_id: int, f: LogFilter) -> list[sa.ColumnElement[bool]]:
    c = provisioning_log.c
    where: list[sa.ColumnElement[bool]] = [c.app_id == app_id]
    if f.since:
        where.append(c.at >= f.since)
    if f.until:
        where.append(c.at < f.until)
    if f.status:
        where.append(c.status == f.status)
    if f.action:
        where.append(c.action == f.action)
    if f.cycle_id:
        where.append(c.cycle_id == f.cycle_id)
    if f.object_kind:
        where.append(c.object_kind == f.object_kind)
    if f.identity:
        text = f.identity.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(
            sa.or_(
                c.source_id == f.identity,
                c.target_id == f.identity,
                sa.func.lower(c.source_name).like(f"%{text}%", escape="\\"),
            )
        )
    if f.before_id:
        where.append(c.id < f.before_id)
    return where


def as_json(row: Any) -> dict[str, Any]:
    """A log row as the API and exports show it."""
    m = {str(key): value for key, value in row._mapping.items()}  # noqa: SLF001 (plain str keys for orjson)
    m["at"] = m["at"].isoformat()
    m.pop("app_id", None)
    return m


async def read(conn: AsyncConnection, app_id: int, f: LogFilter) -> list[dict[str, Any]]:
    rows = await conn.execute(
        sa.select(provisioning_log)
        .where(*_where(app_id, f))
        .order_by(provisioning_log.c.id.desc())
        .limit(f.limit)
    )
    return [as_json(r) for r in rows]


async def stream(conn: AsyncConnection, app_id: int, f: LogFilter) -> AsyncIterator[dict[str, Any]]:
    before = f.before_id
    while True:
        page = await read(conn, app_id, replace(f, before_id=before))
        for record in page:
            yield record
        if len(page) < f.limit:
            return
        before = page[-1]["id"]


def to_csv(records: list[dict[str, Any]]) -> str:
    """The header and one line per record; directory values are written as text, never formulas.
    A skipped record's last two columns say why it was skipped (Graph's reason, then in words)."""
    lines = [csv_line(CSV_COLUMNS)]
    lines.extend(csv_line(_csv_values(r)) for r in records)
    return "".join(lines)


def _csv_values(record: dict[str, Any]) -> list[Any]:
    stored = CSV_COLUMNS[: -len(DERIVED)]
    values = [
        orjson.dumps(record[c]).decode() if c in ("modified", "steps") else record.get(c) for c in stored
    ]
    explained = wording.skip_explanation(record)
    reason = wording.skip_reason(record)
    return [*values, reason, f"{explained.title}. {explained.action}" if explained else None]


def to_json(records: list[dict[str, Any]]) -> str:
    return orjson.dumps(records, option=orjson.OPT_INDENT_2).decode()


async def prune(conn: AsyncConnection, app_id: int, retention_days: int) -> int:
    cutoff = now() - timedelta(days=retention_days)
    result = await conn.execute(
        provisioning_log.delete().where(
            (provisioning_log.c.app_id == app_id) & (provisioning_log.c.at < cutoff)
        )
    )
    return result.rowcount
