"""Configured sources in the store: create, find, change, remove, and the lease on their reads.

A source's name is unique (case-insensitively) and is the owner name its directory objects
carry, so `file` (the built-in owner of objects imported by hand) cannot be taken. Its secrets
(a client secret, a certificate's key) are kept sealed, as one JSON document, and never returned
by a listing.

The lease works as the applications' (`enlist.provisioning.engine.runner`): a read claims it
with an owner unique to that claim (`host:pid:token`), renews it while it reads, and releases
it; an expired lease, or one held by a dead process of this host, is free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.db.leases import holder_is_dead
from enlist.db.rows import now
from enlist.provisioning.directory.tables import BUILTIN_OWNER, dir_groups, dir_users
from enlist.provisioning.sources.tables import KINDS, sources

LEASE = timedelta(seconds=120)
DEFAULT_INTERVAL_MINUTES = 5


class UnknownSourceError(LookupError):
    """No source with that name."""


class SourceExistsError(ValueError):
    """A source with that name exists already (or the name is reserved)."""


@dataclass(frozen=True, slots=True)
class Source:
    id: int
    name: str
    kind: str
    settings: dict[str, Any]
    sealed_secrets: str | None
    state: str
    cursor: str | None
    interval_minutes: int
    next_read_at: datetime | None
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_status: str | None
    last_counts: dict[str, Any] | None
    last_error: str | None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """What `source show --json` prints: never the secrets, only whether there are some."""
        return {
            "name": self.name,
            "kind": self.kind,
            "state": self.state,
            "interval_minutes": self.interval_minutes,
            "settings": self.settings,
            "has_secrets": self.sealed_secrets is not None,
            "has_cursor": self.cursor is not None,
            # A file source remembers which file it imported (`name@sha256`).
            **(
                {"imported_file": self.cursor.rpartition("@")[0] if self.cursor else None}
                if self.kind == "file"
                else {}
            ),
            "next_read_at": _iso(self.next_read_at),
            "last_read": {
                "started_at": _iso(self.last_started_at),
                "finished_at": _iso(self.last_finished_at),
                "status": self.last_status,
                "counts": self.last_counts,
                "error": self.last_error,
            },
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _source(row: Any) -> Source:
    m = row._mapping  # noqa: SLF001
    return Source(
        id=m["id"],
        name=m["name"],
        kind=m["kind"],
        settings=dict(m["settings"]),
        sealed_secrets=m["secrets"],
        state=m["state"],
        cursor=m["cursor"],
        interval_minutes=m["interval_minutes"],
        next_read_at=m["next_read_at"],
        last_started_at=m["last_started_at"],
        last_finished_at=m["last_finished_at"],
        last_status=m["last_status"],
        last_counts=m["last_counts"],
        last_error=m["last_error"],
        lease_owner=m["lease_owner"],
        lease_expires_at=m["lease_expires_at"],
    )


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise ValueError("a source needs a name of 1 to 200 characters")
    if "/" in name or any(not c.isprintable() for c in name):
        # The name is a path segment of its pages and of a push source's base URL.
        raise ValueError(f"a source's name cannot contain '/' or control characters: {name!r}")
    if name.casefold() == BUILTIN_OWNER:
        raise SourceExistsError(
            f"{BUILTIN_OWNER!r} is the owner of objects imported by hand; choose another name"
        )
    return name


async def create_source(
    conn: AsyncConnection, name: str, kind: str, settings: dict[str, Any], sealed_secrets: str | None
) -> Source:
    name = check_name(name)
    if kind not in KINDS:
        raise ValueError(f"a source's kind is one of {', '.join(KINDS)}, not {kind!r}")
    if await find_source(conn, name) is not None:
        raise SourceExistsError(f"a source named {name!r} exists already")
    moment = now()
    await conn.execute(
        sources.insert().values(
            name=name,
            name_ci=name.casefold(),
            kind=kind,
            settings=settings,
            secrets=sealed_secrets,
            state="active",
            interval_minutes=DEFAULT_INTERVAL_MINUTES,
            next_read_at=moment,
            created_at=moment,
            updated_at=moment,
        )
    )
    return await get_source(conn, name)


async def find_source(conn: AsyncConnection, name: str) -> Source | None:
    row = (await conn.execute(sa.select(sources).where(sources.c.name_ci == name.strip().casefold()))).first()
    return _source(row) if row else None


async def get_source(conn: AsyncConnection, name: str) -> Source:
    found = await find_source(conn, name)
    if found is None:
        raise UnknownSourceError(
            f"no source named {name!r}; `enlist provisioning source add NAME --kind …` adds one"
        )
    return found


async def get_source_by_id(conn: AsyncConnection, source_id: int) -> Source:
    row = (await conn.execute(sa.select(sources).where(sources.c.id == source_id))).first()
    if row is None:
        raise UnknownSourceError(f"no source with id {source_id}")
    return _source(row)


async def list_sources(conn: AsyncConnection) -> list[Source]:
    return [_source(r) for r in await conn.execute(sa.select(sources).order_by(sources.c.name_ci))]


async def update_source(conn: AsyncConnection, source_id: int, **values: Any) -> None:
    await conn.execute(sources.update().where(sources.c.id == source_id).values(updated_at=now(), **values))


async def reseal_secrets(conn: AsyncConnection, reseal: Callable[[str], str]) -> int:
    """Re-encrypt every source's sealed secrets (a client secret, a certificate) with `reseal`,
    as `app_store.reseal_tokens` does the targets' tokens: raises on the first that does not
    open, and the caller's transaction then changes nothing. How many were re-sealed."""
    column = sources.c.secrets
    rows = (await conn.execute(sa.select(sources.c.id, column).where(column.is_not(None)))).all()
    for row in rows:
        await conn.execute(
            sa.update(sources).where(sources.c.id == row.id).values(secrets=reseal(row.secrets))
        )
    return len(rows)


