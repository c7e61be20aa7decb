"""Prepared statements: a Core statement compiled once and, on SQLite, run on the driver itself.

SQLAlchemy spends a few hundred microseconds around every `execute`: it builds the statement,
derives its cache key, finds the compiled form, makes an execution context and a result. An
indexed SQLite lookup takes a few microseconds. For the statements every SCIM request runs
(the token check, the lookup by login or id, the sync log insert) that overhead is most of the
request. A `Prepared` statement is built once (with `bindparam`s), compiled once per dialect,
and run on SQLite by the inline driver directly, with SQLAlchemy's own bind and result
processors, so what goes in and comes out is exactly what `conn.execute` would give. It still
fires `before_cursor_execute`, so statement-counting tests see it. On other databases it goes
through `conn.execute` (asyncpg has no thread hop to save; the compiled cache serves it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable

from enlist.db.sqlite_inline import InlineConnection

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    binds: tuple[tuple[str, Any, Processor], ...]  # name, default value, processor; in order
    results: tuple[Processor, ...]


class Prepared:
    """One statement, run with keyword parameters; `rows` returns plain tuples."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled: Any = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        # SQLAlchemy's own bind and result processors, as its execution context would apply them.
        processors: Mapping[str, Processor] = compiled._bind_processors  # noqa: SLF001
        binds = tuple(
            (name, compiled.binds[name].value, processors.get(name)) for name in compiled.positiontup or ()
        )
        results = tuple(
            column.type._cached_result_processor(dialect, None)  # noqa: SLF001
            for column in compiled._result_columns or ()  # noqa: SLF001
        )
        return _Compiled(compiled.string, binds, results)

    def _inline(self, conn: AsyncConnection) -> tuple[InlineConnection, _Compiled] | None:
        sync = conn.sync_connection
        if sync is None:
            return None
        driver = sync.connection.driver_connection
        if not isinstance(driver, InlineConnection):
            return None
        name = sync.dialect.name
        compiled = self._compiled.get(name)
        if compiled is None:
            compiled = self._compiled[name] = self._compile(sync.dialect)
        return driver, compiled

    def _parameters(self, compiled: _Compiled, params: Mapping[str, Any]) -> list[Any]:
        out = []
        for name, default, processor in compiled.binds:
            value = params.get(name, default)
            out.append(processor(value) if processor is not None and value is not None else value)
        return out

    def _announce(self, conn: AsyncConnection, sql: str, parameters: Any, *, many: bool) -> None:
        sync = conn.sync_connection
        assert sync is not None
        if sync.dispatch.before_cursor_execute:
            sync.dispatch.before_cursor_execute(sync, None, sql, parameters, None, many)

    async def rows(self, conn: AsyncConnection, **params: Any) -> list[tuple[Any, ...]]:
        """Every row the statement returns, with the columns' result processing applied."""
        inline = self._inline(conn)
        if inline is None:
            result = await conn.execute(self.statement, params)
            return [tuple(r) for r in result]
        driver, compiled = inline
        parameters = self._parameters(compiled, params)
        self._announce(conn, compiled.sql, parameters, many=False)
        cursor, rows = await _execute(driver, compiled.sql, parameters)
        fetched = cursor.fetchall() if rows is None else rows
        if not any(compiled.results):
            return fetched
        processors = compiled.results
        return [
            tuple(p(v) if p is not None else v for p, v in zip(processors, row, strict=True))
            for row in fetched
        ]

    async def first(self, conn: AsyncConnection, **params: Any) -> tuple[Any, ...] | None:
        found = await self.rows(conn, **params)
        return found[0] if found else None

    async def run(self, conn: AsyncConnection, **params: Any) -> int:
        """Execute a statement that returns no rows; returns the row count."""
        inline = self._inline(conn)
        if inline is None:
            return int((await conn.execute(self.statement, params)).rowcount)
        driver, compiled = inline
        parameters = self._parameters(compiled, params)
        self._announce(conn, compiled.sql, parameters, many=False)
        cursor, _ = await _execute(driver, compiled.sql, parameters)
        return int(cursor.rowcount)

    async def run_many(self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Execute the statement once per parameter set (an executemany)."""
        if not rows:
            return
        inline = self._inline(conn)
        if inline is None:
            await conn.execute(self.statement, list(rows))
            return
        driver, compiled = inline
        parameters = [self._parameters(compiled, r) for r in rows]
        self._announce(conn, compiled.sql, parameters, many=True)
        await _execute(driver, compiled.sql, parameters, many=True)


async def _execute(
    driver: InlineConnection, sql: str, parameters: Any, *, many: bool = False
) -> tuple[sqlite3.Cursor, list[Any] | None]:
    """Run on the driver (under its time limits); its errors become SQLAlchemy's
    (`IntegrityError` and the rest), as `conn.execute` would raise them."""
    try:
        return await driver.statement(sql, parameters, many=many)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(sql, parameters, exc, sqlite3.Error) from exc
