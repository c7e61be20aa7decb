"""A cycle's state and bookkeeping: counts, log records, links and escrows written in batches.

Kept apart from the passes (`cycle.py`, `references.py`) so that each pass reads as the steps it
takes. Records and link writes are buffered and flushed per page in one transaction.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from enlist.db.database import Database
from enlist.metrics.instruments import OBJECTS_PROCESSED
from enlist.provisioning.engine.mapped import Mappings
from enlist.provisioning.engine.plan import Action, LinkState
from enlist.provisioning.engine.ports import Source, Target
from enlist.provisioning.engine.scope import Assignments, ScopeDecision
from enlist.provisioning.engine.summary import CycleSummary
from enlist.provisioning.logs import store as log_store
from enlist.provisioning.logs.records import LogRecord
from enlist.provisioning.store import links as link_store
from enlist.provisioning.store.apps import App
from enlist.provisioning.target.errors import TargetError, TransientError

PAGE = 200  # objects evaluated, and their records and links written, per transaction

StopCheck = Callable[[], Awaitable[bool]]
Progress = Callable[[int, int], Awaitable[None]]


class CycleStopped(Exception):  # noqa: N818 (a signal, not an error)
    """Pause was pressed: the cycle ends at an object boundary."""


@dataclass
class Removal:
    """A disable or delete, held until the threshold check at the end of the cycle."""

    kind: str
    source_id: str
    name: str
    action: Action
    link: LinkState
    record: LogRecord


class CycleState:
    def __init__(
        self,
        db: Database,
        app: App,
        source: Source,
        target: Target,
        mappings: Mappings,
        assignments: Assignments,
        *,
        stop_requested: StopCheck | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.db, self.app, self.source, self.target, self.mappings = db, app, source, target, mappings
        self.assignments = assignments
        self.settings = app.settings
        self.stop_requested = stop_requested
        self.progress = progress
        self.id = str(uuid.uuid4())
        self.kind = "initial" if app.watermark is None else "incremental"
        self.summary = CycleSummary(cycle_id=self.id, kind=self.kind)
        self.removals: list[Removal] = []
        self.effective_groups: frozenset[str] = frozenset()
        self.touched_users: set[str] = set()
        self.evaluated_users: set[str] = set()
        self.new_user_links: set[str] = set()
        self.done = 0
        self.total = 0
        self._last_stop_check = 0.0
        self._records: list[LogRecord] = []
        self._links: dict[tuple[str, str], tuple[str, dict[str, Any], bool] | None] = {}
        self._escrow: list[tuple[str, str, str, str, bool]] = []
        self._members: list[tuple[str, list[str], list[str]]] = []
        self._cleared_escrow: dict[str, set[str]] = {"user": set(), "group": set()}
        self._lock = asyncio.Lock()
        self.staging = False
        self.held: set[str] = set()

    def _check_threshold(self) -> None:
        """Past the accidental-deletion threshold nothing is removed this cycle: not the users,
        and not their memberships either."""
        threshold = self.settings.deletion_threshold
        if threshold and len(self.removals) >= threshold and not self.app.allow_deletes:
            self.staging = True
            self.held = {r.source_id for r in self.removals}

    async def _checkpoint(self) -> None:
        """Between objects: honour Pause (checked at most once a second) and report progress."""
        self.done += 1
        moment = time.monotonic()
        if moment - self._last_stop_check < 1.0:
            return
        self._last_stop_check = moment
        if self.progress:
            await self.progress(self.done, max(self.total, self.done))
        if self.stop_requested and await self.stop_requested():
            raise CycleStopped

    def _count(self, key: str, record: LogRecord) -> None:
        self.summary.count(key)
        self._records.append(record)

    async def _linked(
        self, kind: str, source_id: str, target_id: str, state: dict[str, Any], *, disabled: bool
    ) -> None:
        self._links[(kind, source_id)] = (target_id, state, disabled)
        await self._cleared(kind, source_id)

    async def _unlinked(self, kind: str, source_id: str) -> None:
        self._links[(kind, source_id)] = None
        await self._cleared(kind, source_id)

    async def _members_written(self, group_id: str, added: list[str], removed: list[str]) -> None:
        """The target group's members changed: remember it with the next flush."""
        self._members.append((group_id, added, removed))
        await self._cleared("group", group_id)

    async def _cleared(self, kind: str, source_id: str) -> None:
        self._cleared_escrow[kind].add(source_id)

    async def _failed(
        self, record: LogRecord, kind: str, source_id: str, error: TargetError, *, reference: bool = False
    ) -> None:
        """The object failed: log why and what to do, and escrow it for a later cycle."""
        record.fail(error.code, error.reason, error.recommendation)
        if isinstance(error, TransientError):
            record.recommendation = f"{error.recommendation} The engine retries it in the next cycles."
        self._escrow.append((kind, source_id, error.code, error.reason, reference))
        self.summary.count("failed")
        if reference:
            self.summary.reference_failures += 1
        self._records.append(record)

    async def _flush(self) -> None:
        """Write buffered records, links, written memberships and escrows in one transaction."""
        async with self._lock:
            records, self._records = self._records, []
            written, self._links = self._links, {}
            escrowed, self._escrow = self._escrow, []
            members, self._members = self._members, []
            cleared, self._cleared_escrow = self._cleared_escrow, {"user": set(), "group": set()}
            if not (records or written or escrowed or members or any(cleared.values())):
                return

            async def work(conn: Any) -> None:
                app_id = self.app.id
                for group_id, added, removed in members:
                    await link_store.record_members(conn, app_id, group_id, added, removed)
                saved: dict[str, dict[str, tuple[str, dict[str, Any], bool]]] = {"user": {}, "group": {}}
                for (kind, source_id), value in written.items():
                    if value is None:
                        await link_store.drop_link(conn, app_id, kind, source_id)
                    else:
                        saved.setdefault(kind, {})[source_id] = value
                for kind, values in saved.items():
                    await link_store.save_links(conn, app_id, kind, values)
                for kind, ids in cleared.items():
                    await link_store.clear_escrow(
                        conn, app_id, kind, ids - {e[1] for e in escrowed if e[0] == kind}
                    )
                for kind, source_id, code, reason, reference in escrowed:
                    await link_store.escrow(
                        conn, app_id, kind, source_id, code, reason, is_reference=reference
                    )
                await log_store.write(conn, app_id, records)

            await self.db.transaction(work)
            for record in records:  # counted once written, as the provisioning log shows them
                OBJECTS_PROCESSED.labels(record.object_kind, record.action, record.status).inc()


