"""The quiet-period rule, pure: when an alert condition's change sends a notification.

A condition (one application or tenant, one kind, one subject) is raised when what needs a
person begins and cleared when it ends. The rule, per condition:
- raising a condition that is already raised sends nothing (a condition is told once);
- raising it sends when nothing was sent for it within the quiet period, else it is raised
  silently (a flapping target sends at most one notification per quiet period);
- clearing it sends the "recovered" notification only when its raising was sent, so every
  recovered notification answers one that was received.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta


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
