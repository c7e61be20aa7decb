"""A cycle's summary: what `enlist provisioning app sync --json` prints and the Overview shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COUNTS = ("created", "updated", "disabled", "deleted", "skipped", "failed", "staged")


@dataclass
class CycleSummary:
    cycle_id: str
    kind: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    duration_s: float = 0.0
    completed: bool = False
    stopped: bool = False
    watermark: int | None = None
    reference_failures: int = 0
    too_many_deletes: bool = False
    error: str | None = None
    status: str = "running"

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def to_json(self) -> dict[str, Any]:
        return {
            "cycle_id": self.cycle_id,
            "kind": self.kind,
            "status": self.status,
            **{key: self.counts.get(key, 0) for key in COUNTS},
            "duration_s": self.duration_s,
            "error": self.error,
        }
