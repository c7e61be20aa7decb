"""How fast and how wide the client may talk to one target: a rate, a concurrency, a pause.

- `TokenBucket` lets `rate` requests a second through, in bursts of at most `burst`. A caller
  that finds the bucket empty reserves the next token and sleeps once until it is due, so the
  waits are exact and first come, first served.
- `Limits` puts a concurrency semaphore in front of the bucket, and holds every request back
  while the target has asked for a pause (`Retry-After`).

Time is injected (`clock` in seconds, monotonic; `sleep`), so tests run on a fake clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

__all__ = ["Clock", "Limits", "Sleep", "TokenBucket"]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class TokenBucket:
    """`rate` tokens a second (0 = unlimited), at most `burst` saved up; starts full."""

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate < 0:
            raise ValueError("the rate cannot be negative")
        if burst < 1:
            raise ValueError("the burst must be at least 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = clock()

    async def acquire(self) -> float:
        """Take one token, sleeping until it is due; returns how long it slept."""
        if self.rate == 0:
            return 0.0
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        # The token is taken now, even when it is only due later: the balance goes negative and
        # the next caller waits behind this one. No await before this line, so no race.
        self._tokens -= 1.0
        if self._tokens >= 0:
            return 0.0
        wait = -self._tokens / self.rate
        await self._sleep(wait)
        return wait


class Limits:
    """At most `max_concurrency` requests in flight, `max_requests_per_second` sent, pauses honoured."""

    def __init__(
        self,
        max_concurrency: int,
        max_requests_per_second: float = 0,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.max_concurrency = max_concurrency
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._bucket = TokenBucket(max_requests_per_second, clock=clock, sleep=sleep)
        self._clock = clock
        self._sleep = sleep
        self._resume_at = float("-inf")
        self.in_flight = 0

    def pause(self, seconds: float) -> None:
        """Send nothing for `seconds` from now (a pause already running longer is kept)."""
        self._resume_at = max(self._resume_at, self._clock() + seconds)

    @asynccontextmanager
    async def slot(self, *, honour_pause: bool = True) -> AsyncIterator[None]:
        """Hold one of the concurrent slots for one request, once its pause and its token are due.

        `honour_pause=False` is for the request that asked for the pause and has already slept it.
        """
        async with self._semaphore:
            if honour_pause:
                wait = self._resume_at - self._clock()
                if wait > 0:
                    await self._sleep(wait)
            await self._bucket.acquire()
            self.in_flight += 1
            try:
                yield
            finally:
                self.in_flight -= 1
