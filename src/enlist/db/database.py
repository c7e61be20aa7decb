"""One async database, SQLite (WAL) or PostgreSQL, behind two context managers.

`Database.read()` gives a connection in a read transaction; `Database.write()` gives one in a
write transaction that commits on success and rolls back on any exception. On SQLite a write
transaction starts with `BEGIN IMMEDIATE`, so two writers never deadlock on a lock upgrade, and
writers of one process queue on an asyncio lock instead of spinning on `database is locked`.
On PostgreSQL a write that loses a deadlock or a serialisation race is retried by `transaction`.

SQLite URLs (`sqlite+aiosqlite:///…`) run on `enlist.db.sqlite_inline`: statements execute on
the event loop, not in aiosqlite's thread, and a lock held by another process is waited for with
asyncio sleeps (`sqlite+aiosqlite` stays available with `Database(url, inline=False)`). A
statement that would hold the loop too long moves to a thread of the `SlowLane`
(`enlist.db.slow_lane`), where a tenant holds one thread at most.

Acknowledged means durable: SQLite runs with `synchronous=FULL` (in WAL mode, NORMAL may lose the
last commits on a power loss, commits a SCIM client was already told succeeded; ADR 0012).
On PostgreSQL, `statement_timeout_s` becomes the server's `statement_timeout`: a statement the
request deadline cancelled is also cancelled on the server (asyncpg sends a cancel request), and
this is the backstop if that request is lost.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import registry
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.util import await_

from enlist.db import sqlite_inline
from enlist.db.admission import TenantTurns
from enlist.db.slow_lane import SlowLane

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_RETRIES = 5
HELD_READERS = 8  # idle read connections kept open on SQLite (more are opened while busy)
# Transactions one tenant may have open at once (per process): a burst of one tenant cannot take
# every pooled PostgreSQL connection (30) or every turn at the SQLite writer's lock (ADR 0012).
TRANSACTIONS_PER_TENANT = 4
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",  # a commit is on disk before the client hears it succeeded
    "PRAGMA foreign_keys=ON",
)


def _sqlite_engine(url: str, begin: str, *, inline: bool, slow_lane: SlowLane) -> AsyncEngine:
    connect_args: dict[str, Any] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    if inline:
        registry.register(f"sqlite.{sqlite_inline.DRIVER}", sqlite_inline.__name__, "SQLiteDialectInline")
        url = make_url(url).set(drivername=f"sqlite+{sqlite_inline.DRIVER}").render_as_string()
        connect_args["slow_lane"] = slow_lane
    # hide_parameters: a database error's message names no parameter, so a user's attribute value
    # or a token digest never reaches a log line through a logged exception (enlist.logs).
    engine = create_async_engine(url, connect_args=connect_args, hide_parameters=True)
    # The inline driver waits for another process's lock with asyncio sleeps; SQLite's own busy
    # wait would block the event loop.
    busy_timeout_ms = 0 if inline else SQLITE_BUSY_TIMEOUT_MS

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (the driver's implicit BEGIN is DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: sa.Connection) -> None:
        driver = conn.connection.driver_connection
        if not isinstance(driver, sqlite_inline.InlineConnection):
            conn.exec_driver_sql(begin)
        elif not driver.in_transaction:  # else `_Held` began it on the driver already
            await_(_begin_on_driver(conn, driver, begin))

    return engine


async def _begin_on_driver(conn: sa.Connection, driver: sqlite_inline.InlineConnection, begin: str) -> None:
    """BEGIN straight on the inline driver (a full `exec_driver_sql` costs more than the BEGIN),
    still announced to `before_cursor_execute` listeners, as statement-counting tests expect."""
    if conn.dispatch.before_cursor_execute:
        conn.dispatch.before_cursor_execute(conn, None, begin, (), None, False)
    try:
        await driver.run(driver.execute_now, begin)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(begin, (), exc, sqlite3.Error) from exc


class _Held:
    """Connections an inline SQLite engine keeps checked out, each transaction begun and ended
    on the driver. Checking a connection out of SQLAlchemy's pool, wrapping it, beginning,
    committing and resetting it on return cost more than the reads most requests make; held
    connections skip all of that. A transaction that raised (or was cancelled) gives its
    connection back to the pool, whose reset rolls it back."""

    def __init__(self, engine: AsyncEngine, begin: str, keep: int) -> None:
        self._engine = engine
        self._begin = begin
        self._keep = keep
        self._idle: list[AsyncConnection] = []

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        conn = self._idle.pop() if self._idle else await self._engine.connect()
        try:
            sync = conn.sync_connection
            assert sync is not None
            driver = sync.connection.driver_connection
            assert isinstance(driver, sqlite_inline.InlineConnection)
            await _begin_on_driver(sync, driver, self._begin)
            yield conn
            if conn.in_transaction():  # SQLAlchemy autobegan over ours: it commits
                await conn.commit()
            else:
                await _commit_on_driver(driver)
        except BaseException:
            await conn.close()
            raise
        if len(self._idle) < self._keep:
            self._idle.append(conn)
        else:
            await conn.close()

    async def close(self) -> None:
        while self._idle:
            await self._idle.pop().close()


async def _commit_on_driver(driver: sqlite_inline.InlineConnection) -> None:
    try:
        await driver.commit()
    except sqlite3.Error as exc:
        raise DBAPIError.instance("COMMIT", (), exc, sqlite3.Error) from exc


class Database:
    """An async engine pair for one database URL; `dispose()` when done. `statement_timeout_s`
    (PostgreSQL) caps every statement on the server."""

    def __init__(self, url: str, *, inline: bool = True, statement_timeout_s: float | None = None) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.slow_lane = SlowLane()
        self.turns = TenantTurns(TRANSACTIONS_PER_TENANT, "transaction")
        if self.is_sqlite:
            path = url.split(":///", 1)[1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._reader = _sqlite_engine(url, "BEGIN", inline=inline, slow_lane=self.slow_lane)
            self._writer = _sqlite_engine(url, "BEGIN IMMEDIATE", inline=inline, slow_lane=self.slow_lane)
        else:
            settings = (
                {"statement_timeout": str(round(statement_timeout_s * 1000))} if statement_timeout_s else {}
            )
            # No ping on checkout (a round trip per checkout, two per SCIM request): a connection
            # found dead is retried instead (is_disconnect), and SQLAlchemy then drops the pool's
            # older connections at once.
            self._reader = create_async_engine(
                url,
                pool_size=10,
                max_overflow=20,
                pool_recycle=1800,
                hide_parameters=True,  # as for SQLite: no parameter in an error's message
                connect_args={"server_settings": settings} if settings else {},
            )
            self._writer = self._reader
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        inline_sqlite = self.is_sqlite and inline
        self._held_readers = _Held(self._reader, "BEGIN", HELD_READERS) if inline_sqlite else None
        # Writers queue on the write lock, so one held connection serves them all.
        self._held_writer = _Held(self._writer, "BEGIN IMMEDIATE", 1) if inline_sqlite else None

    @property
    def engine(self) -> AsyncEngine:
        """The engine that writes (migrations run on it)."""
        return self._writer

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read transaction, once the current tenant has a turn (`TRANSACTIONS_PER_TENANT`)."""
        async with self.turns.turn(), self._read() as conn:
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction, once the current tenant has a turn (`TRANSACTIONS_PER_TENANT`)."""
        async with self.turns.turn(), self._write() as conn:
            yield conn

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        if self._held_readers is not None:
            async with self._held_readers.transaction() as conn:
                yield conn
            return
        async with self._reader.connect() as conn, conn.begin():
            yield conn

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        if self._write_lock is None:
            async with self._writer.begin() as conn:
                yield conn
            return
        if self._held_writer is not None:
            async with self._write_lock, self._held_writer.transaction() as conn:
                yield conn
            return
        async with self._write_lock, self._writer.begin() as conn:
            yield conn

    async def transaction(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run `work` in a write transaction, retrying it when PostgreSQL reports a deadlock
        or a serialisation failure (the work must therefore be safe to run again)."""
        for attempt in range(WRITE_RETRIES):
            try:
                async with self.write() as conn:
                    return await work(conn)
            except DBAPIError as exc:
                if attempt + 1 == WRITE_RETRIES or not _is_retryable(exc):
                    raise
                await asyncio.sleep(0.01 * 2**attempt)
        raise AssertionError("unreachable")

    def pool_use(self) -> dict[str, dict[str, int]]:
        """Connections of this process's pools, per engine (`read`, and `write` when it is a
        separate engine): `checked_out` (in a transaction now) and `idle` (pooled, free)."""
        engines = (
            {"read": self._reader}
            if self._writer is self._reader
            else {"read": self._reader, "write": self._writer}
        )
        use: dict[str, dict[str, int]] = {}
        for name, engine in engines.items():
            pool = engine.pool
            checked_out = getattr(pool, "checkedout", None)
            checked_in = getattr(pool, "checkedin", None)
            if callable(checked_out) and callable(checked_in):
                use[name] = {"checked_out": int(checked_out()), "idle": int(checked_in())}
        return use

    async def dispose(self) -> None:
        for held in (self._held_readers, self._held_writer):
            if held is not None:
                await held.close()
        await self._reader.dispose()
        if self._writer is not self._reader:
            await self._writer.dispose()
        self.slow_lane.close()


