"""Preview: the next cycle's plan, run by the cycle's own code, with nothing sent and nothing kept.

A preview is the real `Cycle` (the same work, scope, matching, mappings and delta against the
last-written values) with two things swapped (ADR 0038):

- the target is a `WithheldWrites`: reads (the probe, matching's filtered GETs) go to the real
  target as the cycle would send them; creates, PATCHes and DELETEs are withheld and answered as a
  SCIM service would, so the rest of the cycle (links, memberships, removals) plans on;
- the database is one transaction that is rolled back at the end: every link, last-written
  value, membership, escrow, staged deletion and log record the cycle writes is seen by its own
  later steps and then discarded, even when the process dies mid-way.

The preview holds the application's lease like a cycle, so no cycle changes the state under it,
and its counts are those of the cycle that follows it when nothing changed in between.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.db.database import Database
from enlist.db.leases import owner_id
from enlist.provisioning.directory.source import DirectorySource
from enlist.provisioning.engine.cycle import Cycle
from enlist.provisioning.engine.mapped import Mappings
from enlist.provisioning.engine.ports import SourceReadError
from enlist.provisioning.engine.runner import (
    CycleBusyError,
    claim,
    release,
    target_for,
    work_for,
)
from enlist.provisioning.engine.scope import Assignments
from enlist.provisioning.engine.summary import COUNTS
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store.apps import App
from enlist.provisioning.store.tables import links, provisioning_log

T = TypeVar("T")


class WithheldWrites:
    """A target whose reads go through and whose writes are withheld (counted, never sent)."""

    def __init__(self, target: Any) -> None:
        self._target = target
        self.reads = 0
        self.withheld = 0

    async def test_connection(self) -> Any:
        self.reads += 1
        return await self._target.test_connection()

    async def find_users(self, attribute: str, value: str) -> list[dict[str, Any]]:
        self.reads += 1
        return cast("list[dict[str, Any]]", await self._target.find_users(attribute, value))

    async def find_groups(self, display_name: str) -> list[dict[str, Any]]:
        self.reads += 1
        return cast("list[dict[str, Any]]", await self._target.find_groups(display_name))

    async def create(self, _resource_type: Any, body: Mapping[str, Any]) -> dict[str, Any]:
        self.withheld += 1
        return {**body, "id": f"preview-{uuid.uuid4()}"}  # what a service answers: the body, an id

    async def patch_user(self, _resource_id: str, _changes: Sequence[Any]) -> None:
        self.withheld += 1

    async def patch_group(self, _resource_id: str, _changes: Sequence[Any]) -> None:
        self.withheld += 1

    async def patch_members(self, _group_id: str, add: Sequence[str], remove: Sequence[str]) -> int:
        self.withheld += 1
        return 1 if add or remove else 0

    async def delete(self, _resource_type: Any, _resource_id: str) -> None:
        self.withheld += 1


class _Discard(Exception):  # noqa: N818 (a signal, not an error)
    """Ends the preview's transaction: it is rolled back."""


class OneTransaction:
    """The surface of `Database` a cycle uses (`read`, `write`, `transaction`), every call on one
    connection inside one transaction, taken in turn: the cycle sees its own writes, and they are
    discarded with the transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._turn = asyncio.Lock()  # one connection runs one statement at a time

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self._turn:
            yield self._conn

    write = read

    async def transaction(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        async with self.write() as conn:
            return await work(conn)


@dataclass
class Preview:
    """What the next cycle would do: `app sync --json`'s counts and the planned items."""

    app: str
    kind: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    items: list[dict[str, Any]] = field(default_factory=list)
    target_reads: int = 0
    writes_withheld: int = 0
    status: str = "planned"
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "app": self.app,
            "kind": self.kind,
            "status": self.status,
            **{key: self.counts.get(key, 0) for key in COUNTS},
            "reads_target": True,
            "target_reads": self.target_reads,
            "writes_withheld": self.writes_withheld,
            "error": self.error,
            "items": self.items,
        }


