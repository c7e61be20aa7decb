"""The API's long operations as jobs in the database (ADR 0030).

A route that would outlive a request (an application's cycle, a source's read, a directory
import) calls `start`: the job is written as `running`, the work runs in this process in the
background, and the route answers `202 Accepted` with the job's status URL (also `Location`).
Its outcome (`done` with the result, or `failed` with the error) is written when it ends, so
`GET /api/v1/jobs/{job}` answers the same from every web process and after a restart.

A job is interrupted when the process that runs it stops before it ends: a shutdown marks it
`failed` at once; a process killed cannot, so a `running` job is *reported* failed
(`Interrupted`) when its holder is a dead process of this host (`leases.holder_is_dead`) or has
not written its heartbeat for `STALE_AFTER` (a process of another host, or a frozen one).
Finished jobs are kept for `RETENTION`, then deleted when a new job starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.db.leases import holder_is_dead, owner_id
from enlist.db.rows import now
from enlist.provisioning.api.job_tables import api_jobs
from enlist.provisioning.service import Service

HEARTBEAT_EVERY = timedelta(seconds=15)
"""How often the process running a job says so."""
STALE_AFTER = 4 * HEARTBEAT_EVERY
"""A running job with no heartbeat for this long is reported interrupted."""
RETENTION = timedelta(days=7)
"""How long a job's outcome stays readable at its status URL."""
JOB_PATH = "/api/v1/jobs/{job}"

Work = Callable[[], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Started:
    """A job just started: its id and status URL."""

    id: str
    url: str

    def to_json(self) -> dict[str, str]:
        return {"job": self.id, "status": "running", "status_url": self.url}


def status_url(job_id: str) -> str:
    return JOB_PATH.replace("{job}", job_id)


async def start(
    service: Service, tasks: set[asyncio.Task[None]], kind: str, subject: str, work: Work
) -> Started:
    """Write a `running` job of `kind` about `subject`, prune old ones, and run `work` in this
    process's background (`tasks` holds it until it ends, so it is not collected and a shutdown
    can cancel it). What `work` returns is the job's result (JSON)."""
    job_id = secrets.token_urlsafe(12)
    holder = owner_id()
    moment = now()
    async with service.db.write() as conn:
        await prune(conn, moment)
        await conn.execute(
            api_jobs.insert().values(
                id=job_id,
                kind=kind,
                subject=subject,
                status="running",
                holder=holder,
                created_at=moment,
                heartbeat_at=moment,
            )
        )
    task = asyncio.create_task(_run(service, job_id, work))
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return Started(job_id, status_url(job_id))


async def prune(conn: AsyncConnection, moment: datetime) -> int:
    """Delete the jobs that finished (or last beat) more than `RETENTION` ago; how many."""
    cutoff = moment - RETENTION
    result = await conn.execute(
        api_jobs.delete().where(
            (api_jobs.c.finished_at < cutoff)
            | ((api_jobs.c.status == "running") & (api_jobs.c.heartbeat_at < cutoff))
        )
    )
    return int(result.rowcount)


async def _run(service: Service, job_id: str, work: Work) -> None:
    beating = asyncio.create_task(_heartbeat(service, job_id))
    try:
        result = await work()
    except asyncio.CancelledError:
        await _finish(service, job_id, error=_interrupted("the service stopped while it ran"))
        raise
    except Exception as error:  # noqa: BLE001 (any failure is the job's outcome, read at its URL)
        await _finish(service, job_id, error=_failure(error))
    else:
        await _finish(service, job_id, result=result)
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating


async def _heartbeat(service: Service, job_id: str) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_EVERY.total_seconds())
        async with service.db.write() as conn:
            await conn.execute(
                api_jobs.update()
                .where((api_jobs.c.id == job_id) & (api_jobs.c.status == "running"))
                .values(heartbeat_at=now())
            )


async def _finish(
    service: Service, job_id: str, *, result: Any = None, error: dict[str, str] | None = None
) -> None:
    moment = now()
    async with service.db.write() as conn:
        await conn.execute(
            api_jobs.update()
            .where(api_jobs.c.id == job_id)
            .values(
                status="failed" if error else "done",
                result=result,
                error=error,
                finished_at=moment,
                heartbeat_at=moment,
            )
        )


def _failure(error: Exception) -> dict[str, str]:
    from enlist.provisioning import operations  # noqa: PLC0415 (it loads the engine)

    expected = isinstance(error, operations.EXPECTED)
    return {
        "code": type(error).__name__,
        "message": str(error) or type(error).__name__,
        "hint": "fix what the message says and start it again"
        if expected
        else "the service's log has the details; start it again",
    }


def _interrupted(why: str) -> dict[str, str]:
    return {"code": "Interrupted", "message": f"the job did not finish: {why}", "hint": "start it again"}


async def read(conn: AsyncConnection, job_id: str, moment: datetime) -> dict[str, Any] | None:
    """The job as its status URL shows it, None when there is none (or it was pruned). A
    `running` job whose process is gone is shown `failed` with the error `Interrupted`."""
    row = (await conn.execute(sa.select(api_jobs).where(api_jobs.c.id == job_id))).mappings().first()
    if row is None:
        return None
    shown: dict[str, Any] = {
        "job": row["id"],
        "kind": row["kind"],
        "subject": row["subject"],
        "status": row["status"],
        "created_at": row["created_at"].isoformat(),
        "finished_at": row["finished_at"].isoformat() if row["finished_at"] else None,
    }
    if row["status"] == "running":
        if holder_is_dead(row["holder"]):
            return {**shown, "status": "failed", "error": _interrupted("the process that ran it has ended")}
        if row["heartbeat_at"] < moment - STALE_AFTER:
            return {
                **shown,
                "status": "failed",
                "error": _interrupted("the process that ran it stopped answering"),
            }
        return shown
    if row["status"] == "failed":
        return {**shown, "error": row["error"]}
    return {**shown, "result": row["result"]}


async def stop_all(tasks: set[asyncio.Task[None]]) -> None:
    """Cancel this process's running jobs at shutdown: each is marked interrupted."""
    for task in list(tasks):
        task.cancel()
    for task in list(tasks):
        with contextlib.suppress(asyncio.CancelledError):
            await task
