"""The failed-token window, on a clock the test turns by hand."""

from __future__ import annotations

import pytest

from enlist.lms.api.throttle import FailedTokens

KEY = ("203.0.113.7", "acme")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_first_limit_failures_are_allowed_and_the_next_one_is_refused_with_retry_after() -> None:
    clock = Clock()
    window = FailedTokens(limit=3, window_s=60, clock=clock)
    assert [window.fail(KEY) for _ in range(3)] == [None, None, None]
    assert window.fail(KEY) == 60
    clock.now += 15
    assert window.retry_after(KEY) == 45


def test_the_window_slides_one_failure_at_a_time() -> None:
    clock = Clock()
    window = FailedTokens(limit=2, window_s=10, clock=clock)
    window.fail(KEY)
    clock.now += 4
    window.fail(KEY)
    assert window.retry_after(KEY) == 6
    clock.now += 6  # the first failure leaves the window
    assert window.retry_after(KEY) is None
    assert window.fail(KEY) is None
    assert window.fail(KEY) == 4  # the second failure is 4 s from leaving


def test_failures_answered_429_are_not_recorded_so_retry_after_stays_true() -> None:
    clock = Clock()
    window = FailedTokens(limit=1, window_s=30, clock=clock)
    window.fail(KEY)
    for _ in range(100):
        assert window.fail(KEY) == 30
    clock.now += 30
    assert window.fail(KEY) is None


def test_each_client_and_tenant_pair_has_its_own_window() -> None:
    window = FailedTokens(limit=1, window_s=60, clock=Clock())
    window.fail(KEY)
    assert window.fail(KEY) is not None
    assert window.fail(("203.0.113.7", "globex")) is None  # same client, another tenant
    assert window.fail(("198.51.100.1", "acme")) is None  # another client, same tenant


def test_the_table_is_bounded_and_forgets_the_key_idle_longest() -> None:
    window = FailedTokens(limit=1, window_s=60, clock=Clock(), max_keys=3)
    for i in range(5):
        window.fail((f"10.0.0.{i}", "acme"))
    assert len(window) == 3
    assert window.retry_after(("10.0.0.0", "acme")) is None  # forgotten
    assert window.retry_after(("10.0.0.4", "acme")) == 60


def test_expired_keys_are_dropped_when_asked_about() -> None:
    clock = Clock()
    window = FailedTokens(limit=5, window_s=1, clock=clock)
    window.fail(KEY)
    clock.now += 2
    assert window.retry_after(KEY) is None
    assert len(window) == 0


@pytest.mark.parametrize(("limit", "window_s"), [(0, 60), (1, 0), (1, -1)])
def test_a_limit_below_one_or_a_window_not_positive_is_refused(limit: int, window_s: float) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        FailedTokens(limit=limit, window_s=window_s)
