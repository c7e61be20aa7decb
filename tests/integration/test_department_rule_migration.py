"""Portal migration 0008: the `rule_made` mark on departments and the scratch table of a
re-placement, added and removed again, on both databases (ADR 0034)."""

from __future__ import annotations

import sqlalchemy as sa

from enlist.db.database import Database
from enlist.lms.api import runtime as portal_runtime
from tests.integration.logging.test_request_id_migrations import before, columns, empty_db, migrate

__all__ = ["empty_db"]  # the fixture, used by name


async def tables(db: Database) -> set[str]:
    async with db.read() as conn:
        return await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))


async def test_the_department_rule_migration_comes_and_goes_with_its_downgrade(empty_db: Database) -> None:
    folder, table = portal_runtime.MIGRATIONS, portal_runtime.VERSION_TABLE
    previous = before(folder, table, "0008")
    await migrate(empty_db, folder, table, "heads")
    assert "rule_made" in await columns(empty_db, "departments")
    assert "department_rule_values" in await tables(empty_db)
    await migrate(empty_db, folder, table, previous, down=True)
    assert "rule_made" not in await columns(empty_db, "departments")
    assert "department_rule_values" not in await tables(empty_db)
    await migrate(empty_db, folder, table, "heads")
    assert "rule_made" in await columns(empty_db, "departments")
