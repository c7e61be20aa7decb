"""Failures counted per key in a sliding window, in a table of bounded size.

`FailureWindows` is pure: timestamps from an injected clock, nothing else. It is the counter under
the admin sign-in throttle and the Secret token throttle; what a key is, how many failures are
allowed and what a caller answers when the limit is reached are theirs.

A failure older than `window_s` seconds no longer counts, and a key whose failures have all aged
out is dropped. The table holds at most `max_keys` keys: recording a failure for a new key past
the bound forgets the key idle longest (the one whose last failure is oldest), so a flood of
made-up keys costs bounded memory.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

Clock = Callable[[], float]
MAX_KEYS = 10_000


@dataclass
class FailureWindows:
    """The failures of each key in the last `window_s` seconds, for at most `max_keys` keys."""

    window_s: float
    clock: Clock = time.monotonic
    max_keys: int = MAX_KEYS
    _failures: OrderedDict[Hashable, deque[float]] = field(
        default_factory=OrderedDict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        if self.max_keys < 1 or self.window_s <= 0:
            raise ValueError("max_keys must be at least 1 and the window positive")

    def record(self, key: Hashable) -> None:
        """Count one failure of `key` now; a new key past `max_keys` forgets the idlest one."""
        times = self._failures.get(key)
        if times is None:
            times = self._failures[key] = deque()
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)
        times.append(self.clock())
        self._failures.move_to_end(key)

    def wait(self, key: Hashable, limit: int) -> int:
        """Whole seconds (at least 1) until `key` has fewer than `limit` failures in the window;
        0 when it has fewer now. Asking does not count as a failure."""
        times = self._recent(key)
        if len(times) < limit:
            return 0
        return max(1, math.ceil(times[-limit] + self.window_s - self.clock()))

    def forget(self, key: Hashable) -> None:
        """Drop every failure of `key` (a success that clears its own count)."""
        self._failures.pop(key, None)

    def __len__(self) -> int:
        """How many keys are held (for tests of the bound)."""
        return len(self._failures)

    def _recent(self, key: Hashable) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        horizon = self.clock() - self.window_s
        while times and times[0] <= horizon:
            times.popleft()
        if not times:
            del self._failures[key]
        return times
