"""The engine against a target that fails: 500, 503, 429 (with and without `Retry-After`), an
answer slower than the timeout, a 2xx that is not JSON, a 201 with a wrong or no `id`, a
connection closed. Each time the cycle completes, the objects hit are logged as failures with
the right error code and escrowed, the others go through; with the faults gone the next cycles
converge, and the portal ends with each user and group once and every membership, even where a
POST reached the portal and only its answer was lost.

The portal sits behind `FaultProxy` (in process); the engine's `ScimTarget` gets a recording
fake `sleep`, so retries cost no time and their waits can be read. The faults are about HTTP,
not storage: these tests run on SQLite only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa

from enlist.lms.api.app import create_app
from enlist.lms.api.runtime import Portal
from enlist.provisioning.directory import store as directory
from enlist.provisioning.engine.runner import run_cycle
from enlist.provisioning.engine.summary import CycleSummary
from enlist.provisioning.logs import store as log_store
from enlist.provisioning.service import Service
from enlist.provisioning.store.tables import escrows
from enlist.provisioning.target.client import ScimTarget
from enlist.provisioning.target.errors import SERVICE_INCOMPATIBLE
from tests.e2e.engine_harness import TENANT_URL, Harness, assign_groups, harness
from tests.e2e.fault_proxy import Call, FaultProxy, RecordingSleep, creating, querying

DOMAIN = "contoso.com"
USERS = [f"u{i:03d}@{DOMAIN}" for i in range(10)]
GROUPS = {"Red": USERS[0:5], "Blue": USERS[5:10], "Green": [USERS[0], USERS[5], USERS[9]]}
VICTIM_USERS = (USERS[2], USERS[7])
VICTIM_GROUP = "Green"
MAX_ATTEMPTS = 3


@pytest.fixture(params=["sqlite"])
def database_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def company() -> dict[str, Any]:
    return {
        "users": [
            {
                "userPrincipalName": name,
                "mail": name,
                "givenName": f"Given{i}",
                "surname": f"Sur{i}",
                "displayName": f"Given{i} Sur{i}",
                "jobTitle": "Staff",
                "accountEnabled": True,
            }
            for i, name in enumerate(USERS)
        ],
        "groups": [{"displayName": name, "members": members} for name, members in GROUPS.items()],
    }


@dataclass
class Rig:
    h: Harness
    proxy: FaultProxy
    sleep: RecordingSleep

    async def cycle(self, **options: Any) -> tuple[CycleSummary, ScimTarget]:
        target = ScimTarget(
            TENANT_URL,
            self.h.token,
            dialect="rfc",
            transport=httpx2.ASGITransport(app=self.proxy),
            sleep=self.sleep,
            max_attempts=options.pop("max_attempts", MAX_ATTEMPTS),
            **options,
        )
        async with target:
            summary = await run_cycle(self.h.service, await self.h.app(), target=target)
        return summary, target

    async def log(self, **filters: Any) -> list[dict[str, Any]]:
        app = await self.h.app()
        async with self.h.service.db.read() as conn:
            return await log_store.read(conn, app.id, log_store.LogFilter(limit=10_000, **filters))

    async def escrowed(self) -> dict[str, tuple[str, bool]]:
        """`{user principal name or group name: (error code, is a reference failure)}`."""
        app = await self.h.app()
        async with self.h.service.db.read() as conn:
            rows = (
                await conn.execute(
                    sa.select(
                        escrows.c.kind, escrows.c.source_id, escrows.c.error_code, escrows.c.is_reference
                    ).where(escrows.c.app_id == app.id)
                )
            ).all()
            names: dict[str, tuple[str, bool]] = {}
            for kind, source_id, code, reference in rows:
                if kind == "user":
                    user = (await directory.get_users(conn, [source_id]))[source_id]
                    names[user.upn] = (code, bool(reference))
                else:
                    group = (await directory.get_groups(conn, [source_id]))[source_id]
                    names[group.display_name] = (code, bool(reference))
        return names

    async def assert_converged(self) -> None:
        """Each user and group once in the portal, every membership, nothing left in escrow."""
        users = await self.h.scim("/Users", count=1000)
        names = [u["userName"] for u in users["Resources"]]
        assert sorted(names) == sorted(USERS), "each directory user exactly once"
        groups = await self.h.scim("/Groups", count=1000)
        assert sorted(g["displayName"] for g in groups["Resources"]) == sorted(GROUPS), "each group once"
        assert await self.h.portal_groups() == {name: set(members) for name, members in GROUPS.items()}
        assert await self.escrowed() == {}
        creates = Counter(r["source_id"] for r in await self.log(action="create") if r["status"] == "success")
        assert [s for s, n in creates.items() if n > 1] == [], "an object was created twice"


@pytest.fixture
async def rig(portal: Portal, service: Service) -> AsyncIterator[Rig]:
    h = await harness(portal, service)
    await h.load(company())
    await assign_groups(h, *GROUPS)
    proxy = FaultProxy(create_app(portal.settings, portal))
    yield Rig(h, proxy, RecordingSleep())
    await proxy.aclose()


def on_creates(call: Call) -> bool:
    return creating("Users", *VICTIM_USERS)(call) or creating("Groups", VICTIM_GROUP)(call)


def on_queries(call: Call) -> bool:
    return querying("Users", *VICTIM_USERS)(call) or querying("Groups", VICTIM_GROUP)(call)


@dataclass(frozen=True)
class Case:
    """A fault on the victims' requests, and what the provisioning log must say about it."""

    rule: dict[str, Any]
    code: str
    reached_portal: bool  # the portal acted on the request; only its answer was lost or spoilt
    on_query: bool = False
    target_options: tuple[tuple[str, Any], ...] = ()
    attempts: int = 1  # requests sent per victim: a POST is only sent again after a 429 or a 503
    waits: tuple[float, ...] | None = ()  # the client's waits per victim (None: not checked)


