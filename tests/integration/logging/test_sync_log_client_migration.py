"""Migration portal 0009: the sync log's `client` column comes with the upgrade, entries logged
before it keep working (their client unknown, NULL), and the downgrade removes it again, on both
databases."""

from __future__ import annotations

import sqlalchemy as sa

from enlist.db.database import Database
from enlist.lms.api import runtime as portal_runtime
from tests.integration.logging.test_request_id_migrations import before, columns, empty_db, migrate

REVISION = "0009_sync_log_client"
FOLDER, TABLE = portal_runtime.MIGRATIONS, portal_runtime.VERSION_TABLE
__all__ = ["empty_db"]  # the fixture, shared with the request id migrations' test


async def test_the_client_column_comes_with_0009_keeps_older_entries_and_goes_with_its_downgrade(
    empty_db: Database,
) -> None:
    previous = before(FOLDER, TABLE, REVISION)
    await migrate(empty_db, FOLDER, TABLE, previous)
    assert "client" not in await columns(empty_db, "sync_log")
    async with empty_db.write() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO tenants (slug, name, policy, root_department_id, created_at) VALUES ('t', 't', '{}', 'r', CURRENT_TIMESTAMP)"
            )
        )
        await conn.execute(
            sa.text(
                "INSERT INTO sync_log (tenant_id, at, method, path, status, action, changes, duration_ms) "
                "SELECT id, CURRENT_TIMESTAMP, 'POST', '/scim/v2/t/Users', 201, 'create', '[]', 1.0 FROM tenants"
            )
        )
    await migrate(empty_db, FOLDER, TABLE, REVISION)
    assert "client" in await columns(empty_db, "sync_log")
    async with empty_db.read() as conn:
        assert (await conn.execute(sa.text("SELECT method, client FROM sync_log"))).all() == [("POST", None)]
    await migrate(empty_db, FOLDER, TABLE, previous, down=True)
    assert "client" not in await columns(empty_db, "sync_log")
    async with empty_db.read() as conn:
        assert await conn.scalar(sa.text("SELECT count(*) FROM sync_log")) == 1
