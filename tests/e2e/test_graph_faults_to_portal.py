"""A Graph read that fails at any fault point of graph-source.md §8.4 loses nothing downstream.

The fake Graph holds a tenant the directory has read and the portal has received (a cycle over
real HTTP). The tenant then changes in every way that could hurt if half-applied: a rename, a
disable, a deletion, a membership removal and addition, manager changes. A read of those
changes (a delta round, or a full round, the one that reconciles vanished objects) then meets a
fault that outlives the reader's retries, at the round's first request, in the middle of its
users, at its groups, or at the login endpoint. For each: the read raises; the directory, its
change feed and the source's cursor are exactly as before; the next cycle sends nothing, so the
portal keeps every user active and every membership; and once the fault is gone the next read
and cycle make the portal equal the tenant. Faults the reader absorbs (an expired or reset delta
state, one revoked token, a quota warning) end in the same converged portal with no portal user
lost or re-created. Both databases.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from enlist.lms.api.runtime import Portal
from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from enlist.provisioning.sources.model import SourceUnavailableError
from enlist.provisioning.sources.read import ReadResult, read_source
from tests.e2e.engine_harness import Harness, assign_groups, harness
from tests.e2e.graph_portal import (
    ASSIGNED,
    cycle_over_http,
    directory_snapshot,
    expected,
    fake_graph,
    portal_over_http,
    portal_state,
    seed,
)
from tests.fakes.graph.app import FakeGraph
from tests.fakes.graph.faults import Fault
from tests.integration.sources.graph_helpers import CLIENT_ID, SECRET, Clock, reader_for

RETRIES = 2
SOURCE = "entra"
# Every §8.4 failure the fake injects, as Graph sends it (the HTTP-date is made when injected).
GRAPH_FAULTS = {
    "429 Retry-After 10": Fault(status=429, retry_after="10"),
    "429 Retry-After 2.128": Fault(status=429, retry_after="2.128"),
    "429 Retry-After HTTP-date": Fault(status=429, retry_after="date"),
    "429 without Retry-After": Fault(status=429),
    "503 Retry-After 4": Fault(status=503, retry_after="4"),
    "503 without Retry-After": Fault(status=503),
    "504": Fault(status=504),
    "connection reset": Fault(kind="reset"),
}
# (route, n): the round's n-th request to the route. Users come two a page, so users_delta #2 is
# a page in the middle of the round, after the first page was staged.
POINTS = [("users_delta", 1), ("users_delta", 2), ("groups_delta", 1)]


@dataclass(frozen=True)
class Case:
    route: str
    call: int
    fault: Fault
    times: int


# Each fault at one point, the points in turn, and one fault at every point: the reader's retry
# path is one for every status (tests/integration/sources/test_graph_faults.py runs each fault at
# each point against the reader alone).
_PLACED = [(name, POINTS[i % len(POINTS)]) for i, name in enumerate(GRAPH_FAULTS)]
_PLACED += [
    ("503 without Retry-After", point)
    for point in POINTS
    if ("503 without Retry-After", point) not in _PLACED
]
CASES = {
    f"{name} at {route} #{call}": Case(route, call, GRAPH_FAULTS[name], RETRIES + 1)
    for name, (route, call) in _PLACED
} | {
    # A token revoked mid-round is fetched again once; revoked again, the round stops (§1.6).
    "401 twice at users_delta #2": Case("users_delta", 2, Fault(kind="revoke"), 2),
    "401 twice at groups_delta #1": Case("groups_delta", 1, Fault(kind="revoke"), 2),
    "login endpoint 503": Case("token", 1, Fault(status=503), RETRIES + 1),
    "login endpoint reset": Case("token", 1, Fault(kind="reset"), RETRIES + 1),
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeGraph]:
    async with fake_graph() as graph:
        graph.knobs.page_size = 2
        yield graph


async def read(service: Service, fake: FakeGraph, *, full: bool = False) -> ReadResult:
    """One read, as `source sync` does it, by a reader whose waits are counted, not spent."""
    source = await operations.get(service, SOURCE)
    reader = reader_for(fake, Clock(), max_retries=RETRIES)
    return await read_source(service, source, full=full, reader=reader)


async def provisioned(portal: Portal, service: Service, fake: FakeGraph, tenant_url: str) -> Harness:
    """The tenant read and provisioned; then changed in every way a delta round carries."""
    t = fake.tenant
    ids = seed(t)
    settings = operations.graph_settings(t.tenant_id, CLIENT_ID, fake.graph_base, fake.auth_base)
    await operations.add(service, SOURCE, "graph", settings, {"client_secret": SECRET})
    await read(service, fake)
    h = await harness(portal, service)
    await assign_groups(h, *ASSIGNED)
    await cycle_over_http(h, tenant_url, "rfc")
    assert await portal_state(h) == expected(t)

    t.rename_user(ids["ada"], "ada.lovelace@contoso.com")
    t.disable_user(ids["bob"])
    t.delete_user(ids["dan"])
    t.remove_member(ids["engineering"], ids["ceo"])
    t.add_member(ids["sales"], ids["eve"])
    t.set_manager(ids["eve"], ids["ada"])
    t.set_manager(ids["ada"], None)
    return h


def _injected(fake: FakeGraph, case: Case) -> None:
    fault = case.fault
    if fault.retry_after == "date":
        moment = email.utils.formatdate(time.time() + 20, usegmt=True)
        fault = Fault(kind=fault.kind, status=fault.status, retry_after=moment)
    start = fake.faults.calls.get(case.route, 0) + case.call
    fake.faults.add(case.route, fault, call=start, times=case.times)


# Every case cuts a delta round. A full round, the one that reconciles vanished objects, is cut
# at each point by a 503, and by a second 401 and the login endpoint.
RUNS = [(name, "delta") for name in CASES] + [
    (name, "full") for name in CASES if name.startswith(("503 without Retry-After", "401", "login"))
]


@pytest.mark.parametrize(("name", "kind"), RUNS)
async def test_a_read_cut_off_by_a_fault_changes_nothing_and_the_portal_loses_nothing(
    portal: Portal, service: Service, fake: FakeGraph, name: str, kind: str
) -> None:
    async with portal_over_http(portal) as tenant_url:
        h = await provisioned(portal, service, fake, tenant_url)
        before_portal = await portal_state(h)
        user_ids = {name: u["id"] for name, u in (await h.portal_users()).items()}
        before = await directory_snapshot(service, SOURCE)
        _injected(fake, CASES[name])

        with pytest.raises(SourceUnavailableError):
            await read(service, fake, full=kind == "full")

        assert await directory_snapshot(service, SOURCE) == before
        summary = await cycle_over_http(h, tenant_url, "rfc")
        assert summary.counts == dict.fromkeys(summary.counts, 0), "a failed read gives a cycle nothing to do"
        assert await portal_state(h) == before_portal, "no user disabled, no membership removed"
        assert {name: u["id"] for name, u in (await h.portal_users()).items()} == user_ids

        fake.faults.clear()
        result = await read(service, fake, full=kind == "full")
        assert result.kind == kind
        await cycle_over_http(h, tenant_url, "rfc")
        assert await portal_state(h) == expected(fake.tenant)
        users = await h.portal_users()
        assert users["ada.lovelace@contoso.com"]["id"] == user_ids["ada@contoso.com"]
        assert users["bob@contoso.com"]["active"] is False


ABSORBED = {
    # The delta state expired (400 syncStateNotFound) or was reset (410 + Location) at either
    # query of the round: the read starts again as a full round and reconciles.
    "expired delta state at users_delta": Case("users_delta", 1, Fault(kind="expire_cursor"), 1),
    "expired delta state at groups_delta": Case("groups_delta", 1, Fault(kind="expire_cursor"), 1),
    "reset delta state at users_delta": Case("users_delta", 1, Fault(kind="reset_cursor"), 1),
    "reset delta state at groups_delta": Case("groups_delta", 1, Fault(kind="reset_cursor"), 1),
    "one revoked token": Case("users_delta", 2, Fault(kind="revoke"), 1),
    "quota nearly used": Case(
        "users_delta", 1, Fault(kind="headers", headers=(("x-ms-throttle-limit-percentage", "0.9"),)), 1
    ),
    "one 429": Case("users_delta", 2, GRAPH_FAULTS["429 Retry-After 10"], 1),
    "one connection reset": Case("groups_delta", 1, GRAPH_FAULTS["connection reset"], 1),
}


@pytest.mark.parametrize("name", list(ABSORBED))
async def test_a_fault_the_reader_absorbs_ends_in_the_tenant_with_no_portal_user_lost(
    portal: Portal, service: Service, fake: FakeGraph, name: str
) -> None:
    async with portal_over_http(portal) as tenant_url:
        h = await provisioned(portal, service, fake, tenant_url)
        user_ids = {name: u["id"] for name, u in (await h.portal_users()).items()}
        case = ABSORBED[name]
        _injected(fake, case)

        result = await read(service, fake)

        assert result.kind == ("full" if "delta state" in name else "delta")
        summary = await cycle_over_http(h, tenant_url, "rfc")
        assert summary.counts["deleted"] == 0
        assert await portal_state(h) == expected(fake.tenant)
        after = {name: u["id"] for name, u in (await h.portal_users()).items()}
        after["ada@contoso.com"] = after.pop("ada.lovelace@contoso.com")  # renamed in place
        lost = {name: id_ for name, id_ in user_ids.items() if after.get(name) != id_}
        assert not lost, "every portal user is the one it was: none deleted or re-created"
