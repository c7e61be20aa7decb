"""Portal migration 0007 (notifications) on both databases: it creates exactly the tables the code
declares, with the same columns, goes down to the revision before it, and up again."""

from __future__ import annotations

import sqlalchemy as sa

from enlist.db.database import Database
from enlist.lms.api import runtime as portal_runtime
from enlist.lms.notify import tables
from tests.integration.logging.test_request_id_migrations import before, empty_db, migrate

__all__ = ["empty_db"]  # the fixture, used by name

TABLES = (tables.settings, tables.outbox, tables.attempts, tables.conditions)
FOLDER, VERSION_TABLE = portal_runtime.MIGRATIONS, portal_runtime.VERSION_TABLE


async def _columns(db: Database) -> dict[str, set[str]]:
    def read(sync_conn: sa.Connection) -> dict[str, set[str]]:
        inspector = sa.inspect(sync_conn)
        names = set(inspector.get_table_names())
        return {t.name: {c["name"] for c in inspector.get_columns(t.name)} for t in TABLES if t.name in names}

    async with db.read() as conn:
        return await conn.run_sync(read)


async def test_the_portal_notifications_migration_matches_the_tables_and_goes_down_and_up(
    empty_db: Database,
) -> None:
    declared = {t.name: {c.name for c in t.columns} for t in TABLES}
    await migrate(empty_db, FOLDER, VERSION_TABLE, "heads")
    assert await _columns(empty_db) == declared
    await migrate(empty_db, FOLDER, VERSION_TABLE, before(FOLDER, VERSION_TABLE, "0007"), down=True)
    assert await _columns(empty_db) == {}
    await migrate(empty_db, FOLDER, VERSION_TABLE, "heads")
    assert await _columns(empty_db) == declared