CASES = {
    "500 after the portal acted": Case(
        {"fault": "status", "status": 500, "forward": True}, "InternalServerError", True
    ),
    "503 on every attempt": Case(
        {"fault": "status", "status": 503},
        "InternalServerError",
        False,
        attempts=MAX_ATTEMPTS,
        waits=(0.5, 1.0),
    ),
    "429 with Retry-After on every attempt": Case(
        {"fault": "status", "status": 429, "retry_after": "1"},
        "TooManyRequests",
        False,
        attempts=MAX_ATTEMPTS,
        waits=None,  # 1 s each, and the other requests held back meanwhile: see the test below
    ),
    "429 without Retry-After on every attempt": Case(
        {"fault": "status", "status": 429}, "TooManyRequests", False, attempts=MAX_ATTEMPTS, waits=(0.5, 1.0)
    ),
    "slower than the timeout": Case(
        {"fault": "slow", "delay_s": 10.0}, "Timeout", True, target_options=(("timeout_s", 3.0),)
    ),
    "201 that is not JSON": Case({"fault": "bad_json"}, SERVICE_INCOMPATIBLE, True),
    "200 that is not JSON (matching query)": Case(
        {"fault": "bad_json"}, SERVICE_INCOMPATIBLE, False, on_query=True
    ),
    "201 with a wrong id": Case({"fault": "wrong_id"}, SERVICE_INCOMPATIBLE, True),
    "201 without id": Case({"fault": "no_id"}, SERVICE_INCOMPATIBLE, True),
    "connection closed after the portal acted": Case(
        {"fault": "close", "forward": True}, "WebExceptionProtocolError", True
    ),
    "connection closed before the portal saw it": Case(
        {"fault": "close"}, "WebExceptionProtocolError", False
    ),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_a_failing_object_is_logged_escrowed_and_converges_without_duplicates(
    rig: Rig, name: str
) -> None:
    case = CASES[name]
    rig.proxy.add(on_queries if case.on_query else on_creates, **case.rule)
    victims = {*VICTIM_USERS, VICTIM_GROUP}

    first, _ = await rig.cycle(**dict(case.target_options))

    sent = Counter(i.name for i in rig.proxy.injected)
    assert sent == dict.fromkeys(victims, case.attempts), sent
    if case.waits is not None:
        assert sorted(rig.sleep.waits) == sorted(case.waits * len(victims)), rig.sleep.waits
    assert first.status == "entry_level_errors", first
    assert first.counts["failed"] == len(victims), first
    assert first.counts["created"] == len(USERS) - len(VICTIM_USERS) + len(GROUPS) - 1, first
    assert (await rig.h.app()).watermark is not None, "the cycle completed"
    failures = await rig.log(cycle_id=first.cycle_id, status="failure")
    assert sorted(r["source_name"] for r in failures) == sorted(victims)
    for record in failures:
        assert record["error_code"] == case.code, record
        assert record["reason"], record
        assert record["recommendation"], record
        assert record["action"] in ("create", "other"), record
    assert await rig.escrowed() == dict.fromkeys(victims, (case.code, False))
    others = await rig.log(cycle_id=first.cycle_id, status="success", action="create")
    assert {r["source_name"] for r in others} == (set(USERS) | set(GROUPS)) - victims
    portal_users = await rig.h.portal_users()
    expected_now = set(USERS) - (set() if case.reached_portal else set(VICTIM_USERS))
    assert set(portal_users) == expected_now
    assert (await rig.h.portal_groups())["Red"] == set(GROUPS["Red"]) - set(VICTIM_USERS)

    rig.proxy.off()
    second, _ = await rig.cycle()
    assert second.status == "succeeded", second
    assert second.counts["failed"] == 0
    assert second.counts["created"] == (0 if case.reached_portal else len(victims)), second
    if case.reached_portal:
        # The lost answers: matched in the target and adopted, not created again.
        retried = await rig.log(cycle_id=second.cycle_id)
        for user in VICTIM_USERS:
            steps = [s for r in retried if r["source_name"] == user for s in r["steps"]]
            assert any(
                s["provisioningStepType"] == "matching" and "Matched" in s["description"] for s in steps
            ), steps
    third, _ = await rig.cycle()
    assert third.counts == dict.fromkeys(third.counts, 0), third
    await rig.assert_converged()


async def test_429_with_retry_after_is_honoured_and_a_retry_that_succeeds_logs_no_failure(rig: Rig) -> None:
    for victim in VICTIM_USERS:
        rig.proxy.add(creating("Users", victim), "status", status=429, retry_after="1", times=2)

    first, target = await rig.cycle(max_attempts=4)

    injected = rig.proxy.injected_for("status")
    assert len(injected) == 4
    assert first.status == "succeeded", first
    assert first.counts["failed"] == 0
    assert await rig.log(status="failure") == []
    assert await rig.escrowed() == {}
    assert target.retries == len(injected)
    # Each throttled request waited the second it was asked to; the others held back no longer.
    assert rig.sleep.waits.count(1.0) >= len(injected), rig.sleep.waits
    assert max(rig.sleep.waits) <= 1.0, rig.sleep.waits
    await rig.assert_converged()


async def test_429_without_retry_after_backs_off_and_succeeds(rig: Rig) -> None:
    for victim in VICTIM_USERS:
        rig.proxy.add(creating("Users", victim), "status", status=429, times=2)

    first, target = await rig.cycle(max_attempts=4)

    assert first.status == "succeeded", first
    assert await rig.log(status="failure") == []
    assert target.retries == 4
    assert sorted(rig.sleep.waits) == [0.5, 0.5, 1.0, 1.0], "0.5 s, then 1 s, for each throttled create"
    await rig.assert_converged()


async def test_a_lost_membership_patch_is_escrowed_as_a_reference_failure_and_sent_again(rig: Rig) -> None:
    hit: list[str] = []

    def membership_patch(call: Call) -> bool:
        """Every attempt of the first group's membership PATCH (a PATCH is sent again when the
        connection drops, so one lost answer alone would be retried away)."""
        if call.method != "PATCH" or call.resource != "Groups" or "members" not in str(call.body):
            return False
        if not hit:
            hit.append(call.path)
        return call.path == hit[0]

    rig.proxy.add(membership_patch, "close", forward=True, times=MAX_ATTEMPTS)

    first, _ = await rig.cycle()

    assert first.status == "entry_level_errors", first
    assert first.counts["failed"] == 1
    failures = await rig.log(cycle_id=first.cycle_id, status="failure")
    assert len(failures) == 1
    assert failures[0]["object_kind"] == "group"
    assert failures[0]["error_code"] == "WebExceptionProtocolError"
    escrowed = await rig.escrowed()
    assert list(escrowed.values()) == [("WebExceptionProtocolError", True)]

    rig.proxy.off()
    second, _ = await rig.cycle()
    assert second.status == "succeeded", second
    assert second.counts["failed"] == 0
    third, _ = await rig.cycle()
    assert third.counts == dict.fromkeys(third.counts, 0), third
    await rig.assert_converged()
