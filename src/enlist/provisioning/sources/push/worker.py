"""The bulk-upload worker: runs in every `serve` process, applies queued bulk uploads.

It wakes when a request was just accepted in this process (`wake`), and otherwise every
`poll_seconds`, so a job accepted by another process, or left half-done by one that was
killed, is taken over (the job's lease: see `bulk.claim_next`). Several processes may run it
on one PostgreSQL database: a job is processed by one lease holder at a time, and an operation
is applied at most once even if two ever overlapped (`bulk._one`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from enlist.db.leases import owner_id
from enlist.provisioning.service import Service
from enlist.provisioning.sources.push.jobs import claim_next, process_job

logger = logging.getLogger(__name__)


async def drain(service: Service) -> int:
    """Process every job that can be claimed now; how many were processed."""
    done = 0
    while True:
        owner = owner_id()
        job = await claim_next(service, owner)
        if job is None:
            return done
        await process_job(service, job, owner)
        done += 1


async def run(service: Service, wake: asyncio.Event, poll_seconds: float) -> None:
    """Drain, then sleep until woken or `poll_seconds` pass; forever (cancel to stop)."""
    while True:
        try:
            await drain(service)
        except Exception:
            # A failure of the database is retried on the next wake; the job's lease lapses.
            logger.exception("the bulk-upload worker failed; it retries")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), poll_seconds)
        wake.clear()
