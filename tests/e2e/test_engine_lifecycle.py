"""An application's life around its cycles, with the engine wired to the portal in process:
Pause in the middle of a cycle, Restart, Provision on demand, the accidental-deletion threshold
and Allow deletes, quarantine for bad credentials and Start, the lease, the scheduler, and the
provisioning log's filters and exports."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import socket
import sys
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from enlist.db.leases import holder_is_dead, owner_id
from enlist.db.rows import now
from enlist.lms.api.runtime import Portal
from enlist.provisioning.directory import store as directory
from enlist.provisioning.engine import quarantine as q
from enlist.provisioning.engine import runner
from enlist.provisioning.engine.on_demand import provision_on_demand
from enlist.provisioning.engine.runner import (
    LEASE,
    AppPausedError,
    CycleBusyError,
    claim,
    run_cycle,
)
from enlist.provisioning.engine.scheduler import due_app_ids, run_due
from enlist.provisioning.logs import store as log_store
from enlist.provisioning.mapping.mappings import default_group_mapping, default_user_mapping, mapping_to_json
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store import links as link_store
from enlist.provisioning.store.apps import App
from enlist.provisioning.store.tables import applications, cycles, escrows, links, staged_deletions
from enlist.provisioning.target.client import ScimTarget
from tests.e2e.engine_harness import TENANT_URL, Harness, assign_groups, count_rows, harness
from tests.live import portal_on_loopback

DOMAIN = "contoso.com"
# What does not depend on the database runs on SQLite only (time); the rest on both.
SQLITE_ONLY = pytest.mark.parametrize("database_kind", ["sqlite"])


def upn(i: int) -> str:
    return f"u{i:03d}@{DOMAIN}"


def person(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "userPrincipalName": upn(i),
        "mail": upn(i),
        "givenName": f"Given{i}",
        "surname": f"Sur{i}",
        "displayName": f"Given{i} Sur{i}",
        "jobTitle": "Staff",
        "department": "Ops",
        "employeeId": str(1000 + i),
        "accountEnabled": True,
        **extra,
    }


def company(users: int, groups: dict[str, range]) -> dict[str, Any]:
    return {
        "users": [person(i) for i in range(users)],
        "groups": [
            {"displayName": name, "members": [upn(i) for i in members]} for name, members in groups.items()
        ],
    }


async def set_settings(h: Harness, **changes: Any) -> None:
    async with h.service.db.write() as conn:
        app = await app_store.get_app(conn, h.app_name)
        await app_store.update_app(conn, app.id, settings={**app.settings.to_json(), **changes})


async def unassign_groups(h: Harness, *names: str) -> None:
    async with h.service.db.write() as conn:
        app = await app_store.get_app(conn, h.app_name)
        ids = [(await directory.get_group_by_name(conn, n)).id for n in names]  # type: ignore[union-attr]
        await app_store.unassign(conn, app, "group", ids)


async def source_id(h: Harness, user_principal_name: str) -> str:
    async with h.service.db.read() as conn:
        user = await directory.get_user_by_upn(conn, user_principal_name)
    assert user is not None
    return user.id


async def records(h: Harness, **filters: Any) -> list[dict[str, Any]]:
    app = await h.app()
    async with h.service.db.read() as conn:
        return await log_store.read(conn, app.id, log_store.LogFilter(limit=10_000, **filters))


async def raw_portal_user_names(h: Harness) -> list[str]:
    """Every userName the portal holds, duplicates kept (a dict would hide them)."""
    listing = await h.scim("/Users", count=1000)
    assert listing["totalResults"] == len(listing["Resources"])
    return [u["userName"] for u in listing["Resources"]]


def assert_no_duplicate_creates(log: list[dict[str, Any]]) -> None:
    creates = Counter(r["source_id"] for r in log if r["action"] == "create" and r["status"] == "success")
    assert [s for s, n in creates.items() if n > 1] == [], "an object was created twice"


def close_to(moment: datetime | None, expected: datetime, slack: timedelta = timedelta(minutes=2)) -> bool:
    return moment is not None and abs(moment - expected) <= slack


# -- Pause ----------------------------------------------------------------------------------


async def test_pause_stops_the_running_cycle_at_an_object_boundary_and_start_finishes_it(
    portal: Portal, service: Service
) -> None:
    h = await harness(portal, service)
    await h.load(company(65, {"Founders": range(5), "Everyone": range(5, 65)}))
    await assign_groups(h, "Founders")
    first, _ = await h.sync()
    assert first.status == "succeeded", first
    watermark = (await h.app()).watermark
    assert watermark is not None

    # A directory change (so a completed cycle would move the watermark) and 60 more users.
    changed = company(65, {"Founders": range(5), "Everyone": range(5, 65)})
    changed["users"][0]["jobTitle"] = "Chief founder"
    await h.load(changed)
    await assign_groups(h, "Everyone")

    creates = 0

    async with h.target("rfc") as target:
        original = target.create

        async def create(resource_type: str, body: Any) -> dict[str, Any]:
            nonlocal creates
            creates += 1
            if creates == 5:
                # Pause from "another task": the admin presses Pause while the cycle runs.
                async with service.db.write() as conn:
                    await app_store.pause(conn, await app_store.get_app(conn, h.app_name))
            elif creates > 5:
                await asyncio.sleep(0.25)  # keep the cycle running past the engine's stop check
            return await original(resource_type, body)  # type: ignore[arg-type]

        target.create = create  # type: ignore[method-assign]
        stopped = await run_cycle(service, await h.app(), target=target)

    assert stopped.status == "stopped", stopped
    app = await h.app()
    assert app.state == "paused"
    assert app.id not in await due_app_ids(service), "a paused app is not run on schedule"
    async with service.db.read() as conn:
        recorded = (
            await conn.execute(sa.select(cycles.c.status).where(cycles.c.id == stopped.cycle_id))
        ).scalar_one()
    assert recorded == "stopped"
    assert app.watermark == watermark, "a stopped cycle must not move the watermark"
    made = stopped.counts["created"]
    assert made < 60, stopped
    # An object boundary: what the portal holds is exactly what the engine linked and logged,
    # and nothing more arrives once the cycle has returned.
    await asyncio.sleep(1.0)
    names = await raw_portal_user_names(h)
    assert len(names) == len(set(names))
    async with service.db.read() as conn:
        linked_users = await link_store.linked_source_ids(conn, app.id, "user")
    assert len(names) == len(linked_users) == 5 + made, (len(names), len(linked_users), made)
    stopped_log = await records(h, cycle_id=stopped.cycle_id)
    assert len([r for r in stopped_log if r["action"] == "create"]) == made

    # Paused: nothing runs on schedule; Start, and the next cycle finishes the job.
    async with service.db.write() as conn:
        await app_store.start(conn, await app_store.get_app(conn, h.app_name))
    assert (await h.app()).state == "active"
    finished, _ = await h.sync()
    assert finished.status == "succeeded", finished
    assert finished.counts["failed"] == 0
    app = await h.app()
    assert app.watermark is not None
    assert app.watermark > watermark
    names = await raw_portal_user_names(h)
    assert sorted(names) == sorted(upn(i) for i in range(65)), "every user exactly once"
    assert (await h.portal_users())[upn(0)]["title"] == "Chief founder"
    assert await h.portal_groups() == {
        "Founders": {upn(i) for i in range(5)},
        "Everyone": {upn(i) for i in range(5, 65)},
    }
    assert_no_duplicate_creates(await records(h))
    again, _ = await h.sync()
    assert again.counts == dict.fromkeys(again.counts, 0), again


# -- Restart --------------------------------------------------------------------------------


async def test_restart_clears_watermark_escrows_quarantine_and_staged_deletions_but_keeps_links(
    portal: Portal, service: Service
) -> None:
    h = await harness(portal, service)
    await h.load(company(8, {"Alpha": range(4), "Beta": range(4, 8)}))
    await assign_groups(h, "Alpha", "Beta")
    await set_settings(h, deletion_threshold=3)
    first, _ = await h.sync()
    assert first.status == "succeeded", first
    await unassign_groups(h, "Beta")
    staged, _ = await h.sync()
    assert staged.counts["staged"] >= 4, staged
    app = await h.app()
    async with service.db.write() as conn:  # an object that failed, waiting for its retry
        await link_store.escrow(
            conn, app.id, "user", await source_id(h, upn(0)), "InternalServerError", "test"
        )
    assert app.state == "quarantined"
    assert app.watermark is not None
    assert await count_rows(h, staged_deletions) >= 4
    assert await count_rows(h, escrows) >= 1
    links_before = await count_rows(h, links)

    async with service.db.write() as conn:
        await app_store.restart(conn, await app_store.get_app(conn, h.app_name))

    app = await h.app()
    assert app.watermark is None
    assert app.quarantine is None
    assert app.state == "active"
    assert await count_rows(h, escrows) == 0
    assert await count_rows(h, staged_deletions) == 0
    assert await count_rows(h, links) == links_before, "Restart keeps the links"

    await assign_groups(h, "Beta")
    initial, _ = await h.sync()
    assert initial.kind == "initial"
    assert initial.status == "succeeded", initial
    assert initial.counts["created"] == 0, "the links are kept: nothing is created again"
    assert initial.counts["failed"] == 0
    assert sorted(await raw_portal_user_names(h)) == sorted(upn(i) for i in range(8))
    assert all(u["active"] for u in (await h.portal_users()).values())


# -- Provision on demand --------------------------------------------------------------------


@SQLITE_ONLY
async def test_provision_on_demand_before_any_cycle_creates_the_user_with_its_steps(
    portal: Portal, service: Service
) -> None:
    h = await harness(portal, service)
    await h.load(company(3, {"Alpha": range(3)}))
    await assign_groups(h, "Alpha")

    async with h.target("rfc") as target:
        result = await provision_on_demand(service, await h.app(), upn(1), target=target)

    assert result["user"] == upn(1)
    assert result["action"] == "create", result
    assert result["status"] == "success", result
    kinds = [s["provisioningStepType"] for s in result["steps"]]
    for kind in ("import", "scoping", "matching", "export"):
        assert kind in kinds, kinds
    assert kinds.index("import") < kinds.index("scoping") < kinds.index("matching") < kinds.index("export")
    assert {m["displayName"] for m in result["modified"]} >= {"userName"}
    assert set(await raw_portal_user_names(h)) == {upn(1)}
    app = await h.app()
    assert app.watermark is None, "provision on demand does not move the watermark"
    logged = await records(h, cycle_id=result["cycle_id"])
    assert any(r["source_name"] == upn(1) and r["action"] == "create" for r in logged)

    first, _ = await h.sync()
    assert first.kind == "initial"
    assert first.status == "succeeded", first
    assert first.counts["created"] == 3, "the two other users and the group; not the first user again"
    assert sorted(await raw_portal_user_names(h)) == [upn(0), upn(1), upn(2)]
    assert await h.portal_groups() == {"Alpha": {upn(0), upn(1), upn(2)}}


async def test_a_paused_application_sends_nothing_for_a_sync_or_an_on_demand_run(
    portal: Portal, service: Service
) -> None:
    """Pause after a first cycle, then change the directory: a manual cycle and Provision on
    demand are refused before the probe, the lease is left free, and the portal is unchanged."""
    h = await harness(portal, service)
    await h.load(company(4, {"Alpha": range(4)}))
    await assign_groups(h, "Alpha")
    first, _ = await h.sync()
    assert first.status == "succeeded", first
    before = await h.portal_users()
    changed = company(4, {"Alpha": range(4)})
    for user in changed["users"]:
        user["jobTitle"] = "Changed while paused"
    await h.load(changed)
    async with service.db.write() as conn:
        await app_store.pause(conn, await app_store.get_app(conn, h.app_name))
    async with service.db.read() as conn:
        cycles_before = (await conn.execute(sa.select(sa.func.count()).select_from(cycles))).scalar_one()

    async with h.target("rfc") as target:
        with pytest.raises(AppPausedError, match="is paused"):
            await run_cycle(service, await h.app(), target=target)
        with pytest.raises(AppPausedError, match="is paused"):
            await provision_on_demand(service, await h.app(), upn(1), target=target)
    assert target.requests_sent == 0

    assert await h.portal_users() == before
    assert (await lease_of(h))[0] is None, "the refused runs release the lease they took"
    async with service.db.read() as conn:
        cycles_after = (await conn.execute(sa.select(sa.func.count()).select_from(cycles))).scalar_one()
    assert cycles_after == cycles_before, "no cycle is recorded"
    assert (await h.app()).state == "paused"

    async with service.db.write() as conn:
        await app_store.start(conn, await app_store.get_app(conn, h.app_name))
    resumed, _ = await h.sync()
    assert resumed.status == "succeeded", resumed
    assert resumed.counts["updated"] == 4, "once started, the changes made while paused go out"


# -- Accidental deletions -------------------------------------------------------------------


async def test_deletion_threshold_stages_the_deletions_until_they_are_allowed(
    portal: Portal, service: Service
) -> None:
    h = await harness(portal, service)
    await h.load(company(8, {"Alpha": range(4), "Leavers": range(4, 8)}))
    await assign_groups(h, "Alpha", "Leavers")
    await set_settings(h, deletion_threshold=3)
    first, _ = await h.sync()
    assert first.status == "succeeded", first

    await unassign_groups(h, "Leavers")
    staged, _ = await h.sync()

    assert staged.counts["disabled"] == 0
    assert staged.counts["deleted"] == 0
    users = await h.portal_users()
    assert all(users[upn(i)]["active"] is True for i in range(8)), "nothing disabled in the portal"
    assert "Leavers" in await h.portal_groups(), "nor the group deleted"
    log = await records(h, cycle_id=staged.cycle_id, action="stagedDelete")
    staged_users = sorted(r["source_name"] for r in log if r["object_kind"] == "user")
    assert staged_users == [upn(i) for i in range(4, 8)]
    assert all(r["status"] == "skipped" for r in log)
    assert staged.counts["staged"] == len(log)
    app = await h.app()
    assert app.state == "quarantined"
    assert app.quarantine is not None
    assert app.quarantine["reason"] == q.TOO_MANY_DELETES
    assert await h.portal_groups() == {
        "Alpha": {upn(i) for i in range(4)},
        "Leavers": {upn(i) for i in range(4, 8)},
    }

    async with service.db.write() as conn:
        await app_store.update_app(conn, app.id, allow_deletes=True, state="active")
    allowed, _ = await h.sync()

    assert allowed.status == "succeeded", allowed
    assert allowed.counts["disabled"] == 4, allowed
    assert allowed.counts["staged"] == 0
    users = await h.portal_users()
    assert [u for u in sorted(users) if users[u]["active"] is False] == [upn(i) for i in range(4, 8)]
    assert "Leavers" not in await h.portal_groups()
    app = await h.app()
    assert app.state == "active"
    assert app.quarantine is None
    assert app.allow_deletes is False, "allowing deletions is good for one cycle"


# -- Quarantine -----------------------------------------------------------------------------


@SQLITE_ONLY
async def test_a_refused_secret_token_quarantines_the_app_and_start_lifts_it(
    portal: Portal, service: Service
) -> None:
    h = await harness(portal, service)
    await h.load(company(3, {"Alpha": range(3)}))
    await assign_groups(h, "Alpha")

    async with ScimTarget(TENANT_URL, "enl_wrong-token", dialect="rfc", transport=h.transport()) as bad:
        failed = await run_cycle(service, await h.app(), target=bad)
    moment = now()

    assert failed.status == "failed", failed
    assert failed.error
    assert failed.counts == dict.fromkeys(failed.counts, 0), "the cycle stops at the probe"
    assert await raw_portal_user_names(h) == []
    app = await h.app()
    assert app.state == "quarantined"
    assert app.quarantine is not None
    assert app.quarantine["reason"] == q.CREDENTIALS
    assert close_to(app.next_run_at, moment + timedelta(hours=6)), app.next_run_at
    assert app.watermark is None
    assert "enl_wrong-token" not in orjson.dumps(app.quarantine).decode()

    async with service.db.write() as conn:
        await app_store.start(conn, await app_store.get_app(conn, h.app_name))
    app = await h.app()
    assert app.state == "active"
    assert app.quarantine is None
    assert close_to(app.next_run_at, now())

    recovered, _ = await h.sync()
    assert recovered.status == "succeeded", recovered
    assert sorted(await raw_portal_user_names(h)) == [upn(0), upn(1), upn(2)]


# -- The lease ------------------------------------------------------------------------------


async def lease_of(h: Harness) -> tuple[str | None, datetime | None]:
    app = await h.app()
    async with h.service.db.read() as conn:
        row = (
            await conn.execute(
                sa.select(applications.c.lease_owner, applications.c.lease_expires_at).where(
                    applications.c.id == app.id
                )
            )
        ).one()
    return row[0], row[1]


async def test_a_held_lease_refuses_the_cycle_and_an_expired_one_is_taken_over(
    portal: Portal, service: Service
) -> None:
    h = await harness(portal, service)
    await h.load(company(3, {"Alpha": range(3)}))
    await assign_groups(h, "Alpha")
    app = await h.app()

    assert await claim(service, app, "other:1")
    async with h.target("rfc") as target:
        try:
            await run_cycle(service, app, target=target)
        except CycleBusyError:
            pass
        else:
            raise AssertionError("run_cycle ran while another owner held the lease")
    assert (await lease_of(h))[0] == "other:1", "the refused run leaves the holder's lease alone"
    async with service.db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(cycles))).scalar_one() == 0
    assert await raw_portal_user_names(h) == []

    async with service.db.write() as conn:
        await app_store.update_app(conn, app.id, lease_expires_at=now() - timedelta(seconds=1))
    taken, _ = await h.sync()

    assert taken.status == "succeeded", taken
    assert sorted(await raw_portal_user_names(h)) == [upn(0), upn(1), upn(2)]
    assert (await lease_of(h))[0] is None, "the lease is released when the cycle ends"


async def test_on_demand_during_a_cycle_of_the_same_process_is_refused_and_the_cycle_keeps_its_lease(
    portal: Portal, service: Service
) -> None:
    """The scheduler's cycle and Provision on demand from the Overview run in one process. The
    cycle is held at its first create (a slow target); meanwhile on demand, and another cycle,
    are refused, and the lease stays the cycle's, unexpired, until the cycle ends."""
    h = await harness(portal, service)
    await h.load(company(6, {"Alpha": range(6)}))
    await assign_groups(h, "Alpha")
    creating, proceed = asyncio.Event(), asyncio.Event()
    held_during: list[tuple[str | None, datetime | None]] = []

    async with h.target("rfc") as slow, h.target("rfc") as other:
        original = slow.create

        async def create(resource_type: str, body: Any) -> dict[str, Any]:
            creating.set()
            await proceed.wait()
            return await original(resource_type, body)  # type: ignore[arg-type]

        slow.create = create  # type: ignore[method-assign]
        cycle = asyncio.create_task(run_cycle(service, await h.app(), target=slow))
        await creating.wait()
        owner, expires = await lease_of(h)
        assert owner is not None
        assert expires is not None
        with pytest.raises(CycleBusyError, match="provision on demand when it ends"):
            await provision_on_demand(service, await h.app(), upn(5), target=other)
        held_during.append(await lease_of(h))
        with pytest.raises(CycleBusyError):
            await run_cycle(service, await h.app(), target=other)
        held_during.append(await lease_of(h))
        proceed.set()
        summary = await cycle

    assert held_during == [(owner, expires), (owner, expires)], "the cycle's lease is left alone"
    assert other.requests_sent == 0, "the refused runs sent nothing"
    assert summary.status == "succeeded", summary
    assert sorted(await raw_portal_user_names(h)) == [upn(i) for i in range(6)]
    assert (await lease_of(h))[0] is None, "released when the cycle ends"