async def remove_source(conn: AsyncConnection, source: Source) -> int:
    """Remove the source; its objects stay in the directory, handed to the built-in owner (they
    are then managed by hand, known by their own ids). How many objects it handed over."""
    handed = 0
    for table in (dir_users, dir_groups):
        owned = sa.select(table.c.id).where(table.c.source == source.name)
        handed += len((await conn.execute(owned)).all())
        values: dict[str, Any] = {"source": BUILTIN_OWNER, "source_id": None}
        if table is dir_groups:
            # A hand-imported group's name must be unique: a clash keeps its owner's name, suffixed.
            values = {"source_id": None}
        await conn.execute(table.update().where(table.c.source == source.name).values(**values))
    await _hand_groups_over(conn, source.name)
    await conn.execute(sources.delete().where(sources.c.id == source.id))
    return handed


async def _hand_groups_over(conn: AsyncConnection, name: str) -> None:
    """Give the removed source's groups to the built-in owner, one at a time, renaming a group
    whose name a hand-imported group has already (`Sales (hr)`), so the name stays unique."""
    taken = {
        r[0]
        for r in await conn.execute(
            sa.select(dir_groups.c.display_name_ci).where(dir_groups.c.source == BUILTIN_OWNER)
        )
    }
    rows = (
        await conn.execute(
            sa.select(dir_groups.c.id, dir_groups.c.display_name).where(dir_groups.c.source == name)
        )
    ).all()
    for group_id, display_name in rows:
        new_name = display_name
        suffix = 0
        while new_name.casefold() in taken:
            suffix += 1
            new_name = f"{display_name} ({name}{'' if suffix == 1 else f' {suffix}'})"
        taken.add(new_name.casefold())
        await conn.execute(
            dir_groups.update()
            .where(dir_groups.c.id == group_id)
            .values(source=BUILTIN_OWNER, display_name=new_name, display_name_ci=new_name.casefold())
        )


# The lease ---------------------------------------------------------------------------------------


async def claim(conn: AsyncConnection, source_id: int, owner: str, *, due_only: bool = False) -> bool:
    """Take the source's lease: free, expired, or held by a dead process of this host. With
    `due_only` (the scheduler), only while the source is still due: another process's read may
    have moved `next_read_at` on since this one found it due."""
    moment = now()
    holder = (await conn.execute(sa.select(sources.c.lease_owner).where(sources.c.id == source_id))).scalar()
    free = sources.c.lease_owner.is_(None) | (sources.c.lease_expires_at < moment)
    if holder_is_dead(holder):
        free = free | (sources.c.lease_owner == holder)
    if due_only:
        free = free & (sources.c.next_read_at <= moment)
    done = await conn.execute(
        sources.update()
        .where((sources.c.id == source_id) & free)
        .values(lease_owner=owner, lease_expires_at=moment + LEASE)
    )
    return bool(done.rowcount)


async def renew(conn: AsyncConnection, source_id: int, owner: str) -> bool:
    """Extend our lease; False when it is no longer ours (taken over: the read must stop)."""
    done = await conn.execute(
        sources.update()
        .where((sources.c.id == source_id) & (sources.c.lease_owner == owner))
        .values(lease_expires_at=now() + LEASE)
    )
    return bool(done.rowcount)


async def release(conn: AsyncConnection, source_id: int, owner: str) -> None:
    await conn.execute(
        sources.update()
        .where((sources.c.id == source_id) & (sources.c.lease_owner == owner))
        .values(lease_owner=None, lease_expires_at=None)
    )
