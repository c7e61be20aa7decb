"""What the Sources pages say of a source, decided without I/O: the next read in words, and the
state (with the error and what to do next) for every outcome a read can leave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from enlist.provisioning.web.sources_view import next_read_text, read_counts, state_of, until

MOMENT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (-5, "in 0 s"),
        (40, "in 40 s"),
        (60, "in 1 min"),
        (185, "in 3 min"),
        (3600, "in 1 h"),
        (7500, "in 2 h 5 min"),
    ],
)
def test_the_next_read_is_said_in_seconds_minutes_or_hours(seconds: int, said: str) -> None:
    assert until(MOMENT, MOMENT + timedelta(seconds=seconds)) == said


def described(state: str = "active", status: str | None = None, rule: str = "scheduled") -> dict[str, Any]:
    at = (MOMENT + timedelta(minutes=3)).isoformat() if rule in ("scheduled", "running") else None
    return {
        "state": state,
        "next_read": {"state": rule, "at": at},
        "last_read": {"status": status, "error": "boom: fix this" if status else None},
    }


@pytest.mark.parametrize(
    ("source", "label", "shows_error", "next_words"),
    [
        (described(), "Active", False, ""),
        (described(status="ok"), "Active", False, ""),
        (described(status="running", rule="running"), "Reading", False, ""),
        (described(status="running", rule="due"), "Interrupted", True, "Sync now"),
        (described(status="failed"), "Failing", True, "Fix what the error names"),
        (described(status="held"), "Failing: read held back", True, "Allow deletions"),
        (described("paused", "failed", "paused"), "Paused", True, "Resume"),
        (described("paused", "ok", "paused"), "Paused", False, "Resume"),
    ],
)
def test_every_outcome_of_the_last_read_gives_a_state_and_what_to_do_next(
    source: dict[str, Any], label: str, shows_error: bool, next_words: str
) -> None:
    view = state_of(source)
    assert view["label"] == label
    assert bool(view["error"]) is shows_error
    assert next_words in view["next"]


@pytest.mark.parametrize(
    ("source", "said"),
    [
        (described(), "in 3 min"),
        (described("paused", rule="paused"), "Paused: not read on its interval"),
        (described(rule="due"), "Due: at the scheduler's next poll"),
        (described(status="running", rule="running"), "Reading now"),
        (described(status="ok", rule="running"), "in 3 min"),  # applied; its lease not yet released
    ],
)
def test_the_next_read_follows_the_schedulers_rule(source: dict[str, Any], said: str) -> None:
    assert next_read_text(source, MOMENT) == said


def test_counts_are_shown_only_for_a_read_that_applied_something() -> None:
    assert read_counts(None) == {"users": "", "groups": "", "memberships": ""}
    counts = {"users_created": 2, "users_updated": 1, "groups_deleted": 4, "memberships_added": 3}
    assert read_counts(counts) == {"users": "2 / 1 / 0", "groups": "0 / 0 / 4", "memberships": "+3 -0"}
