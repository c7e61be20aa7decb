"""A fresh provisioning database per test, on SQLite and on PostgreSQL, with the directory's tables.

The provisioning database has no migrations yet, so the tables come from `metadata.create_all`
(only the directory's, so this suite does not depend on the engine's tables).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from enlist.db.database import Database
from enlist.provisioning.directory.tables import dir_changes, dir_group_members, dir_groups, dir_users
from enlist.provisioning.store.metadata import metadata
from tests.databases import PostgresCluster


@pytest.fixture
async def directory_db(
    database_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Database]:
    if database_kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'provisioning.sqlite3'}"
    else:
        cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
        url = await cluster.create(f"directory_{uuid.uuid4().hex[:16]}")
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.run_sync(
            lambda sync: metadata.create_all(
                sync, tables=[dir_users, dir_groups, dir_group_members, dir_changes]
            )
        )
    yield db
    await db.dispose()
