"""Migration 0004 (sources) on a database that has a directory already, on both databases:
every existing object becomes the built-in owner's, hand-imported group names stay unique, two
groups of a source may share a name, and the migration goes down again."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from enlist.db.database import Database
from enlist.db.migrate import alembic_config
from enlist.provisioning.service import MIGRATIONS, VERSION_TABLE, register_tables
from tests.databases import PostgresCluster

NOW = "2026-12-01 00:00:00+00:00"


@pytest.fixture
async def empty_db(
    database_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Database]:
    register_tables()
    if database_kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'migrating.sqlite3'}"
    else:
        cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
        url = await cluster.create(f"migrating_{uuid.uuid4().hex[:16]}")
    db = Database(url)
    yield db
    await db.dispose()


async def migrate(db: Database, revision: str, *, down: bool = False) -> None:
    config = alembic_config(MIGRATIONS, VERSION_TABLE)

    def run(sync_conn: sa.Connection) -> None:
        config.attributes["connection"] = sync_conn
        (command.downgrade if down else command.upgrade)(config, revision)

    async with db.write() as conn:
        await conn.run_sync(run)


def user_row(object_id: str, upn: str) -> str:
    return (
        "INSERT INTO dir_users (id, upn, upn_ci, attributes, account_enabled, updated_at, seq) "
        f"VALUES ('{object_id}', '{upn}', '{upn}', '{{}}', true, '{NOW}', 1)"
    )


def group_row(object_id: str, name: str, extra: str = "") -> str:
    columns = "id, display_name, display_name_ci, attributes, updated_at, seq" + (
        ", source, source_id" if extra else ""
    )
    return f"INSERT INTO dir_groups ({columns}) VALUES ('{object_id}', '{name}', '{name.lower()}', '{{}}', '{NOW}', 1{extra})"


async def test_existing_objects_become_the_built_in_owners_and_the_migration_goes_down(
    empty_db: Database,
) -> None:
    await migrate(empty_db, "0003_admin_pages")
    async with empty_db.write() as conn:
        await conn.execute(sa.text(user_row("u1", "a@x.example")))
        await conn.execute(sa.text(group_row("g1", "Staff")))
    await migrate(empty_db, "head")
    async with empty_db.read() as conn:
        users = (await conn.execute(sa.text("SELECT source, source_id FROM dir_users"))).all()
        groups = (await conn.execute(sa.text("SELECT source, source_id FROM dir_groups"))).all()
    assert [tuple(r) for r in users] == [("file", None)]
    assert [tuple(r) for r in groups] == [("file", None)]

    with pytest.raises(sa.exc.IntegrityError):
        async with empty_db.write() as conn:
            await conn.execute(sa.text(group_row("g2", "Staff")))  # a second hand-imported "Staff"
    async with empty_db.write() as conn:
        await conn.execute(sa.text(group_row("g3", "Staff", ", 'entra', 'x1'")))
        await conn.execute(sa.text(group_row("g4", "Staff", ", 'entra', 'x2'")))  # Graph allows it
    with pytest.raises(sa.exc.IntegrityError):
        async with empty_db.write() as conn:
            await conn.execute(sa.text(group_row("g5", "Other", ", 'entra', 'x1'")))  # one source id, once

    async with empty_db.write() as conn:
        await conn.execute(sa.text("DELETE FROM dir_groups WHERE source = 'entra'"))
    await migrate(empty_db, "0003_admin_pages", down=True)
    async with empty_db.read() as conn:
        assert (await conn.execute(sa.text("SELECT count(*) FROM dir_groups"))).scalar_one() == 1
