"""Sync log entries as CSV or JSON Lines, for exports from the CLI and the JSON API."""

from __future__ import annotations

from typing import Any

import orjson

from enlist.csv_cells import csv_line
from enlist.lms.domain.department_rule import MOVE_ATTRIBUTE, shown_path

CSV_COLUMNS = (
    "id",
    "at",
    "method",
    "path",
    "status",
    "action",
    "resource_type",
    "resource_id",
    "resource_name",
    "changes",
    "duration_ms",
    "error",
    "request_id",
    "client",
)


def csv_header() -> str:
    return csv_line(CSV_COLUMNS)


def csv_row(entry: dict[str, Any]) -> str:
    """One entry as a CSV line; values a SCIM client chose are written as text, never formulas.
    A department move reads as paths, as the pages show them; JSON Lines keep the names as lists."""
    values = [entry.get(c) for c in CSV_COLUMNS]
    changes = [_readable(c) for c in entry.get("changes") or []]
    values[CSV_COLUMNS.index("changes")] = orjson.dumps(changes).decode()
    return csv_line(values)


def jsonl_row(entry: dict[str, Any]) -> str:
    return orjson.dumps(entry).decode() + "\n"


def _readable(change: Any) -> Any:
    if isinstance(change, dict) and change.get("attribute") == MOVE_ATTRIBUTE:
        return {**change, "old": shown_path(change.get("old")), "new": shown_path(change.get("new"))}
    return change
