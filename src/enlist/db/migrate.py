"""Alembic migrations applied on start, safely when several processes start at once.

Each service keeps its own migration folder; `upgrade(db, folder)` brings the database to head
inside one write transaction (on PostgreSQL under an advisory lock, on SQLite under
`BEGIN IMMEDIATE`), so concurrent starts apply each migration exactly once.
"""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from enlist.db.database import Database

MIGRATION_LOCK_KEY = 0x656E6C697374  # "enlist"

# Alembic keeps its `context` and `op` proxies in module globals: two upgrades in one process
# (the demo starts the portal and the provisioning service together) must not interleave.
_process_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _process_lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    if loop not in _process_locks:
        _process_locks[loop] = asyncio.Lock()
    return _process_locks[loop]


def alembic_config(folder: Path, version_table: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(folder))
    config.set_main_option("version_table", version_table)
    return config


async def upgrade(db: Database, folder: Path, version_table: str) -> None:
    """Apply every pending migration in `folder`; a no-op when the database is at head."""
    config = alembic_config(folder, version_table)

    def run(sync_conn: sa.Connection) -> None:
        if sync_conn.dialect.name == "postgresql":
            # A migration may take longer than a request's statement_timeout; this transaction only.
            sync_conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
            sync_conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        config.attributes["connection"] = sync_conn
        command.upgrade(config, "head")

    async with _process_lock(), db.write() as conn:
        await conn.run_sync(run)
