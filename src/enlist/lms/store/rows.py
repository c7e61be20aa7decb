"""Small helpers the portal's repositories share: dialect-aware upserts and id generation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


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