async def test_a_cycle_whose_lease_was_taken_over_stops_and_leaves_the_new_holders_lease(
    portal: Portal, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cycle stalled past its lease's expiry finds at its next renewal that another claim holds
    the lease: it stops at the next object boundary, and its release does not free the lease."""
    monkeypatch.setattr(runner, "LEASE", timedelta(seconds=0.3))  # renewed every 0.1 s
    h = await harness(portal, service)
    await h.load(company(30, {"Alpha": range(30)}))
    await assign_groups(h, "Alpha")
    creating, proceed = asyncio.Event(), asyncio.Event()

    async with h.target("rfc") as slow:
        original = slow.create

        async def create(resource_type: str, body: Any) -> dict[str, Any]:
            creating.set()
            await proceed.wait()
            return await original(resource_type, body)  # type: ignore[arg-type]

        slow.create = create  # type: ignore[method-assign]
        cycle = asyncio.create_task(run_cycle(service, await h.app(), target=slow))
        await creating.wait()
        async with service.db.write() as conn:
            await app_store.update_app(
                conn, (await h.app()).id, lease_owner="other-host:1:taken", lease_expires_at=now() + LEASE
            )
        await asyncio.sleep(0.5)  # past a renewal
        proceed.set()
        summary = await cycle

    assert summary.status == "stopped", summary
    assert summary.counts["created"] < 30, summary
    assert (await lease_of(h))[0] == "other-host:1:taken", "the new holder keeps its lease"


async def test_each_claim_has_an_owner_of_its_own() -> None:
    """Two claims of one process never share an owner; a dead holder is still recognised by its
    host and pid, in the current form and the older `host:pid`."""
    first, second = owner_id(), owner_id()
    assert first != second
    assert first.rsplit(":", 1)[0] == second.rsplit(":", 1)[0] == f"{socket.gethostname()}:{os.getpid()}"
    assert not holder_is_dead(first), "this process is alive"
    dead = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await dead.wait()
    assert holder_is_dead(f"{socket.gethostname()}:{dead.pid}:0123abcd")
    assert holder_is_dead(f"{socket.gethostname()}:{dead.pid}")


async def test_a_lease_left_by_a_dead_process_of_this_host_is_taken_over_at_once(
    portal: Portal, service: Service
) -> None:
    h = await harness(portal, service)
    await h.load(company(2, {"Alpha": range(2)}))
    await assign_groups(h, "Alpha")
    app = await h.app()
    dead = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await dead.wait()  # reaped: its pid is free, as a killed `enlist provisioning app sync`'s is
    assert await claim(service, app, f"{socket.gethostname()}:{dead.pid}")  # a lease of 60 s, unexpired

    taken, _ = await h.sync()

    assert taken.status == "succeeded", taken
    assert sorted(await raw_portal_user_names(h)) == [upn(0), upn(1)]


# -- The scheduler --------------------------------------------------------------------------


async def test_run_due_runs_only_the_apps_that_are_due(portal: Portal, service: Service) -> None:
    h = await harness(portal, service)
    await h.load(company(3, {"Alpha": range(3)}))
    await assign_groups(h, "Alpha")
    async with portal_on_loopback(portal) as base:
        tenant_url = f"{base}/scim/v2/acme"
        moment = now()
        apps: dict[str, App] = {}
        async with service.db.write() as conn:
            for name in ("due", "later", "paused", "quarantined"):
                made = await app_store.create_app(
                    conn,
                    name,
                    mapping_to_json(default_user_mapping()),
                    mapping_to_json(default_group_mapping()),
                )
                await app_store.connect(conn, made, tenant_url, service.secrets.seal(h.token))
                await app_store.start(conn, await app_store.get_app(conn, name))
                apps[name] = await app_store.get_app(conn, name)
            group = await directory.get_group_by_name(conn, "Alpha")
            assert group is not None
            await app_store.assign(conn, apps["due"], "group", [group.id])
            await app_store.update_app(conn, apps["due"].id, next_run_at=moment - timedelta(minutes=1))
            await app_store.update_app(conn, apps["later"].id, next_run_at=moment + timedelta(minutes=30))
            await app_store.update_app(conn, apps["paused"].id, state="paused", next_run_at=moment)
            await app_store.update_app(
                conn, apps["quarantined"].id, state="quarantined", next_run_at=moment + timedelta(hours=6)
            )
            # The harness's own app points at portal.test (unreachable here): not due.
            await app_store.update_app(
                conn, (await app_store.get_app(conn, h.app_name)).id, next_run_at=moment + timedelta(hours=1)
            )

        ran = await run_due(service, "scheduler:1")

    assert ran == 1
    async with service.db.read() as conn:
        rows = (await conn.execute(sa.select(cycles.c.app_id, cycles.c.status, cycles.c.kind))).all()
        due = await app_store.get_app_by_id(conn, apps["due"].id)
    assert [(r[0], r[1], r[2]) for r in rows] == [(apps["due"].id, "succeeded", "initial")]
    assert close_to(due.next_run_at, now() + timedelta(minutes=40))
    assert sorted(await raw_portal_user_names(h)) == [upn(0), upn(1), upn(2)]
    assert await run_due(service, "scheduler:1") == 0, "nothing is due any more"


# -- Provisioning logs ----------------------------------------------------------------------


@SQLITE_ONLY
async def test_log_filters_and_exports(portal: Portal, service: Service) -> None:
    h = await harness(portal, service)
    await h.load(company(6, {"Alpha": range(6)}))
    await assign_groups(h, "Alpha")
    first, _ = await h.sync()
    changed = company(6, {"Alpha": range(6)})
    changed["users"][1]["jobTitle"] = "Lead"
    changed["users"][2]["accountEnabled"] = False
    await h.load(changed)
    second, _ = await h.sync()
    assert first.status == second.status == "succeeded", (first, second)
    assert second.counts["updated"] >= 1
    assert second.counts["disabled"] == 1

    everything = await records(h)
    assert len(everything) == sum(first.counts.values()) + sum(second.counts.values()), "one record per count"
    assert [r["id"] for r in everything] == sorted((r["id"] for r in everything), reverse=True), (
        "newest first"
    )

    by_cycle = await records(h, cycle_id=second.cycle_id)
    assert by_cycle
    assert {r["cycle_id"] for r in by_cycle} == {second.cycle_id}
    assert len(by_cycle) == sum(second.counts.values())

    created = await records(h, action="create")
    assert {r["action"] for r in created} == {"create"}
    assert len(created) == first.counts["created"]

    disabled = await records(h, action="disable")
    assert [r["source_name"] for r in disabled] == [upn(2)]

    successes = await records(h, status="success")
    assert successes
    assert {r["status"] for r in successes} == {"success"}
    assert await records(h, status="failure") == []

    ada = await records(h, identity="U001")  # text in the name, case-insensitive
    assert ada
    assert {r["source_name"] for r in ada} == {upn(1)}
    assert {r["action"] for r in ada} >= {"create", "update"}
    by_id = await records(h, identity=ada[0]["source_id"])
    assert {r["id"] for r in by_id} == {r["id"] for r in ada}
    by_target = await records(h, identity=ada[0]["target_id"])
    assert {r["id"] for r in by_target} >= {r["id"] for r in ada if r["target_id"] == ada[0]["target_id"]}

    app = await h.app()
    async with service.db.read() as conn:
        streamed = [r async for r in log_store.stream(conn, app.id, log_store.LogFilter(limit=3))]
    assert [r["id"] for r in streamed] == [r["id"] for r in everything], "paging loses nothing"

    text = log_store.to_csv(everything)
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == log_store.CSV_COLUMNS
    assert len(rows) == 1 + len(everything)
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [int(r["id"]) for r in parsed] == [r["id"] for r in everything]
    assert [r["cycle_id"] for r in parsed] == [r["cycle_id"] for r in everything]
    assert [orjson.loads(r["steps"]) for r in parsed] == [r["steps"] for r in everything]

    assert orjson.loads(log_store.to_json(everything)) == everything
    assert orjson.loads(log_store.to_json([])) == []
    assert list(csv.reader(io.StringIO(log_store.to_csv([])))) == [list(log_store.CSV_COLUMNS)]
