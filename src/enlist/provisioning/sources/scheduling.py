"""Reads on the scheduler: every `serve` process polls for sources whose interval has passed
(active, `next_read_at` passed, lease free) and reads each under its lease, so several
processes over one PostgreSQL never read one source twice at once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from enlist.db.rows import now
from enlist.provisioning.service import Service
from enlist.provisioning.sources import store as source_store
from enlist.provisioning.sources.read import SourceBusyError, claim_read, read_source
from enlist.provisioning.sources.store import Source
from enlist.provisioning.sources.tables import sources

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NextRead:
    """When the scheduler reads a source next, by the rule `due_source_ids` applies: `paused`
    (never, until resumed), `running` (a read holds the lease now), `due` (at the next poll of
    a `serve` process) or `scheduled` (at `at`)."""

    state: Literal["paused", "running", "due", "scheduled"]
    at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "at": self.at.isoformat() if self.at else None}


def next_read(source: Source, moment: datetime) -> NextRead:
    if source.state != "active":
        return NextRead("paused", None)
    if source.lease_owner is not None and (
        source.lease_expires_at is None or source.lease_expires_at >= moment
    ):
        return NextRead("running", source.next_read_at)
    if source.next_read_at is not None and source.next_read_at <= moment:
        return NextRead("due", source.next_read_at)
    return NextRead("scheduled", source.next_read_at)


async def due_source_ids(service: Service) -> list[int]:
    moment = now()
    async with service.db.read() as conn:
        rows = await conn.execute(
            sa.select(sources.c.id)
            .where(
                (sources.c.state == "active")
                # A push source is never read: its clients write into it (sources.push).
                & (sources.c.kind != "scim-push")
                & (sources.c.next_read_at <= moment)
                & (sources.c.lease_owner.is_(None) | (sources.c.lease_expires_at < moment))
            )
            .order_by(sources.c.next_read_at)
        )
        return [r[0] for r in rows]


async def read_due(service: Service) -> int:
    ran = 0
    for source_id in await due_source_ids(service):
        async with service.db.read() as conn:
            source = await source_store.get_source_by_id(conn, source_id)
        try:
            # Claimed only while still due: the list may be stale (another process read it since).
            claim = await claim_read(service, source, full=False, due_only=True)
            await read_source(service, source, claim=claim)
        except SourceBusyError:
            continue  # another process holds or already did this read
        except Exception:  # recorded on the source; the other sources still run
            logger.warning("read of source %s failed", source.name, exc_info=True)
        ran += 1
    return ran
