"""Alembic migrations applied on start, safely when several processes start at once.

Each service keeps its own migration folder; `upgrade(db, folder)` brings the database to head
inside one write transaction (on PostgreSQL under an advisory lock, on SQLite under
`BEGIN IMMEDIATE`), so concurrent starts apply each migration exactly once.

A database already at head is the common case (every CLI command opens its service): it is
recognised by reading the version table and the migration files' `revision`/`down_revision`
lines, without importing Alembic (and Mako, Pygments), which costs a command more CPU than its
work (issue 13, Start-up). Anything else, an unreadable version table included, takes Alembic's
path.
"""

from __future__ import annotations

import ast
import asyncio
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from enlist.db.database import Database

if TYPE_CHECKING:
    from alembic.config import Config

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
    from alembic.config import Config  # noqa: PLC0415 (only a database behind head needs Alembic)

    config = Config()
    config.set_main_option("script_location", str(folder))
    config.set_main_option("version_table", version_table)
    return config


def _revisions_of(source: str) -> tuple[str, tuple[str, ...]] | None:
    """A migration file's `revision` and its `down_revision`s, read from its module-level
    assignments (literals, as Alembic writes them); None when it has no literal `revision`."""
    found: dict[str, object] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in {"revision", "down_revision"}:
                try:
                    found[name] = ast.literal_eval(node.value)
                except ValueError:
                    return None
    revision, down = found.get("revision"), found.get("down_revision")
    if not isinstance(revision, str):
        return None
    if isinstance(down, str):
        return revision, (down,)
    if isinstance(down, tuple | list):
        return revision, tuple(str(d) for d in down)
    return revision, ()


def heads(folder: Path) -> frozenset[str] | None:
    """The head revisions of the migration folder `folder` (those no other revision revises),
    as Alembic would find them; None when a file cannot be read that way (then Alembic decides)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in sorted((folder / "versions").glob("*.py")):
        read = _revisions_of(path.read_text(encoding="utf-8"))
        if read is None:
            return None
        revisions.add(read[0])
        revised.update(read[1])
    return frozenset(revisions - revised)


async def at_head(db: Database, folder: Path, version_table: str) -> bool:
    """True when the database's version table names exactly the folder's heads."""
    expected = heads(folder)
    if not expected:
        return False
    table = sa.table(version_table, sa.column("version_num", sa.String))
    try:
        async with db.read() as conn:
            stored = frozenset((await conn.execute(sa.select(table.c.version_num))).scalars())
    except DBAPIError:  # no version table yet: a new database
        return False
    return stored == expected


async def upgrade(db: Database, folder: Path, version_table: str) -> None:
    """Apply every pending migration in `folder`; a no-op when the database is at head."""
    if await at_head(db, folder, version_table):
        return
    from alembic import command  # noqa: PLC0415 (see the module docstring)

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
