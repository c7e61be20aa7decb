"""One read of a source: lease, round, staging, apply, cursor.

The read claims the source's lease (one read of a source at a time across every process),
starts a round from the stored cursor (a full one when asked, when there is no cursor, or when
the source says the cursor expired), stages each page in its own transaction (renewing the
lease), then applies the whole round and stores the new cursor and the read's outcome in ONE
transaction. A read that fails or is cut off before that transaction commits changes nothing in
the directory and keeps the previous cursor; its staged records are discarded.

With the source's `start_cycles_after_read` (default on), a read that changed something asks
every active application's next incremental cycle to run now.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from enlist.db.leases import owner_id
from enlist.db.rows import now
from enlist.logs.events import event
from enlist.metrics.instruments import SOURCE_READ_DURATION, SOURCE_READS
from enlist.provisioning.notify import alerts
from enlist.provisioning.service import Service
from enlist.provisioning.sources import read_log, staging
from enlist.provisioning.sources import store as source_store
from enlist.provisioning.sources.apply import ApplyReport, RoundHeldError, RoundRef, apply_round
from enlist.provisioning.sources.model import CursorExpiredError, Page, SourceReader, SourceUnavailableError
from enlist.provisioning.sources.registry import ReaderConfig, reader_for
from enlist.provisioning.sources.settings import SourceSettings
from enlist.provisioning.sources.store import Source
from enlist.provisioning.store.tables import applications
from enlist.secretbox import SecretBox

logger = logging.getLogger(__name__)

Progress = Callable[[int], None]
"""Called after each staged page with the number of records it held."""


class SourceBusyError(RuntimeError):
    """Another read of this source holds its lease."""


@dataclass(frozen=True, slots=True)
class ReadResult:
    source: str
    kind: str
    report: ApplyReport
    duration_s: float
    records: int
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """`source sync --json`: the contract's keys, then the conflicts and warnings."""
        return {
            "source": self.source,
            "kind": self.kind,
            **self.report.counts,
            "duration_s": round(self.duration_s, 3),
            "conflicts": self.report.conflicts,
            "warnings": self.report.warnings,
        }


def open_reader(source: Source, secrets: SecretBox) -> SourceReader:
    import json  # noqa: PLC0415

    opened = json.loads(secrets.open(source.sealed_secrets)) if source.sealed_secrets else {}
    return reader_for(source.kind, ReaderConfig(source.name, source.settings, opened))


@dataclass(frozen=True, slots=True)
class Claim:
    """A read's hold on its source: the lease's owner and the read's row in the source's log."""

    owner: str
    read_id: int


async def claim_read(
    service: Service, source: Source, *, full: bool, trigger: str = "schedule", due_only: bool = False
) -> Claim:
    """Take the source's lease and record the read as running (in the source and its log), in
    one transaction; `SourceBusyError` when another read, of any process, holds the lease (or,
    with `due_only`, when the source is no longer due: the scheduler's claims)."""
    owner = owner_id()
    async with service.db.write() as conn:
        if not await source_store.claim(conn, source.id, owner, due_only=due_only):
            raise SourceBusyError(
                f"a read of {source.name} is running in another process; try again when it ends"
            )
        moment = now()
        await source_store.update_source(
            conn, source.id, last_started_at=moment, last_status="running", last_error=None
        )
        requested = "full" if full or source.cursor is None else "delta"
        read_id = await read_log.start(
            conn, source.id, owner, trigger=trigger, requested=requested, moment=moment
        )
    return Claim(owner, read_id)


async def read_source(
    service: Service,
    source: Source,
    *,
    full: bool = False,
    allow_deletes: bool = False,
    progress: Progress | None = None,
    reader: SourceReader | None = None,
    claim: Claim | None = None,
    trigger: str = "schedule",
) -> ReadResult:
    """One read of `source` now, under `claim` when the caller has already claimed the lease
    (`claim_read`). Raises `SourceBusyError`, `NoReaderError`, `SourceUnavailableError` or
    `RoundHeldError`; in every case the directory is as before."""
    claim = claim or await claim_read(service, source, full=full, trigger=trigger)
    owner = claim.owner
    started = time.monotonic()
    heartbeat = asyncio.create_task(_heartbeat(service, source.id, owner))
    try:
        settings = SourceSettings.from_json(source.settings)  # a bad stored value fails the read
        reader = reader or open_reader(source, service.secrets)
        result = await _read(service, source, reader, settings, claim, full, allow_deletes, progress, started)
    except BaseException as exc:
        SOURCE_READS.labels(source.kind, "failed").inc()
        SOURCE_READ_DURATION.labels(source.kind).observe(time.monotonic() - started)
        await _failed(service, source, claim, time.monotonic() - started, exc)
        raise
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat
        async with service.db.write() as conn:
            await source_store.release(conn, source.id, owner)
    SOURCE_READS.labels(source.kind, "succeeded").inc()
    SOURCE_READ_DURATION.labels(source.kind).observe(time.monotonic() - started)
    # Conflicts are never merged; the read's result names them. The log line counts them only:
    # a userPrincipalName is a person's attribute, which no log line carries (docs/reference/logs.md).
    event(
        "source.read",
        logging.WARNING if result.report.conflicts else logging.INFO,
        source=source.name,
        source_kind=source.kind,
        outcome="succeeded",
        read=result.kind,
        counts=dict(result.report.counts),
        conflicts=len(result.report.conflicts),
        records=result.records,
        duration_ms=round(result.duration_s * 1000, 3),
    )
    return result


