"""Sync log entries as CSV or JSON Lines, for exports from the CLI and the JSON API."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

import orjson

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
)


def csv_header() -> str:
    return _csv_line(CSV_COLUMNS)


def csv_row(entry: dict[str, Any]) -> str:
    values = [entry.get(c) for c in CSV_COLUMNS]
    values[CSV_COLUMNS.index("changes")] = orjson.dumps(entry.get("changes") or []).decode()
    return _csv_line(["" if v is None else str(v) for v in values])


def jsonl_row(entry: dict[str, Any]) -> str:
    return orjson.dumps(entry).decode() + "\n"


def _csv_line(values: Iterable[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(list(values))
    return buffer.getvalue()
