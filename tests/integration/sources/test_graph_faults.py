"""Every fault of graph-source.md §8.4 at every point of a round: a transient one is retried and
the round completes; one that outlives the retries raises `SourceUnavailableError` and the
round has no cursor; an expired or reset delta state raises `CursorExpiredError`."""

from __future__ import annotations

import email.utils
import time

import pytest

from enlist.provisioning.sources.model import CursorExpiredError, SourceUnavailableError
from tests.fakes.graph.app import FakeGraph
from tests.fakes.graph.faults import Fault
from tests.integration.sources.graph_helpers import Clock, Directory, reader_for, truth

RETRIES = 3
FAULTS = {
    "429 Retry-After 10": Fault(status=429, retry_after="10"),
    "429 Retry-After 2.128": Fault(status=429, retry_after="2.128"),
    "429 Retry-After date": Fault(status=429, retry_after="date"),
    "429 without Retry-After": Fault(status=429),
    "503 Retry-After 4": Fault(status=503, retry_after="4"),
    "503 without Retry-After": Fault(status=503),
    "504": Fault(status=504),
    "connection reset": Fault(kind="reset"),
}
# (route, call): the first request of a round, a page in the middle, the second query.
POINTS = [("users_delta", 1), ("users_delta", 3), ("groups_delta", 1)]


def _materialise(fault: Fault) -> Fault:
    if fault.retry_after == "date":
        moment = email.utils.formatdate(time.time() + 20, usegmt=True)
        return Fault(kind=fault.kind, status=fault.status, retry_after=moment)
    return fault


def _tenant(fake: FakeGraph) -> None:
    fake.knobs.page_size = 2
    users = [fake.tenant.create_user(f"u{i}@contoso.com") for i in range(7)]
    group = fake.tenant.create_group("G")
    for user in users:
        fake.tenant.add_member(group, user)


@pytest.mark.parametrize("point", POINTS, ids=lambda p: f"{p[0]}#{p[1]}")
@pytest.mark.parametrize("name", list(FAULTS))
async def test_a_transient_fault_is_retried_and_the_round_completes(
    fake: FakeGraph, name: str, point: tuple[str, int]
) -> None:
    _tenant(fake)
    clock = Clock()
    reader = reader_for(fake, clock, max_retries=RETRIES)
    fault = _materialise(FAULTS[name])
    fake.faults.add(point[0], fault, call=point[1])
    directory = Directory()

    cursor = await directory.apply(await reader.start_round(None))

    assert cursor is not None
    assert directory.view() == truth(fake)
    assert reader.last_client is not None
    assert len(reader.last_client.waits) == 1
    if fault.retry_after is not None and fault.retry_after[0].isdigit():
        assert reader.last_client.waits[0] == float(fault.retry_after)  # waits exactly Retry-After
    elif fault.retry_after is not None:
        assert reader.last_client.waits[0] >= 18  # an HTTP-date 20 s ahead


@pytest.mark.parametrize("point", POINTS, ids=lambda p: f"{p[0]}#{p[1]}")
@pytest.mark.parametrize("name", list(FAULTS))
async def test_a_fault_that_outlives_the_retries_stops_the_round_without_a_cursor(
    fake: FakeGraph, name: str, point: tuple[str, int]
) -> None:
    _tenant(fake)
    reader = reader_for(fake, max_retries=RETRIES)
    fake.faults.add(point[0], _materialise(FAULTS[name]), call=point[1], times=RETRIES + 1)
    graph_round = await reader.start_round(None)

    with pytest.raises(SourceUnavailableError):
        await Directory().apply(graph_round)

    assert graph_round.cursor is None
    assert reader.last_client is not None
    assert reader.last_client.sent <= 2 * (RETRIES + 1) + 4


async def test_a_delta_round_cut_off_keeps_no_cursor_and_the_next_round_converges(fake: FakeGraph) -> None:
    _tenant(fake)
    reader = reader_for(fake, max_retries=0)
    directory = Directory()
    cursor = await directory.apply(await reader.start_round(None))
    fake.tenant.update_user(next(iter(fake.tenant.users)), department="After")
    fake.faults.add("groups_delta", Fault(status=503))
    cut = await reader.start_round(cursor)

    with pytest.raises(SourceUnavailableError):
        await Directory().apply(cut)
    assert cut.cursor is None

    await directory.apply(await reader.start_round(cursor))
    assert directory.view() == truth(fake)


@pytest.mark.parametrize("name", ["503 Retry-After 4", "503 without Retry-After", "504", "connection reset"])
async def test_after_a_503_504_or_a_reset_the_retry_goes_over_a_new_connection(
    fake: FakeGraph, name: str
) -> None:
    _tenant(fake)
    reader = reader_for(fake)
    fake.faults.add("users_delta", FAULTS[name], call=3)

    await Directory().apply(await reader.start_round(None))

    pages = fake.graph_requests("users_delta")
    assert pages[1].peer == pages[0].peer  # kept alive between pages
    assert pages[3].peer != pages[2].peer  # the retry of the failed third request


