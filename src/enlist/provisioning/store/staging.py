"""Staged deletions: disables and deletes held back by the accidental-deletion threshold."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.db.rows import insert_ignoring_duplicates, now
from enlist.provisioning.store.tables import staged_deletions


async def stage(
    conn: AsyncConnection, app_id: int, kind: str, source_id: str, action: str, cycle_id: str
) -> None:
    statement = insert_ignoring_duplicates(conn, staged_deletions)
    await conn.execute(
        statement,
        [
            {
                "app_id": app_id,
                "kind": kind,
                "source_id": source_id,
                "action": action,
                "cycle_id": cycle_id,
                "staged_at": now(),
            }
        ],
    )


async def staged(conn: AsyncConnection, app_id: int) -> list[dict[str, str]]:
    rows = await conn.execute(
        sa.select(
            staged_deletions.c.kind,
            staged_deletions.c.source_id,
            staged_deletions.c.action,
            staged_deletions.c.cycle_id,
        )
        .where(staged_deletions.c.app_id == app_id)
        .order_by(staged_deletions.c.kind, staged_deletions.c.source_id)
    )
    return [{"kind": k, "source_id": s, "action": a, "cycle_id": c} for k, s, a, c in rows]


async def clear(conn: AsyncConnection, app_id: int) -> None:
    await conn.execute(staged_deletions.delete().where(staged_deletions.c.app_id == app_id))
