"""`enlist provisioning serve --workers 2`: both workers run the scheduler, and the applications'
leases keep to one cycle per application per due time (on a SQLite file and on PostgreSQL)."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import sqlalchemy as sa

from enlist.provisioning.store.tables import applications, cycles
from tests.integration.production.deployment import Deployment
from tests.integration.production.world import ASSIGNED_USERS, provision, query

APPS = ("Learning A", "Learning B", "Learning C")
POLL_SECONDS = "0.2"
QUIET_POLLS = 25  # after the last expected cycle, this many polls of each worker find nothing due


def cycles_per_app(deployment: Deployment) -> tuple[Counter[str], set[str]]:
    rows = query(
        deployment.provisioning_database_url,
        sa.select(applications.c.name, cycles.c.status).join(
            applications, applications.c.id == cycles.c.app_id
        ),
    )
    return Counter(name for name, _ in rows), {status for _, status in rows}


def wait_for_cycles(deployment: Deployment, per_app: int) -> tuple[Counter[str], set[str]]:
    """The cycles per application once each has `per_app` finished ones, and QUIET_POLLS later."""
    for _ in range(1200):
        counted, statuses = cycles_per_app(deployment)
        if len(counted) == len(APPS) and min(counted.values()) >= per_app and "running" not in statuses:
            break
        time.sleep(0.1)
    time.sleep(QUIET_POLLS * float(POLL_SECONDS))
    return cycles_per_app(deployment)


def make_all_due(deployment: Deployment) -> None:
    moment = datetime.now(UTC)

    async def write() -> None:
        from enlist.db.database import Database  # noqa: PLC0415

        db = Database(deployment.provisioning_database_url)
        try:
            async with db.write() as conn:
                await conn.execute(sa.update(applications).values(next_run_at=moment))
        finally:
            await db.dispose()

    import anyio  # noqa: PLC0415

    anyio.run(write)


def test_two_workers_run_one_cycle_per_application_per_due_time(deployment: Deployment) -> None:
    deployment.extra_env["ENLIST_SCHEDULER_POLL_SECONDS"] = POLL_SECONDS
    portal = deployment.serve("lms")
    try:
        provision(deployment, APPS)  # three applications (a tenant each), all due now
        service = deployment.serve("provisioning", "--workers", "2")
        try:
            assert len(service.workers()) == 2
            first, first_statuses = wait_for_cycles(deployment, 1)
            make_all_due(deployment)  # a second due time for every application at once
            second, second_statuses = wait_for_cycles(deployment, 2)
        finally:
            service.stop()
        users = query(deployment.lms_database_url, sa.text("SELECT count(*) FROM users"))
    finally:
        portal.stop()

    assert first == dict.fromkeys(APPS, 1), first
    assert second == dict.fromkeys(APPS, 2), second
    assert first_statuses == second_statuses == {"succeeded"}
    assert users == [(ASSIGNED_USERS * len(APPS),)]
