"""A provisioning log record: what happened to one object in one cycle, in Entra's terms.

Fields follow Graph's `provisioningObjectSummary`: cycle and change ids, action (`create`,
`update`, `disable`, `delete`, `stagedDelete`, `other`), status (`success`, `failure`,
`skipped`, `warning`), source and target identity, the steps (import, scoping, matching,
action) with their details, the modified properties with old and new values, and for a failure
the error code, the reason and what to do about it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from enlist.logs.context import current_request_id

LogAction = Literal["create", "update", "disable", "delete", "stagedDelete", "other"]
LogStatus = Literal["success", "failure", "skipped", "warning"]
StepType = Literal["import", "scoping", "matching", "processing", "referenceResolution", "export"]
ACTIONS: tuple[str, ...] = ("create", "update", "disable", "delete", "stagedDelete", "other")
STATUSES: tuple[str, ...] = ("success", "failure", "skipped", "warning")


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    type: StepType
    status: str
    description: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "provisioningStepType": self.type,
            "status": self.status,
            "description": self.description,
            "details": self.details,
        }


@dataclass(frozen=True, slots=True)
class Modified:
    name: str
    old: Any
    new: Any

    def to_json(self) -> dict[str, Any]:
        return {"displayName": self.name, "oldValue": _text(self.old), "newValue": _text(self.new)}


@dataclass(slots=True)
class LogRecord:
    cycle_id: str
    object_kind: str
    source_id: str | None
    source_name: str | None
    at: datetime
    action: LogAction = "other"
    status: LogStatus = "success"
    target_id: str | None = None
    steps: list[Step] = field(default_factory=list)
    modified: list[Modified] = field(default_factory=list)
    error_code: str | None = None
    reason: str | None = None
    recommendation: str | None = None
    duration_ms: float = 0.0
    change_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    request_id: str | None = field(default_factory=current_request_id)  # the request's or cycle's

    def step(self, name: str, kind: StepType, status: str, description: str, **details: Any) -> None:
        self.steps.append(Step(name, kind, status, description, details))

    def fail(self, code: str, reason: str, recommendation: str) -> None:
        self.status, self.error_code, self.reason, self.recommendation = (
            "failure",
            code,
            reason,
            recommendation,
        )

    def row(self, app_id: int) -> dict[str, Any]:
        return {
            "app_id": app_id,
            "cycle_id": self.cycle_id,
            "change_id": self.change_id,
            "at": self.at,
            "action": self.action,
            "status": self.status,
            "object_kind": self.object_kind,
            "source_id": self.source_id,
            "source_name": (self.source_name or "")[:512] or None,
            "target_id": self.target_id,
            "steps": [s.to_json() for s in self.steps],
            "modified": [m.to_json() for m in self.modified],
            "error_code": self.error_code,
            "reason": self.reason,
            "recommendation": self.recommendation,
            "duration_ms": round(self.duration_ms, 3),
            "request_id": self.request_id,
        }


def _text(value: Any) -> str | None:
    """Graph shows modified values as strings; so do we (lists joined, booleans as True/False)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list):
        return ", ".join(_text(v) or "" for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items())
    return str(value)
