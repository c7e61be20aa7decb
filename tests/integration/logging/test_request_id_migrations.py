"""Migrations portal 0006 and provisioning 0011: a nullable `request_id` on the sync log and the
provisioning log, added and removed again, on both databases."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from enlist.db.database import Database
from enlist.db.migrate import alembic_config
from enlist.lms.api import runtime as portal_runtime
from enlist.provisioning import service as provisioning_service
from tests.databases import PostgresCluster

CASES = {
    "portal": (portal_runtime.MIGRATIONS, portal_runtime.VERSION_TABLE, "sync_log", "0006_request_ids"),
    "provisioning": (
        provisioning_service.MIGRATIONS,
        provisioning_service.VERSION_TABLE,
        "provisioning_log",
        "0011_request_ids",
    ),
}


def before(folder: Path, version_table: str, revision: str) -> str:
    """The revision the migration `revision` follows (whatever it is chained to on merge)."""
    script = ScriptDirectory.from_config(alembic_config(folder, version_table)).get_revision(revision)
    assert script is not None
    down = script.down_revision
    assert isinstance(down, str)
    return down


@pytest.fixture
async def empty_db(
    database_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Database]:
    provisioning_service.register_tables()
    if database_kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'migrating.sqlite3'}"
    else:
        cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
        url = await cluster.create(f"migrating_{uuid.uuid4().hex[:16]}")
    db = Database(url)
    yield db
    await db.dispose()


async def migrate(db: Database, folder: Path, table: str, revision: str, *, down: bool = False) -> None:
    config = alembic_config(folder, table)

    def run(sync_conn: sa.Connection) -> None:
        config.attributes["connection"] = sync_conn
        (command.downgrade if down else command.upgrade)(config, revision)

    async with db.write() as conn:
        await conn.run_sync(run)


async def columns(db: Database, table: str) -> set[str]:
    async with db.read() as conn:
        return await conn.run_sync(lambda c: {col["name"] for col in sa.inspect(c).get_columns(table)})


@pytest.mark.parametrize("service", sorted(CASES))
async def test_the_request_id_column_comes_with_the_migration_and_goes_with_its_downgrade(
    empty_db: Database, service: str
) -> None:
    folder, version_table, table, revision = CASES[service]
    previous = before(folder, version_table, revision)
    await migrate(empty_db, folder, version_table, "heads")
    assert "request_id" in await columns(empty_db, table)
    await migrate(empty_db, folder, version_table, previous, down=True)
    assert "request_id" not in await columns(empty_db, table)
    await migrate(empty_db, folder, version_table, "heads")
    assert "request_id" in await columns(empty_db, table)