async def _read(
    service: Service,
    source: Source,
    reader: SourceReader,
    settings: SourceSettings,
    claim: Claim,
    full: bool,
    allow_deletes: bool,
    progress: Progress | None,
    started: float,
) -> ReadResult:
    cursor = None if full else source.cursor
    while True:
        round_id = str(uuid.uuid4())
        async with service.db.write() as conn:
            await staging.discard(conn, source.id)  # an abandoned round's records, if any
        count = 0
        try:
            round_ = await reader.start_round(cursor, full=cursor is None)
            async for page in round_.pages():
                count += await _stage(service, source, round_id, claim, page, count)
                if progress is not None:
                    progress(count)
            break
        except CursorExpiredError:
            if cursor is None:
                raise  # a full round cannot have an expired cursor: the source is wrong
            cursor = None  # Graph's 410 / resync, at the start or mid-round: read everything
    ref = RoundRef(source.id, source.name, round_id, round_.kind)
    async with service.db.write() as conn:
        # Applied only by the lease's holder, checked in the applying transaction itself.
        if not await source_store.renew(conn, source.id, claim.owner):
            raise SourceUnavailableError(f"the lease on {source.name} was taken over; nothing was applied")
        moment = now()
        report = await apply_round(
            conn, ref, threshold=settings.deletion_threshold, allow_deletes=allow_deletes, now=moment
        )
        duration = time.monotonic() - started
        result = ReadResult(source.name, round_.kind, report, duration, count)
        await source_store.update_source(
            conn,
            source.id,
            cursor=round_.cursor,
            last_finished_at=moment,
            last_status="ok",
            last_counts=result.to_json(),
            last_error=None,
            next_read_at=moment + timedelta(minutes=source.interval_minutes),
        )
        await read_log.finish(
            conn,
            claim.read_id,
            status="ok",
            finished_at=moment,
            kind=round_.kind,
            records=count,
            counts=dict(report.counts),
            duration_s=round(duration, 3),
            conflicts=report.conflicts,
            warnings=report.warnings,
        )
        await alerts.source_read_ok(conn, source.id, source.name, moment)
        if report.changed and settings.start_cycles_after_read:
            await conn.execute(
                applications.update()
                .where((applications.c.state == "active") & (applications.c.next_run_at > moment))
                .values(next_run_at=moment)
            )
    return result


async def _heartbeat(service: Service, source_id: int, owner: str) -> None:
    """Renew the lease while the read runs, pages or not (a reader may wait out a long
    Retry-After between two pages); stops when the lease is no longer ours."""
    while True:
        await asyncio.sleep(source_store.LEASE.total_seconds() / 3)
        async with service.db.write() as conn:
            if not await source_store.renew(conn, source_id, owner):
                return


async def _stage(
    service: Service, source: Source, round_id: str, claim: Claim, page: Page, before: int
) -> int:
    async with service.db.write() as conn:
        if not await source_store.renew(conn, source.id, claim.owner):
            raise SourceUnavailableError(f"the lease on {source.name} was taken over; this read stops")
        staged = await staging.stage(conn, source.id, round_id, page)
        await read_log.progress(conn, claim.read_id, before + staged)  # what the log shows meanwhile
        return staged


async def _failed(
    service: Service, source: Source, claim: Claim, duration: float, exc: BaseException
) -> None:
    status = "held" if isinstance(exc, RoundHeldError) else "failed"
    error = str(exc) or type(exc).__name__
    if isinstance(exc, asyncio.CancelledError):
        error = "the read was stopped before it ended (its process shut down); nothing of it was applied"
    moment = now()
    async with service.db.write() as conn:
        await staging.discard(conn, source.id)
        await source_store.update_source(
            conn,
            source.id,
            last_finished_at=moment,
            last_status=status,
            last_error=error,
            next_read_at=moment + timedelta(minutes=source.interval_minutes),
        )
        await read_log.finish(
            conn,
            claim.read_id,
            status=status,
            finished_at=moment,
            duration_s=round(duration, 3),
            error=error,
        )
        if status == "failed":  # a held round waits for an admin; it is not a failing source
            await alerts.source_read_failed(conn, source.id, source.name, error, moment)
    event(
        "source.read",
        logging.WARNING,
        source=source.name,
        source_kind=source.kind,
        outcome=status,
        error=error,
        duration_ms=round(duration * 1000, 3),
    )


__all__ = ["Claim", "ReadResult", "SourceBusyError", "SourceUnavailableError", "claim_read", "read_source"]