async def test_a_retry_after_longer_than_the_limit_stops_the_round(fake: FakeGraph) -> None:
    _tenant(fake)
    clock = Clock()
    reader = reader_for(fake, clock, max_retry_wait=60)
    fake.faults.add("users_delta", Fault(status=429, retry_after="600"))

    with pytest.raises(SourceUnavailableError, match="600 s"):
        await Directory().apply(await reader.start_round(None))
    assert clock.sleeps == []


async def test_an_error_graph_does_not_retry_stops_the_round_at_once(fake: FakeGraph) -> None:
    _tenant(fake)
    reader = reader_for(fake)
    fake.faults.add("users_delta", Fault(status=500))

    with pytest.raises(SourceUnavailableError, match="500"):
        await Directory().apply(await reader.start_round(None))
    assert len(fake.graph_requests("users_delta")) == 1


async def test_an_expired_delta_token_raises_cursor_expired(fake: FakeGraph) -> None:
    _tenant(fake)
    reader = reader_for(fake)
    cursor = await Directory().apply(await reader.start_round(None))
    fake.tenant.advance_clock(8 * 86400)

    with pytest.raises(CursorExpiredError, match="syncStateNotFound"):
        await Directory().apply(await reader.start_round(cursor))


async def test_a_synchronisation_reset_410_raises_cursor_expired_and_a_full_round_reconciles(
    fake: FakeGraph,
) -> None:
    _tenant(fake)
    reader = reader_for(fake)
    directory = Directory()
    cursor = await directory.apply(await reader.start_round(None))
    vanished = next(iter(fake.tenant.users))
    fake.tenant.purge_user(vanished)
    fake.faults.add("users_delta", Fault(kind="reset_cursor"))

    with pytest.raises(CursorExpiredError, match="410"):
        await Directory().apply(await reader.start_round(cursor))

    await directory.apply(await reader.start_round(None, full=True))
    assert vanished not in directory.users
    assert directory.view() == truth(fake)


async def test_a_revoked_token_is_fetched_again_once(fake: FakeGraph) -> None:
    _tenant(fake)
    reader = reader_for(fake)
    fake.faults.add("users_delta", Fault(kind="revoke"), call=2)

    cursor = await Directory().apply(await reader.start_round(None))

    assert cursor is not None
    assert reader.tokens.fetched == 2


async def test_a_second_401_in_a_row_stops_the_round(fake: FakeGraph) -> None:
    _tenant(fake)
    reader = reader_for(fake)
    fake.faults.add("users_delta", Fault(kind="revoke"), call=2, times=2)
    graph_round = await reader.start_round(None)

    with pytest.raises(SourceUnavailableError, match="401"):
        await Directory().apply(graph_round)
    assert graph_round.cursor is None


async def test_the_request_rate_is_kept(fake: FakeGraph) -> None:
    _tenant(fake)
    clock = Clock()
    reader = reader_for(fake, clock, requests_per_second=4)

    await Directory().apply(await reader.start_round(None))

    sent = len(fake.graph_requests())
    assert sent > 4
    # The clock moves only by the reader's sleeps: n requests at 4 a second took (n-1)/4 s.
    assert clock.now - 1000.0 == pytest.approx((sent - 1) / 4)


async def test_near_its_quota_the_reader_slows_to_half_its_rate(fake: FakeGraph) -> None:
    _tenant(fake)
    clock = Clock()
    reader = reader_for(fake, clock, requests_per_second=0)
    fake.faults.add(
        "users_delta", Fault(kind="headers", headers=(("x-ms-throttle-limit-percentage", "0.9"),)), call=2
    )

    await Directory().apply(await reader.start_round(None))

    after = len(fake.graph_requests()) - 2  # the requests sent after the second one said 0.9
    assert reader.last_client is not None
    assert reader.last_client.slowed
    assert clock.sleeps == [pytest.approx(0.2)] * (after - 1)  # 5 a second, from the second on


@pytest.mark.parametrize("fault", [Fault(status=503), Fault(kind="reset")], ids=["503", "reset"])
async def test_a_login_endpoint_that_fails_once_is_tried_again(fake: FakeGraph, fault: Fault) -> None:
    _tenant(fake)
    reader = reader_for(fake)
    fake.faults.add("token", fault)

    cursor = await Directory().apply(await reader.start_round(None))

    assert cursor is not None
    assert len([r for r in fake.requests if r.route == "token"]) == 2


async def test_a_login_endpoint_that_keeps_failing_stops_the_round(fake: FakeGraph) -> None:
    _tenant(fake)
    reader = reader_for(fake, max_retries=2)
    fake.faults.add("token", Fault(status=503), times=3)
    graph_round = await reader.start_round(None)

    with pytest.raises(SourceUnavailableError, match="login endpoint"):
        await Directory().apply(graph_round)
    assert graph_round.cursor is None
