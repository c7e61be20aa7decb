"""The API's long operations are jobs in the database (ADR 0030), on both databases: a status URL
answers from another web process, a job whose process died is failed (Interrupted), never
`running` for ever, and finished jobs are pruned after the retention."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from datetime import timedelta
from typing import Any

import httpx2
import sqlalchemy as sa

from enlist.db.database import Database
from enlist.db.rows import now
from enlist.provisioning.api import jobs
from enlist.provisioning.api.app import create_app
from enlist.provisioning.api.job_tables import api_jobs
from enlist.provisioning.service import Service
from tests.integration.api.http import assert_error_shape, token

CSV = b"userPrincipalName,displayName,accountEnabled\nada@contoso.com,Ada,true\nbob@contoso.com,Bob,true\n"


async def finished(api: httpx2.AsyncClient, url: str, headers: dict[str, str]) -> dict[str, Any]:
    """The job at `url` once it is no longer running."""
    shown: dict[str, Any] = {"status": "running"}
    for _ in range(600):
        shown = (await api.get(url, headers=headers)).json()
        if shown["status"] != "running":
            break
        await asyncio.sleep(0.05)
    return shown


def dead_pid() -> int:
    """The pid of a process of this host that has ended."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


async def insert_job(service: Service, job_id: str, **values: Any) -> None:
    moment = now()
    row = {
        "id": job_id,
        "kind": "app-sync",
        "subject": "HR",
        "status": "running",
        "holder": "elsewhere:1:x",
        "created_at": moment,
        "heartbeat_at": moment,
        **values,
    }
    async with service.db.write() as conn:
        await conn.execute(api_jobs.insert().values(**row))


async def test_a_job_status_answers_from_another_web_process_on_its_own_database_connection(
    service: Service, api: httpx2.AsyncClient
) -> None:
    writer = await token(service, "ci", "write")
    started = await api.post("/api/v1/directory/import?format=csv", content=CSV, headers=writer)
    assert started.status_code == 202, started.text
    here = await finished(api, started.headers["location"], writer)

    other_db = Database(service.settings.provisioning_url())  # what a second worker opens
    other = Service(service.settings, other_db, service.secrets)
    app = create_app(service.settings, scheduler=False, service=other)
    try:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://other.test") as client:
            there = (await client.get(started.headers["location"], headers=writer)).json()
    finally:
        await other_db.dispose()

    assert (
        started.json()["status_url"] == started.headers["location"] == f"/api/v1/jobs/{started.json()['job']}"
    )
    assert here["status"] == "done", here
    assert here["result"]["users_created"] == 2, here
    assert there == here


async def test_a_running_job_whose_process_is_gone_is_failed_interrupted_not_running(
    service: Service, api: httpx2.AsyncClient
) -> None:
    reader = await token(service, "dash", "read")
    await insert_job(service, "killed", holder=f"{socket.gethostname()}:{dead_pid()}:abc")
    await insert_job(service, "silent", heartbeat_at=now() - jobs.STALE_AFTER - timedelta(seconds=1))
    await insert_job(service, "alive", holder=f"{socket.gethostname()}:1:abc")  # init: never gone

    shown = {
        j: (await api.get(f"/api/v1/jobs/{j}", headers=reader)).json() for j in ("killed", "silent", "alive")
    }

    assert shown["killed"]["status"] == "failed"
    assert shown["killed"]["error"]["code"] == "Interrupted"
    assert shown["silent"]["status"] == "failed"
    assert shown["silent"]["error"]["code"] == "Interrupted"
    assert shown["alive"]["status"] == "running"


async def test_a_job_cancelled_by_a_shutdown_is_stored_as_interrupted(service: Service) -> None:
    tasks: set[asyncio.Task[None]] = set()
    never = asyncio.Event()

    async def work() -> None:
        await never.wait()

    started = await jobs.start(service, tasks, "app-sync", "HR", work)
    await asyncio.sleep(0)
    await jobs.stop_all(tasks)

    async with service.db.read() as conn:
        stored = (await conn.execute(sa.select(api_jobs).where(api_jobs.c.id == started.id))).mappings().one()
    assert stored["status"] == "failed"
    assert stored["error"]["code"] == "Interrupted"
    assert stored["finished_at"] is not None
    assert not tasks


async def test_finished_jobs_older_than_the_retention_are_pruned_when_a_job_starts(
    service: Service, api: httpx2.AsyncClient
) -> None:
    writer = await token(service, "ci", "write")
    old = now() - jobs.RETENTION - timedelta(hours=1)
    recent = now() - jobs.RETENTION + timedelta(hours=1)
    await insert_job(service, "old", status="done", finished_at=old, result={})
    await insert_job(service, "recent", status="done", finished_at=recent, result={})
    await insert_job(service, "abandoned", heartbeat_at=old)

    started = await api.post("/api/v1/directory/import?format=csv", content=CSV, headers=writer)
    await finished(api, started.headers["location"], writer)
    gone = await api.get("/api/v1/jobs/old", headers=writer)

    async with service.db.read() as conn:
        kept = set((await conn.execute(sa.select(api_jobs.c.id))).scalars())
    assert kept == {"recent", started.json()["job"]}
    assert assert_error_shape(gone, 404)["code"] == "UnknownJob"


async def test_a_failed_job_shows_the_error_in_the_one_shape(
    service: Service, api: httpx2.AsyncClient
) -> None:
    tasks: set[asyncio.Task[None]] = set()
    reader = await token(service, "dash", "read")

    async def work() -> None:
        raise LookupError("no source named 'HR'")

    started = await jobs.start(service, tasks, "source-sync", "HR", work)
    shown = await finished(api, started.url, reader)

    assert shown["status"] == "failed"
    assert set(shown["error"]) == {"code", "message", "hint"}
    assert shown["error"]["message"] == "no source named 'HR'"
