"""The built-in directory as the engine's `Source` port (`enlist.provisioning.engine.ports`).

Each call reads in its own read transaction; a paged read (`iter_users`, `iter_groups`) holds one
transaction for all its pages, so on SQLite it sees one snapshot. A database failure surfaces as
`SourceReadError`, the one error on which a cycle sends no disable and no delete.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.db.database import Database
from enlist.provisioning.directory import store
from enlist.provisioning.directory.model import ChangeEntry, SourceGroup, SourceUser
from enlist.provisioning.engine.ports import SourceReadError

_READ_ERRORS = (sa.exc.SQLAlchemyError, OSError)


class DirectorySource:
    """Reads the directory in `db` (the provisioning database)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self.db.read() as conn:
                yield conn
        except _READ_ERRORS as exc:
            raise SourceReadError(f"the directory could not be read: {exc}") from exc

    async def current_seq(self) -> int:
        async with self._reading() as conn:
            return await store.current_seq(conn)

    async def changes_since(self, seq: int) -> list[ChangeEntry]:
        async with self._reading() as conn:
            return await store.changes_since(conn, seq)

    async def iter_users(self, page_size: int = 500) -> AsyncIterator[list[SourceUser]]:
        async with self._reading() as conn:
            async for page in store.iter_users(conn, page_size):
                yield page

    async def iter_groups(self, page_size: int = 500) -> AsyncIterator[list[SourceGroup]]:
        async with self._reading() as conn:
            async for page in store.iter_groups(conn, page_size):
                yield page

    async def get_users(self, ids: Iterable[str]) -> dict[str, SourceUser]:
        async with self._reading() as conn:
            return await store.get_users(conn, ids)

    async def get_groups(self, ids: Iterable[str]) -> dict[str, SourceGroup]:
        async with self._reading() as conn:
            return await store.get_groups(conn, ids)

    async def groups_containing(self, member_ids: Iterable[str]) -> dict[str, set[str]]:
        async with self._reading() as conn:
            return await store.groups_containing(conn, member_ids)

    async def reports_of(self, manager_ids: Iterable[str]) -> set[str]:
        async with self._reading() as conn:
            return await store.reports_of(conn, manager_ids)
