"""`upgrade` skips Alembic only for a database already at head (issue 13, Start-up): the heads
it reads from the migration files are Alembic's own, for every service's folder, and a database
that is new or one revision behind is still migrated, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from enlist.db.database import Database
from enlist.db.migrate import alembic_config, at_head, heads, upgrade
from tests.integration.logging.test_request_id_migrations import CASES, empty_db, migrate

__all__ = ["empty_db"]  # the fixture, used by name

FOLDERS = {service: (folder, table) for service, (folder, table, _, _) in CASES.items()}


def alembic_heads(folder: Path, version_table: str) -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config(folder, version_table)).get_heads())


@pytest.mark.parametrize("service", sorted(FOLDERS))
def test_the_heads_read_from_the_migration_files_are_alembics(service: str) -> None:
    folder, version_table = FOLDERS[service]
    assert heads(folder) == alembic_heads(folder, version_table)


@pytest.mark.parametrize("service", sorted(FOLDERS))
async def test_a_new_database_and_one_behind_head_are_migrated_and_one_at_head_is_left(
    empty_db: Database, service: str
) -> None:
    folder, version_table = FOLDERS[service]
    assert not await at_head(empty_db, folder, version_table)  # no version table yet
    await upgrade(empty_db, folder, version_table)
    assert await at_head(empty_db, folder, version_table)
    (head,) = alembic_heads(folder, version_table)
    script = ScriptDirectory.from_config(alembic_config(folder, version_table)).get_revision(head)
    assert script is not None
    assert isinstance(script.down_revision, str)
    await migrate(empty_db, folder, version_table, script.down_revision, down=True)
    assert not await at_head(empty_db, folder, version_table)
    await upgrade(empty_db, folder, version_table)
    assert await at_head(empty_db, folder, version_table)
