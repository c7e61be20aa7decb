"""SQLite for SQLAlchemy's async engine, run on the event loop instead of in a thread.

aiosqlite gives each connection a worker thread and hands it every statement, every fetch and
every cursor close: two thread switches and a GIL handoff each, which on a busy two-core machine
cost far more than the indexed lookups they carry (measured: a SCIM filter GET spent most of its
time waiting for those handoffs). An SQLite statement on a local file takes microseconds, so this
driver runs it inline.

Inline must never mean blocked on another process: connections are opened with a zero busy
timeout, and a statement that finds the database locked (SQLITE_BUSY) is retried after an
asyncio sleep, with backoff, until the connection's `timeout` has passed; then the `database is
locked` error surfaces as it would have from the driver's own wait.

The URL scheme is `sqlite+enlist_inline:///path`; `enlist.db.database` registers it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, Self, TypeVar

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)

T = TypeVar("T")

DRIVER = "enlist_inline"
DEFAULT_TIMEOUT_S = 30.0
FIRST_RETRY_S = 0.001
LONGEST_RETRY_S = 0.05
SQLITE_BUSY = 5


def _busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return bool(code & 0xFF == SQLITE_BUSY)
    return "database is locked" in str(exc)


class InlineConnection:
    """The subset of `aiosqlite.Connection` SQLAlchemy's adapter uses, over a plain connection."""

    def __init__(self, connection: sqlite3.Connection, timeout_s: float) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection
        self.timeout_s = timeout_s

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """`work(*args)` now; while the database is locked by another connection, again later."""
        try:
            return work(*args)
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        delay = FIRST_RETRY_S
        while True:
            await asyncio.sleep(delay)
            try:
                return work(*args)
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or loop.time() >= deadline:
                    raise
            delay = min(delay * 2, LONGEST_RETRY_S)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def execute_now(self, sql: str) -> None:
        """Run one statement without parameters (BEGIN) on the driver; use through `run`."""
        self._conn.execute(sql)

    def cursor(self) -> InlineCursor:
        return InlineCursor(self, self._conn.cursor())

    async def commit(self) -> None:
        await self.run(self._conn.commit)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._connection = None
        self._conn.close()

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)


class InlineCursor:
    """The subset of `aiosqlite.Cursor` SQLAlchemy's adapter uses."""

    __slots__ = ("_connection", "_cursor")

    def __init__(self, connection: InlineConnection, cursor: sqlite3.Cursor) -> None:
        self._connection = connection
        self._cursor = cursor

    async def __aenter__(self) -> Self:
        return self

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, operation: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> InlineCursor:
        await self._connection.run(self._cursor.execute, operation, parameters)
        return self

    async def executemany(self, operation: str, parameters: Sequence[Any]) -> InlineCursor:
        await self._connection.run(self._cursor.executemany, operation, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class AdaptedInlineConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite adapter, minus the hop to aiosqlite's thread for isolation_level."""

    __slots__ = ()

    @property
    def isolation_level(self) -> str | None:
        return self._connection._conn.isolation_level  # type: ignore[no-any-return]  # noqa: SLF001

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._connection._conn.isolation_level = value  # noqa: SLF001

    def _terminate_force_close(self) -> None:
        self._connection._conn.close()  # noqa: SLF001


class InlineDbapi(AsyncAdapt_aiosqlite_dbapi):
    def __init__(self) -> None:
        super().__init__(sqlite3, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> AdaptedInlineConnection:
        timeout_s = float(kw.pop("timeout", DEFAULT_TIMEOUT_S))
        kw.pop("async_creator_fn", None)
        kw["check_same_thread"] = False  # the pool may close it from the thread that exits
        connect: Any = sqlite3.connect  # the file name and options come from SQLAlchemy's URL
        connection = connect(*arg, timeout=0, **kw)
        # InlineConnection provides what the adapter uses of an aiosqlite connection, not all of it.
        return AdaptedInlineConnection(self, InlineConnection(connection, timeout_s))  # type: ignore[arg-type]


class SQLiteDialectInline(SQLiteDialect_aiosqlite):
    """`sqlite+enlist_inline`: the aiosqlite dialect's SQL, without its thread."""

    driver = DRIVER
    supports_statement_cache = True
    has_terminate = True

    @classmethod
    def import_dbapi(cls) -> InlineDbapi:
        return InlineDbapi()

    def retrieve_dbapi_version(self, dbapi: Any) -> Any:  # noqa: ARG002
        return None