def imported(obj: Any, kind: str) -> str:
    if obj is None:
        return f"The {kind.lower()} is no longer in the source directory"
    name = getattr(obj, "upn", None) or getattr(obj, "display_name", None) or obj.id
    return f"Received {kind} '{name}' from the source directory"


def scoped(scope: ScopeDecision) -> str:
    return ("In scope: " if scope.in_scope else "Out of scope: ") + scope.reason


def details(scope: ScopeDecision) -> dict[str, Any]:
    return {k: v for k, v in scope.details.items() if isinstance(v, (str, bool, int, list))}


async def bounded(tasks: Iterable[Coroutine[Any, Any, None]], limit: int) -> None:
    """Run the tasks with at most `limit` at once (the target client enforces its own limits).

    When one of them reports a Pause (`CycleStopped`), no further task starts, the ones in
    flight finish (their objects are written and logged), and then the Pause is raised."""
    semaphore = asyncio.Semaphore(max(1, limit))
    stopped = False

    async def one(task: Coroutine[Any, Any, None]) -> None:
        nonlocal stopped
        async with semaphore:
            if stopped:
                task.close()
                return
            try:
                await task
            except CycleStopped:
                stopped = True

    await asyncio.gather(*(one(t) for t in tasks))
    if stopped:
        raise CycleStopped