# SQLSTATEs of a connection the server ended (class 08, and operator intervention 57P01-57P03).
_DISCONNECTED = {"57P01", "57P02", "57P03"}
# What asyncpg raises, without a SQLSTATE, on a connection that died under it.
_DISCONNECT_ERRORS = {"ConnectionDoesNotExistError", "InterfaceError", "InternalClientError"}


def _sqlstate(exc: DBAPIError) -> str | None:
    code = getattr(exc.orig, "sqlstate", None) or getattr(
        getattr(exc.orig, "__cause__", None), "sqlstate", None
    )
    return code if isinstance(code, str) else None


def is_disconnect(exc: BaseException) -> bool:
    """True when the database connection was lost (a failover, a restart, pg_terminate_backend):
    the work did not happen, or not visibly, and running it again on a new connection is right."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    code = _sqlstate(exc)
    if code is not None and (code.startswith("08") or code in _DISCONNECTED):
        return True
    causes = {type(exc.orig).__name__, type(getattr(exc.orig, "__cause__", None)).__name__}
    return bool(causes & _DISCONNECT_ERRORS)


def _is_retryable(exc: DBAPIError) -> bool:
    """A deadlock, a serialisation failure or a lost connection: the transaction rolled back."""
    return _sqlstate(exc) in {"40001", "40P01"} or is_disconnect(exc)
