"""The Sync log page's reads: newest first by time, keyset-paged, with the CLI's filters.

The page orders by `(at, id)` descending rather than by id alone: that is the order of the
`(tenant_id, at)` index (SQLite keeps the row id as its last key), so the first page, a time
window, a deep page, one resource's history (`(tenant_id, resource_id, at)`) and one HTTP status
(`(tenant_id, status, at)`) are each one index range read in order, never a sort of the log.
The filters themselves are `enlist.lms.store.synclog`'s, so the page, the CLI and the admin API
select the same entries.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.lms.store import synclog
from enlist.lms.store.tables import sync_log, users
from enlist.web.paging import PAGE_SIZE, CursorKey, Page, page_of

EXPORT_BATCH = 1000


def _after(key: CursorKey | None) -> tuple[datetime, int] | None:
    """The (at, id) a cursor holds, or None for a missing or tampered one."""
    if not key or len(key) != 2 or not isinstance(key[0], str) or not isinstance(key[1], int):
        return None
    try:
        moment = datetime.fromisoformat(key[0])
    except ValueError:
        return None
    return (moment, key[1]) if moment.tzinfo is not None else None


def _older_than(at: datetime, entry_id: int) -> sa.ColumnElement[bool]:
    return sa.tuple_(sync_log.c.at, sync_log.c.id) < sa.tuple_(
        sa.literal(at, sync_log.c.at.type), sa.literal(entry_id, sync_log.c.id.type)
    )


def _select(tenant_id: int, query: synclog.LogQuery, after: tuple[datetime, int] | None) -> sa.Select[Any]:
    where = synclog._conditions(tenant_id, dataclasses.replace(query, before_id=None))  # noqa: SLF001
    if after is not None:
        where.append(_older_than(*after))
    return sa.select(sync_log).where(*where).order_by(sync_log.c.at.desc(), sync_log.c.id.desc())


def _entry(row: sa.Row[Any]) -> dict[str, Any]:
    return synclog._row(row)  # noqa: SLF001 - the same entry shape as the CLI and the admin API


async def log_page(
    conn: AsyncConnection,
    tenant_id: int,
    query: synclog.LogQuery,
    after: CursorKey | None,
    size: int = PAGE_SIZE,
) -> Page[dict[str, Any]]:
    """One page of entries, newest first."""
    position = _after(after)
    rows = (await conn.execute(_select(tenant_id, query, position).limit(size + 1))).all()
    return page_of([_entry(r) for r in rows], size, position is None, lambda e: [e["at"], e["id"]])


async def log_entry(conn: AsyncConnection, tenant_id: int, entry_id: int) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            sa.select(sync_log).where((sync_log.c.tenant_id == tenant_id) & (sync_log.c.id == entry_id))
        )
    ).first()
    return _entry(row) if row else None


async def export_entries(
    conn: AsyncConnection, tenant_id: int, query: synclog.LogQuery
) -> AsyncIterator[dict[str, Any]]:
    """Every matching entry newest first, read in batches along the same index as the page."""
    position: tuple[datetime, int] | None = None
    while True:
        rows = (await conn.execute(_select(tenant_id, query, position).limit(EXPORT_BATCH))).all()
        for row in rows:
            yield _entry(row)
        if len(rows) < EXPORT_BATCH:
            return
        position = (rows[-1].at, rows[-1].id)


NAMES_BATCH = 500  # ids per IN list: well under SQLite's and PostgreSQL's bound-parameter limits


def member_ids(entries: Iterable[dict[str, Any]]) -> set[str]:
    """The user ids that the `members` changes of these entries name (who joined, who left)."""
    found: set[str] = set()
    for entry in entries:
        for change in entry.get("changes") or []:
            if change.get("attribute") != "members":
                continue
            for side in (change.get("old"), change.get("new")):
                if isinstance(side, list):
                    found.update(i for i in side if isinstance(i, str))
    return found


async def user_names(conn: AsyncConnection, tenant_id: int, ids: Iterable[str]) -> dict[str, str]:
    """id → the name a person knows (display name, else login) of this tenant's users among
    `ids`; an id of an erased user (or another tenant's) is simply absent."""
    wanted = sorted(set(ids))
    names: dict[str, str] = {}
    for start in range(0, len(wanted), NAMES_BATCH):
        rows = await conn.execute(
            sa.select(users.c.id, users.c.display_name, users.c.user_name).where(
                users.c.tenant_id == tenant_id, users.c.id.in_(wanted[start : start + NAMES_BATCH])
            )
        )
        names.update({r.id: r.display_name or r.user_name for r in rows})
    return names
