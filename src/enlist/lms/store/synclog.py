"""The tenant's sync log: one row per SCIM write request, with what it changed.

Written in the same transaction as the change it describes (so a logged change is a committed
change), or on its own for a request that failed. Queried newest first with filters on time,
status, resource and text; pruned by the tenant's retention.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.db.prepared import Prepared
from enlist.db.rows import now
from enlist.lms.domain.changes import Change
from enlist.lms.domain.synclog_export import CSV_COLUMNS
from enlist.lms.store.tables import sync_log
from enlist.logs.context import current_request_id


@dataclass(slots=True)
class SyncEntry:
    """One request as the log keeps it; `changes` is filled in by the service as it works."""

    method: str
    path: str
    status: int = 0
    action: str = "other"
    resource_type: str | None = None
    resource_id: str | None = None
    resource_name: str | None = None
    changes: list[Change] = field(default_factory=list)
    error: str | None = None
    started: float = field(default_factory=time.perf_counter)
    request_id: str | None = field(default_factory=current_request_id)  # the request's (enlist.logs)
    client: str | None = None  # who sent it: enlist.lms.domain.clients.client_of(User-Agent)

    @property
    def duration_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


_COLUMNS = ("tenant_id", *CSV_COLUMNS[1:])  # what a row holds besides its id
_INSERT = Prepared(sync_log.insert().values({name: sa.bindparam(name) for name in _COLUMNS}))


async def record(conn: AsyncConnection, tenant_id: int, entry: SyncEntry, at: datetime | None = None) -> None:
    await _INSERT.run(
        conn,
        tenant_id=tenant_id,
        at=at or now(),
        method=entry.method,
        path=entry.path[:1024],
        status=entry.status,
        action=entry.action,
        resource_type=entry.resource_type,
        resource_id=entry.resource_id,
        resource_name=(entry.resource_name or "")[:512] or None,
        changes=[c.to_json() for c in entry.changes],
        duration_ms=round(entry.duration_ms, 3),
        error=entry.error,
        request_id=entry.request_id,
        client=entry.client,
    )


MAX_TEXT_LENGTH = 256  # the `q` search: a substring match, bounded like a SCIM `co` (ADR 0012)


@dataclass(frozen=True, slots=True)
class LogQuery:
    """Filters for reading the log; every one is optional."""

    since: datetime | None = None
    until: datetime | None = None
    status: str | None = None  # "success", "failure", or an HTTP status such as "409"
    resource_type: str | None = None
    resource_id: str | None = None
    text: str | None = None
    limit: int = 100
    before_id: int | None = None  # keyset paging: the entries after this one, newest first


def _conditions(tenant_id: int, query: LogQuery) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = [sync_log.c.tenant_id == tenant_id]
    if query.since:
        where.append(sync_log.c.at >= query.since)
    if query.until:
        where.append(sync_log.c.at < query.until)
    if query.status == "success":
        where.append(sync_log.c.status < 400)
    elif query.status == "failure":
        where.append(sync_log.c.status >= 400)
    elif query.status:
        where.append(sync_log.c.status == int(query.status))
    if query.resource_type:
        where.append(sa.func.lower(sync_log.c.resource_type) == query.resource_type.lower())
    if query.resource_id:
        where.append(sync_log.c.resource_id == query.resource_id)
    if query.text:
        pattern = "%" + query.text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            sa.or_(
                sa.func.lower(sync_log.c.resource_name).like(pattern, escape="\\"),
                sa.func.lower(sync_log.c.path).like(pattern, escape="\\"),
                sa.func.lower(sa.func.coalesce(sync_log.c.error, "")).like(pattern, escape="\\"),
            )
        )
    if query.before_id:
        where.append(sync_log.c.id < query.before_id)
    return where


def _row(row: sa.Row[Any]) -> dict[str, Any]:
    m = row._mapping  # noqa: SLF001
    return {
        "id": m["id"],
        "at": m["at"].isoformat(),
        "method": m["method"],
        "path": m["path"],
        "status": m["status"],
        "action": m["action"],
        "resource_type": m["resource_type"],
        "resource_id": m["resource_id"],
        "resource_name": m["resource_name"],
        "changes": m["changes"],
        "duration_ms": m["duration_ms"],
        "error": m["error"],
        "request_id": m["request_id"],
        "client": m["client"],
    }


async def read(conn: AsyncConnection, tenant_id: int, query: LogQuery) -> list[dict[str, Any]]:
    """Entries newest first, in the order of the (tenant, time) indexes: (at, id) descending, so
    that the first page of a 1,000,000-entry log reads 100 index entries instead of sorting the
    log. `before_id` pages on from an entry: the ones after it in that order."""
    where = _conditions(tenant_id, dataclasses.replace(query, before_id=None))
    if query.before_id:
        anchor = await conn.scalar(
            sa.select(sync_log.c.at).where(
                sync_log.c.tenant_id == tenant_id, sync_log.c.id == query.before_id
            )
        )
        if anchor is None:
            where.append(sync_log.c.id < query.before_id)
        else:
            where.append(
                sa.or_(
                    sync_log.c.at < anchor,
                    sa.and_(sync_log.c.at == anchor, sync_log.c.id < query.before_id),
                )
            )
    rows = await conn.execute(
        sa.select(sync_log)
        .where(*where)
        .order_by(sync_log.c.at.desc(), sync_log.c.id.desc())
        .limit(query.limit)
    )
    return [_row(r) for r in rows]


async def stream(conn: AsyncConnection, tenant_id: int, query: LogQuery) -> AsyncIterator[dict[str, Any]]:
    """Every matching entry newest first, in pages of `query.limit`, for exports."""
    before = query.before_id
    while True:
        page = await read(conn, tenant_id, LogQuery(**{**_fields(query), "before_id": before}))
        for entry in page:
            yield entry
        if len(page) < query.limit:
            return
        before = page[-1]["id"]


def _fields(query: LogQuery) -> dict[str, Any]:
    return {f.name: getattr(query, f.name) for f in dataclasses.fields(query)}


async def prune(conn: AsyncConnection, tenant_id: int, retention_days: int) -> int:
    """Delete entries older than the retention; returns how many went."""
    cutoff = now() - timedelta(days=retention_days)
    result = await conn.execute(
        sync_log.delete().where((sync_log.c.tenant_id == tenant_id) & (sync_log.c.at < cutoff))
    )
    return result.rowcount
