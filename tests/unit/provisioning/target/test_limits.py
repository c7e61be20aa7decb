"""Specification of the rate limit, the concurrency limit and the pause, on a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from enlist.provisioning.target.limits import Limits, TokenBucket


class FakeClock:
    """A monotonic clock that moves only when someone sleeps; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


async def test_an_unlimited_bucket_never_waits() -> None:
    clock = FakeClock()
    bucket = TokenBucket(0, clock=clock, sleep=clock.sleep)
    for _ in range(100):
        assert await bucket.acquire() == 0.0
    assert clock.sleeps == []


async def test_requests_beyond_the_rate_wait_for_their_token() -> None:
    clock = FakeClock()
    bucket = TokenBucket(4, clock=clock, sleep=clock.sleep)
    waits = [await bucket.acquire() for _ in range(5)]
    assert waits == [0.0, 0.25, 0.25, 0.25, 0.25]
    assert clock.now == 1001.0


async def test_concurrent_callers_queue_behind_each_other() -> None:
    """Tokens are reserved in arrival order: the n-th caller waits n-1 intervals."""
    clock = FakeClock()
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)  # time stands still: every caller reserves from the same instant

    bucket = TokenBucket(2, clock=clock, sleep=record)
    waits = await asyncio.gather(*(bucket.acquire() for _ in range(4)))
    assert waits == [0.0, 0.5, 1.0, 1.5]


async def test_an_idle_bucket_saves_up_at_most_its_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1, burst=3, clock=clock, sleep=clock.sleep)
    clock.now += 60
    waits = [await bucket.acquire() for _ in range(4)]
    assert waits == [0.0, 0.0, 0.0, 1.0]


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        TokenBucket(-1)
    with pytest.raises(ValueError, match="burst"):
        TokenBucket(1, burst=0)
    with pytest.raises(ValueError, match="max_concurrency"):
        Limits(0)


async def test_no_more_than_max_concurrency_requests_are_in_flight() -> None:
    limits = Limits(2)
    peak = 0
    release = asyncio.Event()

    async def request() -> None:
        nonlocal peak
        async with limits.slot():
            peak = max(peak, limits.in_flight)
            await release.wait()

    tasks = [asyncio.create_task(request()) for _ in range(5)]
    await asyncio.sleep(0.01)
    assert limits.in_flight == 2
    release.set()
    await asyncio.gather(*tasks)
    assert peak == 2
    assert limits.in_flight == 0


async def test_a_pause_holds_every_request_until_it_ends() -> None:
    clock = FakeClock()
    limits = Limits(4, clock=clock, sleep=clock.sleep)
    limits.pause(10)
    clock.now += 4
    async with limits.slot():
        pass
    assert clock.sleeps == [6.0]
    async with limits.slot():
        pass
    assert clock.sleeps == [6.0]


async def test_a_shorter_pause_does_not_cut_a_longer_one() -> None:
    clock = FakeClock()
    limits = Limits(1, clock=clock, sleep=clock.sleep)
    limits.pause(30)
    limits.pause(5)
    async with limits.slot():
        pass
    assert clock.sleeps == [30.0]


async def test_the_request_that_slept_its_pause_is_not_held_again() -> None:
    clock = FakeClock()
    limits = Limits(1, clock=clock, sleep=clock.sleep)
    limits.pause(10)
    async with limits.slot(honour_pause=False):
        pass
    assert clock.sleeps == []


async def test_the_rate_applies_after_the_pause() -> None:
    clock = FakeClock()
    limits = Limits(1, 2, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        async with limits.slot():
            pass
    assert clock.sleeps == [0.5, 0.5]
