"""The keys docs/reference/logs.md promises: on every line, and on each event."""

from __future__ import annotations

BASE_KEYS = frozenset({"timestamp", "level", "logger", "event"})

EVENT_KEYS: dict[str, frozenset[str]] = {
    "http.request": frozenset({"request_id", "method", "route", "status", "duration_ms", "client"}),
    "scim.write": frozenset(
        {"request_id", "tenant", "resource_type", "resource_id", "operation", "status", "duration_ms"}
    ),
    "cycle": frozenset({"request_id", "application", "cycle_id", "kind", "outcome", "counts", "duration_ms"}),
    "source.read": frozenset({"source", "source_kind", "outcome", "duration_ms"}),
}