async def items_of_cycle(conn: AsyncConnection, app_id: int, cycle_id: str) -> list[dict[str, Any]]:
    """The cycle's changes one by one, from its log records: `object`, `kind`, `action`,
    `status`, `changes` (attribute → {old, new}). Member lists name source ids where the target
    id is linked, so a preview (whose created objects have no real id) and the cycle compare."""
    rows = list(
        await conn.execute(
            sa.select(provisioning_log)
            .where((provisioning_log.c.app_id == app_id) & (provisioning_log.c.cycle_id == cycle_id))
            .order_by(provisioning_log.c.id)
        )
    )
    named = {
        r.target_id: r.source_id
        for r in await conn.execute(
            sa.select(links.c.target_id, links.c.source_id).where(links.c.app_id == app_id)
        )
    }

    def shown(name: str, value: Any) -> Any:
        if name != "members" or not isinstance(value, str):
            return value
        return ", ".join(sorted(named.get(v, v) for v in value.split(", ")))  # the log's list text

    items = []
    for row in rows:
        modified = row.modified or []
        changes = {
            m["displayName"]: {
                "old": shown(m["displayName"], m.get("oldValue")),
                "new": shown(m["displayName"], m.get("newValue")),
            }
            for m in modified
        }
        items.append(
            {
                "object": row.source_name or row.source_id,
                "source_id": row.source_id,
                "kind": row.object_kind,
                "action": row.action,
                "status": row.status,
                "changes": changes,
            }
        )
    return items


async def preview_cycle(service: Service, app: App, *, initial: bool = False, target: Any = None) -> Preview:
    """Plan the next cycle of `app` without sending a write or keeping a change (module
    docstring); with `initial`, an initial cycle (everything evaluated, as after Restart).
    `CycleBusyError` while a cycle holds the lease. A paused application may be previewed: a
    preview sends nothing, and says what the cycle would do once provisioning is started."""
    owner = owner_id()
    if not await claim(service, app, owner):
        raise CycleBusyError(f"a cycle of {app.name} is running; preview when it ends")
    try:
        async with service.db.read() as conn:
            app = await app_store.get_app_by_id(conn, app.id)
        if initial:
            app = replace(app, watermark=None)
        if target is not None:
            return await _planned(service, app, WithheldWrites(target))
        async with target_for(service, app) as fresh:
            return await _planned(service, app, WithheldWrites(fresh))
    finally:
        await release(service, app, owner)


async def _planned(service: Service, app: App, target: WithheldWrites) -> Preview:
    result = Preview(app.name, "initial" if app.watermark is None else "incremental")
    check = await target.test_connection()
    if not check.ok:
        result.status, result.error = "failed", check.message
        result.target_reads = target.reads
        return result
    source = DirectorySource(service.db)
    try:
        async with service.db.write() as conn:
            state = OneTransaction(conn)
            async with state.read() as inner:
                assignments = Assignments(
                    frozenset(await app_store.assigned_ids(inner, app.id, "user")),
                    frozenset(await app_store.assigned_ids(inner, app.id, "group")),
                )
            seq_end = await source.current_seq()
            work, _pending = await work_for(service, app, source)
            # The cycle's own code, on the transaction instead of the database (same surface).
            cycle = Cycle(cast("Database", state), app, source, target, Mappings.from_app(app), assignments)
            summary = await cycle.run(work, seq_end)
            result.counts = dict(summary.counts)
            async with state.read() as inner:
                result.items = await items_of_cycle(inner, app.id, cycle.id)
            raise _Discard  # noqa: TRY301 (leaving the block by an exception is what rolls it back)
    except _Discard:
        pass
    except SourceReadError as error:
        result.status = "failed"
        result.error = f"the source could not be read, nothing would be deprovisioned: {error}"
    result.target_reads, result.writes_withheld = target.reads, target.withheld
    return result


CSV_COLUMNS = ("object", "kind", "action", "status", "attribute", "old", "new")


def csv_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`Preview.items` as rows of `CSV_COLUMNS`: one per planned attribute change (one for an
    item without changes)."""
    rows: list[dict[str, Any]] = []
    for item in items:
        base = {k: item[k] for k in ("object", "kind", "action", "status")}
        changes = item["changes"] or {"": {"old": None, "new": None}}
        rows.extend({**base, "attribute": a, "old": c["old"], "new": c["new"]} for a, c in changes.items())
    return rows
