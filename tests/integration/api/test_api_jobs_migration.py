"""Provisioning migration 0012: the `api_jobs` table comes with it, as its table declares it, and
goes with its downgrade, on both databases."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from enlist.db.database import Database
from enlist.provisioning import service as provisioning_service
from enlist.provisioning.store.metadata import metadata
from tests.databases import PostgresCluster
from tests.integration.logging.test_request_id_migrations import before, migrate

FOLDER, TABLE = provisioning_service.MIGRATIONS, provisioning_service.VERSION_TABLE


@pytest.fixture
async def blank(
    database_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Database]:
    provisioning_service.register_tables()
    if database_kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'jobs.sqlite3'}"
    else:
        cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
        url = await cluster.create(f"jobs_{uuid.uuid4().hex[:16]}")
    db = Database(url)
    yield db
    await db.dispose()


def only_api_jobs(item: object, name: str | None, kind: str, _reflected: bool, _other: object) -> bool:
    if kind == "table":
        return name == "api_jobs"
    table = getattr(item, "table", None)
    return table is None or table.name == "api_jobs"


async def job_table_differences(db: Database) -> list[object] | None:
    """None when there is no `api_jobs` table, else how it differs from its declaration."""

    def compare(sync_conn: sa.Connection) -> list[object] | None:
        if "api_jobs" not in sa.inspect(sync_conn).get_table_names():
            return None
        context = MigrationContext.configure(sync_conn, opts={"include_object": only_api_jobs})
        return list(compare_metadata(context, metadata))

    async with db.read() as conn:
        return await conn.run_sync(compare)


async def test_the_api_jobs_table_comes_as_declared_with_0012_and_goes_with_its_downgrade(
    blank: Database,
) -> None:
    previous = before(FOLDER, TABLE, "0012")

    await migrate(blank, FOLDER, TABLE, "heads")
    after_upgrade = await job_table_differences(blank)
    await migrate(blank, FOLDER, TABLE, previous, down=True)
    after_downgrade = await job_table_differences(blank)
    await migrate(blank, FOLDER, TABLE, "heads")

    assert after_upgrade == []
    assert after_downgrade is None
    assert await job_table_differences(blank) == []
