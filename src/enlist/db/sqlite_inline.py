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

Inline must not mean one statement holds the loop either: a SELECT still running after
`slow_lane.INLINE_SLICE_S` is interrupted by SQLite's progress handler and run again on the slow
lane's threads (`enlist.db.slow_lane`); any other statement is interrupted at the request's
deadline, which rolls its transaction back (raised as `TimeoutError`, as the deadline would).

The URL scheme is `sqlite+enlist_inline:///path`; `enlist.db.database` registers it.
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Self, TypeVar

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)

from enlist.db.admission import DEADLINE
from enlist.db.slow_lane import INLINE_SLICE_S, SlowLane

T = TypeVar("T")

DRIVER = "enlist_inline"
DEFAULT_TIMEOUT_S = 30.0
FIRST_RETRY_S = 0.001
LONGEST_RETRY_S = 0.05
SQLITE_BUSY = 5
SQLITE_INTERRUPT = 9
PROGRESS_EVERY = 16  # VM instructions between looks at the clock: one LIKE may be one instruction of ~20 ms


def _busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return bool(code & 0xFF == SQLITE_BUSY)
    return "database is locked" in str(exc)


class InlineConnection:
    """The subset of `aiosqlite.Connection` SQLAlchemy's adapter uses, over a plain connection."""

    def __init__(self, connection: sqlite3.Connection, timeout_s: float, slow_lane: SlowLane | None) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection
        self.timeout_s = timeout_s
        self._slow_lane = slow_lane
        self._stop_at = math.inf  # time.monotonic() at which the running statement is interrupted
        connection.set_progress_handler(self._overdue, PROGRESS_EVERY)

    def _overdue(self) -> int:
        return 1 if time.monotonic() >= self._stop_at else 0

    async def statement(
        self, operation: str, parameters: Any, *, many: bool = False, cursor: sqlite3.Cursor | None = None
    ) -> tuple[sqlite3.Cursor, list[Any] | None]:
        """Run one statement on `cursor` (a new one if None); a SELECT comes back with all its
        rows, fetched in the same step (a scan may happen in the fetch as much as in the execute).

        Inline, a SELECT has `INLINE_SLICE_S`, then runs again on the slow lane; any statement
        still running at the request deadline is interrupted and `TimeoutError` raised."""
        on = cursor if cursor is not None else self._conn.cursor()
        sliced = self._slow_lane is not None and not many and operation.lstrip()[:6].upper() == "SELECT"
        deadline = DEADLINE.get()

        def attempt() -> list[Any] | None:
            self._stop_at = min(
                time.monotonic() + INLINE_SLICE_S if sliced else math.inf, deadline or math.inf
            )
            try:
                return _step(on, operation, parameters, many=many, fetch=sliced)
            finally:
                self._stop_at = math.inf

        try:
            return on, await self.run(attempt)
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", None) != SQLITE_INTERRUPT:
                raise
            if deadline is not None and time.monotonic() >= deadline:
                await _let_the_deadline_fire()
                raise TimeoutError(f"interrupted at the request deadline: {operation[:80]}") from exc
            if not sliced:
                raise
        assert self._slow_lane is not None
        return on, await self._slow_lane.run(lambda stop: self._on_thread(stop, on, operation, parameters))

    def _on_thread(
        self, stop: threading.Event, cursor: sqlite3.Cursor, operation: str, parameters: Any
    ) -> list[Any]:
        self._conn.set_progress_handler(lambda: 1 if stop.is_set() else 0, PROGRESS_EVERY)
        try:
            return cursor.execute(operation, parameters).fetchall()
        finally:
            self._conn.set_progress_handler(self._overdue, PROGRESS_EVERY)

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


async def _let_the_deadline_fire() -> None:
    """The request's own timeout is due but has not run (the statement held the loop): give the
    loop the turns it takes to run it, so this task is cancelled as the deadline cancels, which
    handlers do not catch (they turn an exception into a 500). Without one, `TimeoutError`."""
    for _ in range(3):
        await asyncio.sleep(0)


def _step(
    cursor: sqlite3.Cursor, operation: str, parameters: Any, *, many: bool, fetch: bool
) -> list[Any] | None:
    if many:
        cursor.executemany(operation, parameters)
        return None
    cursor.execute(operation, parameters)
    return cursor.fetchall() if fetch else None


class InlineCursor:
    """The subset of `aiosqlite.Cursor` SQLAlchemy's adapter uses."""

    __slots__ = ("_connection", "_cursor", "_rows")

    def __init__(self, connection: InlineConnection, cursor: sqlite3.Cursor) -> None:
        self._connection = connection
        self._cursor = cursor
        self._rows: list[Any] | None = None  # a SELECT's rows, fetched with its execute

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
        _, self._rows = await self._connection.statement(operation, parameters, cursor=self._cursor)
        return self

    async def executemany(self, operation: str, parameters: Sequence[Any]) -> InlineCursor:
        self._rows = None
        await self._connection.statement(operation, parameters, many=True, cursor=self._cursor)
        return self

    async def fetchone(self) -> Any:
        if self._rows is None:
            return self._cursor.fetchone()
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self._cursor.arraysize if size is None else size
        if self._rows is None:
            return self._cursor.fetchmany(count)
        taken, self._rows = self._rows[:count], self._rows[count:]
        return taken

    async def fetchall(self) -> list[Any]:
        if self._rows is None:
            return self._cursor.fetchall()
        taken, self._rows = self._rows, []
        return taken

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
        slow_lane = kw.pop("slow_lane", None)
        kw.pop("async_creator_fn", None)
        kw["check_same_thread"] = False  # the pool may close it from the thread that exits
        connect: Any = sqlite3.connect  # the file name and options come from SQLAlchemy's URL
        connection = connect(*arg, timeout=0, **kw)
        # InlineConnection provides what the adapter uses of an aiosqlite connection, not all of it.
        return AdaptedInlineConnection(self, InlineConnection(connection, timeout_s, slow_lane))  # type: ignore[arg-type]


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
