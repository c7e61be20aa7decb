"""Migration 0008 (notifications) on both databases: it creates exactly the tables the code
declares, with the same columns, and goes down again."""

from __future__ import annotations

import sqlalchemy as sa

from enlist.db.database import Database
from enlist.provisioning.notify.tables import (
    notification_attempts,
    notification_conditions,
    notification_outbox,
)
from tests.integration.provisioning.test_sources_migration import empty_db, migrate

__all__ = ["empty_db"]  # the fixture, used by name

TABLES = (notification_outbox, notification_attempts, notification_conditions)


async def _columns(db: Database) -> dict[str, set[str]]:
    def read(sync_conn: sa.Connection) -> dict[str, set[str]]:
        inspector = sa.inspect(sync_conn)
        names = set(inspector.get_table_names())
        return {t.name: {c["name"] for c in inspector.get_columns(t.name)} for t in TABLES if t.name in names}

    async with db.read() as conn:
        return await conn.run_sync(read)


async def test_the_notifications_migration_matches_the_tables_and_goes_down(empty_db: Database) -> None:
    await migrate(empty_db, "head")
    assert await _columns(empty_db) == {t.name: {c.name for c in t.columns} for t in TABLES}
    await migrate(empty_db, "0006_source_reads", down=True)
    assert await _columns(empty_db) == {}
