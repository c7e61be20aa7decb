"""Small helpers every store shares: dialect-aware upserts, ids, chunked IN lists, paging."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")


def now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


def insert_ignoring_duplicates(conn: AsyncConnection, table: sa.Table) -> Any:
    """`INSERT … ON CONFLICT DO NOTHING` for the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def chunks(items: list[Any], size: int = 500) -> list[list[Any]]:
    """Split a long IN list so no statement exceeds the database's parameter limits."""
    return [items[i : i + size] for i in range(0, len(items), size)]


async def paged(
    conn: AsyncConnection,
    page: sa.Select[Any],
    counting: sa.Select[Any],
    start: int,
    count: int,
    record: Callable[[Any], T],
) -> tuple[int, list[T]]:
    """Rows `start`…`start + count - 1` of `page` and the total. The page is read first: when
    it is a short page that has rows (or starts at 1), its length gives the total and the
    count query is skipped; a filter that matches one resource costs one statement."""
    if count > 0:
        rows = (await conn.execute(page.offset(start - 1).limit(count))).all()
        if len(rows) < count and (rows or start == 1):
            return start - 1 + len(rows), [record(r) for r in rows]
    else:
        rows = []
    total = (await conn.execute(counting)).scalar_one()
    return total, [record(r) for r in rows]
