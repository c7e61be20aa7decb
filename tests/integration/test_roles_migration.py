"""Portal migration 0010: the role-rule and smart-group tables, as tables.py declares them, added
and removed again, on both databases."""

from __future__ import annotations

import sqlalchemy as sa

from enlist.db.database import Database
from enlist.lms.api import runtime as portal_runtime
from enlist.lms.store.tables import role_rules, smart_groups
from tests.integration.logging.test_request_id_migrations import before, empty_db, migrate

__all__ = ["empty_db"]  # the fixture, shared with the request-id migration test

FOLDER, VERSIONS = portal_runtime.MIGRATIONS, portal_runtime.VERSION_TABLE
TABLES = (role_rules, smart_groups)


async def shape(db: Database) -> dict[str, tuple[set[str], set[tuple[str, ...]]]]:
    """Each of the two tables present: its columns and its unique indexes."""

    def read(conn: sa.Connection) -> dict[str, tuple[set[str], set[tuple[str, ...]]]]:
        inspector = sa.inspect(conn)
        return {
            table.name: (
                {c["name"] for c in inspector.get_columns(table.name)},
                {tuple(i["column_names"]) for i in inspector.get_indexes(table.name) if i["unique"]},  # type: ignore[misc]
            )
            for table in TABLES
            if inspector.has_table(table.name)
        }

    async with db.read() as conn:
        return await conn.run_sync(read)


def declared() -> dict[str, tuple[set[str], set[tuple[str, ...]]]]:
    return {
        table.name: (
            set(table.c.keys()),
            {tuple(c.name for c in index.columns) for index in table.indexes if index.unique},
        )
        for table in TABLES
    }


async def test_migration_0010_creates_the_tables_as_declared_and_its_downgrade_drops_them(
    empty_db: Database,
) -> None:
    await migrate(empty_db, FOLDER, VERSIONS, "heads")
    assert await shape(empty_db) == declared()
    await migrate(empty_db, FOLDER, VERSIONS, before(FOLDER, VERSIONS, "0010"), down=True)
    assert await shape(empty_db) == {}
    await migrate(empty_db, FOLDER, VERSIONS, "heads")
    assert await shape(empty_db) == declared()
