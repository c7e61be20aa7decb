"""The scheduler: runs each application's cycles when they are due, across processes.

Every `enlist provisioning serve` process polls for due applications (active or quarantined,
`next_run_at` passed, lease free) and runs them one at a time under the application's lease, so
several processes (or `--workers`) over one database share the work and never run one
application twice: the claim itself checks that the application is still due, since the list a
process found may be stale by the time it reaches an application.
"""

from __future__ import annotations

import asyncio
import logging

import sqlalchemy as sa

from enlist.db.rows import now
from enlist.provisioning.directory.lifecycle import purge_deleted
from enlist.provisioning.engine.runner import AppPausedError, CycleBusyError, run_cycle
from enlist.provisioning.logs import store as log_store
from enlist.provisioning.notify import token_expiry
from enlist.provisioning.notify.outbox import prune as prune_notifications
from enlist.provisioning.service import Service
from enlist.provisioning.store.apps import get_app_by_id, list_apps
from enlist.provisioning.store.tables import applications

logger = logging.getLogger(__name__)


async def due_app_ids(service: Service) -> list[int]:
    moment = now()
    async with service.db.read() as conn:
        rows = await conn.execute(
            sa.select(applications.c.id)
            .where(
                applications.c.state.in_(("active", "quarantined"))
                & (applications.c.next_run_at <= moment)
                & (applications.c.lease_owner.is_(None) | (applications.c.lease_expires_at < moment))
            )
            .order_by(applications.c.next_run_at)
        )
        return [r[0] for r in rows]


async def run_due(service: Service, owner: str | None = None) -> int:
    """Run every application that is due now; returns how many cycles ran here. Each cycle claims
    the lease as `owner`, a fresh `leases.owner_id()` per cycle by default."""
    ran = 0
    for app_id in await due_app_ids(service):
        async with service.db.read() as conn:
            app = await get_app_by_id(conn, app_id)
        try:
            await run_cycle(service, app, owner=owner, due_only=True)
            ran += 1
        except (CycleBusyError, AppPausedError):
            continue  # another claim holds or already ran it, or it was paused since found due
        except Exception:
            logger.exception("cycle of application %s failed", app.name)
    return ran


HOUSEKEEPING_EVERY_S = 3600.0


async def housekeeping(service: Service) -> dict[str, int]:
    """Hard-delete directory objects soft-deleted more than 30 days ago (the engine then sends
    their DELETE), drop provisioning log records and delivered notifications past each app's
    retention, and raise or clear each app's "Secret token about to expire" alert."""
    async with service.db.write() as conn:
        purged = await purge_deleted(conn, now())
        pruned = notifications = 0
        for app in await list_apps(conn):
            pruned += await log_store.prune(conn, app.id, app.settings.log_retention_days)
            notifications += await prune_notifications(conn, app.id, app.settings.log_retention_days, now())
        expiring = await token_expiry.check_all(conn, service.secrets.open, now())
    return {"purged": purged, "pruned": pruned, "notifications": notifications, "token_expiry": expiring}


async def read_due_sources(service: Service) -> int:
    """Read every active source whose interval has passed and whose lease is free; how many
    reads ran here (a failed or held read counts: it is recorded on the source)."""
    from enlist.provisioning.sources.scheduling import read_due  # noqa: PLC0415 (no import cycle)

    return await read_due(service)


async def send_notifications(service: Service) -> int:
    """Deliver the outbox's due notifications (each under its own lease); how many were tried."""
    from enlist.provisioning.notify.sender import send_due  # noqa: PLC0415 (only the loop sends)

    return len(await send_due(service))


async def scheduler_loop(service: Service, poll_seconds: float) -> None:
    loop = asyncio.get_running_loop()
    next_housekeeping = loop.time()
    while True:
        try:
            await read_due_sources(service)  # before the cycles, which then carry what it changed
            if loop.time() >= next_housekeeping:
                await housekeeping(service)
                next_housekeeping = loop.time() + HOUSEKEEPING_EVERY_S
            await run_due(service)
            await send_notifications(service)  # after the cycles: what they raised goes out now
        except Exception:
            logger.exception("scheduler pass failed; trying again")
        await asyncio.sleep(poll_seconds)
