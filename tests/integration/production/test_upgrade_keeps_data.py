"""An upgrade from any earlier release of the portal's schema keeps the data: a database holding
tenants, Secret tokens, users, groups, memberships and sync log records is taken down to each
earlier named revision (what that release's database held), then brought to head the way
`serve` does on start (`open_portal`); every row of every table that revision had keeps every
value of its columns, and the portal serves the data (the old Secret token still opens it).
On both databases. (The provisioning service's own upgrades keep data too:
tests/integration/provisioning/test_sources_migration.py and the notifications and request id
migration tests.)"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from enlist.db.database import Database
from enlist.db.migrate import alembic_config
from enlist.lms.api.runtime import MIGRATIONS, VERSION_TABLE, Portal, open_portal
from tests.helpers import make_tenant

SCRIPTS = ScriptDirectory.from_config(alembic_config(MIGRATIONS, VERSION_TABLE))
HEAD = SCRIPTS.get_current_head()
EARLIER = sorted(r.revision for r in SCRIPTS.walk_revisions() if r.revision != HEAD)
"""Every named revision before head: a new migration adds its predecessor here by itself."""


async def old_columns_contents(
    db: Database, tables: dict[str, list[str]]
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of `tables`, projected on the columns each had at the old revision, sorted."""
    found = {}
    async with db.read() as conn:
        for table, columns in tables.items():
            names = ", ".join(f'"{c}"' for c in columns)
            rows = await conn.execute(sa.text(f'SELECT {names} FROM "{table}"'))
            found[table] = sorted((tuple(r) for r in rows), key=repr)
    return found


async def downgrade(db: Database, revision: str) -> None:
    config = alembic_config(MIGRATIONS, VERSION_TABLE)

    def run(sync_conn: sa.Connection) -> None:
        config.attributes["connection"] = sync_conn
        command.downgrade(config, revision)

    async with db.write() as conn:
        await conn.run_sync(run)


async def schema(db: Database) -> dict[str, list[str]]:
    def read(sync: sa.Connection) -> dict[str, list[str]]:
        inspector = sa.inspect(sync)
        return {t: sorted(c["name"] for c in inspector.get_columns(t)) for t in inspector.get_table_names()}

    async with db.read() as conn:
        return await conn.run_sync(read)


@pytest.mark.parametrize("revision", EARLIER)
async def test_an_upgrade_from_an_earlier_revision_keeps_every_row(
    revision: str, portal: Portal, http: httpx2.AsyncClient
) -> None:
    tenant = await make_tenant(portal, http, "acme")
    users = [await tenant.create_user(f"user{i}@acme.example", displayName=f"User {i}") for i in range(5)]
    await tenant.create_group("Staff", [u["id"] for u in users[:3]])

    await downgrade(portal.db, revision)
    old_schema = await schema(portal.db)
    assert old_schema.pop(VERSION_TABLE)  # moves to head: the one table whose row changes
    before = await old_columns_contents(portal.db, old_schema)
    assert min(len(before[t]) for t in ("tenants", "users", "groups", "group_members", "sync_log")) > 0

    upgraded = await open_portal(portal.settings)  # what `enlist lms serve` does on start
    try:
        after = await old_columns_contents(upgraded.db, old_schema)
        listed = await tenant.get("/Users", count="0")
        async with upgraded.db.read() as conn:
            at = (await conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))).scalar_one()
    finally:
        await upgraded.db.dispose()

    assert after == before
    assert at == HEAD
    assert listed.status_code == 200
    assert listed.json()["totalResults"] == len(users)
