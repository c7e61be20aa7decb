"""The quiet-period rule, pure: when an alert condition's change sends a notification.

A condition (one application, one kind, one subject) is raised when what needs a person begins
and cleared when it ends. The rule, per condition:
- raising a condition that is already raised sends nothing (a condition is told once);
- raising it sends when nothing was sent for it within the quiet period, else it is raised
  silently (a flapping target sends at most one notification per quiet period);
- clearing it sends the "recovered" notification only when its raising was sent, so every
  recovered notification answers one that was received.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

KINDS: dict[str, str] = {
    "quarantine": "the application entered quarantine (and, recovered, left it)",
    "staged_deletions": "deletions reached the accidental-deletion threshold and wait for an admin",
    "cycle_failures": "a cycle's failed objects exceeded notify_failure_percent of those it processed",
    "source_failing": "a source's reads failed notify_source_failures times in a row",
    "token_expiry": (
        "the Secret token expires within notify_token_expiry_days (its secret_token_expires_at "
        "setting, else the exp claim of a JWT token)"
    ),
}
"""Every alert kind, with what raises it."""


@dataclass(frozen=True, slots=True)
class Condition:
    active: bool = False
    notified: bool = False
    last_notified_at: datetime | None = None


def raised(condition: Condition, moment: datetime, quiet: timedelta) -> tuple[Condition, bool]:
    """The condition after it is raised at `moment`, and whether a notification goes out."""
    if condition.active:
        return condition, False
    last = condition.last_notified_at
    send = last is None or moment - last >= quiet
    return Condition(active=True, notified=send, last_notified_at=moment if send else last), send


def cleared(condition: Condition) -> tuple[Condition, bool]:
    """The condition after it is cleared, and whether the "recovered" notification goes out."""
    if not condition.active:
        return condition, False
    return replace(condition, active=False, notified=False), condition.notified
