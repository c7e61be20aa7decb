"""A process killed part-way through a bulk upload neither loses nor repeats an operation: the
next worker takes the job over (its holder is dead) and applies exactly the rest."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import sqlalchemy as sa

from enlist.provisioning.directory.tables import dir_users
from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations as source_operations
from enlist.provisioning.sources.push import bulk, operations
from enlist.provisioning.sources.push.tables import push_bulk_jobs, push_bulk_operations
from enlist.provisioning.sources.push.worker import drain
from tests.integration.push.bulk_helpers import hr_user

OPERATIONS = 150


async def counts(service: Service) -> tuple[int, int]:
    """(operations applied, users of the source in the directory)."""
    async with service.db.read() as conn:
        applied = await conn.execute(
            sa.select(sa.func.count()).where(push_bulk_operations.c.state == "applied")
        )
        users = await conn.execute(sa.select(sa.func.count()).where(dir_users.c.source == "hr"))
        return int(applied.scalar_one()), int(users.scalar_one())


async def test_a_worker_killed_mid_upload_loses_and_repeats_nothing(service: Service, tmp_path: Path) -> None:
    await operations.add(service, "hr")
    source = await source_operations.get(service, "hr")
    # Every user's manager is the next one: most operations wait for a later one, so the kill
    # also lands in the second pass.
    ops = [hr_user(n, manager=n + 1 if n + 1 < OPERATIONS else None) for n in range(OPERATIONS)]
    async with service.db.write() as conn:
        # With failOnErrors (never reached here) the worker applies one operation per transaction,
        # so the kill lands between two of them, wherever it lands.
        job = await bulk.enqueue(conn, source.id, ops, OPERATIONS)
    env = {
        **os.environ,
        "ENLIST_PROVISIONING_DATABASE_URL": service.settings.provisioning_url(),
        "ENLIST_DATA_DIR": str(service.settings.data_dir),
    }
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.integration.push.drain_process", env=env, cwd=Path.cwd()
    )
    try:
        for _ in range(6000):
            applied, _users = await counts(service)
            if applied >= 20 or worker.returncode is not None:
                break
            await asyncio.sleep(0.01)
        worker.send_signal(signal.SIGKILL)
    finally:
        await worker.wait()
    applied, users = await counts(service)
    assert 0 < applied < OPERATIONS, "the kill must land mid-way"
    assert users == applied, "every applied operation, and only those, is in the directory"

    assert await drain(service) == 1  # the dead holder's job is taken over
    async with service.db.read() as conn:
        states = [
            r[0] for r in await conn.execute(sa.select(push_bulk_operations.c.response["status"].as_string()))
        ]
        job_state = (
            await conn.execute(sa.select(push_bulk_jobs.c.state).where(push_bulk_jobs.c.id == job))
        ).scalar_one()
        managers = (
            await conn.execute(sa.select(sa.func.count()).where(dir_users.c.manager_id.is_not(None)))
        ).scalar_one()
    assert job_state == "done"
    assert states == ["201"] * OPERATIONS, "each operation applied once: created, never updated by a replay"
    assert await counts(service) == (OPERATIONS, OPERATIONS)
    assert managers == OPERATIONS - 1
