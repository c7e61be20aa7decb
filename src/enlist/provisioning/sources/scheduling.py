"""Reads on the scheduler: every `serve` process polls for sources whose interval has passed
(active, `next_read_at` passed, lease free) and reads each under its lease, so several
processes over one PostgreSQL never read one source twice at once."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from enlist.db.rows import now
from enlist.provisioning.service import Service
from enlist.provisioning.sources import store as source_store
from enlist.provisioning.sources.read import SourceBusyError, read_source
from enlist.provisioning.sources.tables import sources

logger = logging.getLogger(__name__)


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
            await read_source(service, source)
        except SourceBusyError:
            continue  # another process took it
        except Exception:  # recorded on the source; the other sources still run
            logger.warning("read of source %s failed", source.name, exc_info=True)
        ran += 1
    return ran
