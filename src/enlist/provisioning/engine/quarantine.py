"""Quarantine, as Entra decides it (pure): when, why, and when to try again.

A job is quarantined at once when the target refuses the credentials or is not a SCIM endpoint,
and when failures pile up: evaluation starts at 5,000 failures; past 40% of the events failing or
40,000 failures (both without reference failures), or 60,000 failures in all. A quarantined job
is retried after 6 h, 12 h, 24 h, then every 24 h; after four weeks it is disabled. Any cycle that
succeeds lifts it. Too many deletions quarantine it too, until an admin allows them or restarts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

EVALUATION_START = 5_000
PROPORTION = 0.40
BASE_LIMIT = 40_000
TOTAL_LIMIT = 60_000
RETRY_SCHEDULE = (timedelta(hours=6), timedelta(hours=12), timedelta(hours=24))
RETRY_AFTER_SCHEDULE = timedelta(hours=24)
GIVE_UP_AFTER = timedelta(days=28)

CREDENTIALS = "EncounteredQuarantineException"
PROPORTION_REASON = "EncounteredEscrowProportionThreshold"
BASE_REASON = "EncounteredBaseEscrowThreshold"
TOTAL_REASON = "EncounteredTotalEscrowThreshold"
TOO_MANY_DELETES = "TooManyDeletes"


def escrow_reason(failures: int, reference_failures: int, successes: int) -> str | None:
    """The quarantine reason the failure counts give, or None."""
    if failures + reference_failures > TOTAL_LIMIT:
        return TOTAL_REASON
    if failures < EVALUATION_START:
        return None
    if failures > BASE_LIMIT:
        return BASE_REASON
    if failures / max(1, failures + successes) > PROPORTION:
        return PROPORTION_REASON
    return None


@dataclass(frozen=True, slots=True)
class Quarantine:
    reason: str
    message: str
    series_began: datetime
    series_count: int
    next_attempt: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "message": self.message,
            "series_began": self.series_began.isoformat(),
            "series_count": self.series_count,
            "next_attempt": self.next_attempt.isoformat(),
        }


def enter(previous: dict[str, Any] | None, reason: str, message: str, at: datetime) -> Quarantine:
    """The quarantine after one more failed attempt (continuing a series that already began)."""
    began = datetime.fromisoformat(previous["series_began"]) if previous else at
    count = int(previous["series_count"]) + 1 if previous else 1
    delay = RETRY_SCHEDULE[count - 1] if count <= len(RETRY_SCHEDULE) else RETRY_AFTER_SCHEDULE
    return Quarantine(reason, message, began, count, at + delay)


def expired(quarantine: Quarantine) -> bool:
    """Four weeks of quarantine: the job is disabled (Entra stops running it)."""
    return quarantine.next_attempt - quarantine.series_began > GIVE_UP_AFTER
