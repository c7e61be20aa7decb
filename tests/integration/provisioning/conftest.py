"""A fresh provisioning database per test, on SQLite and on PostgreSQL, with the directory's tables.

The provisioning database has no migrations yet, so the tables come from `metadata.create_all`
(only the directory's, so this suite does not depend on the engine's tables).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from enlist.db.database import Database
from enlist.provisioning.directory.tables import dir_changes, dir_group_members, dir_groups, dir_users
from enlist.provisioning.store.metadata import metadata
from tests.databases import PostgresCluster


@contextlib.asynccontextmanager
async def open_directory_db(
    database_kind: str, tmp_path: Path, request: pytest.FixtureRequest, name: str
) -> AsyncIterator[Database]:
    """A database of the kind under test holding only the directory's tables, named `name`."""
    if database_kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / f'{name}.sqlite3'}"
    else:
        cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
        url = await cluster.create(f"{name}_{uuid.uuid4().hex[:16]}")
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.run_sync(
            lambda sync: metadata.create_all(
                sync, tables=[dir_users, dir_groups, dir_group_members, dir_changes]
            )
        )
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
async def directory_db(
    database_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Database]:
    async with open_directory_db(database_kind, tmp_path, request, "directory") as db:
        yield db
