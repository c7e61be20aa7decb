"""The provisioning log in an admin's words: every step and skip reason the engine emits has its
words, read from the engine's own source so a new one cannot slip past."""

from __future__ import annotations

import ast
import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import enlist.provisioning.engine as engine_package
from enlist.provisioning.logs import wording
from enlist.provisioning.logs.records import LogRecord
from enlist.provisioning.logs.store import CSV_COLUMNS, to_csv

ENGINE = Path(engine_package.__file__).parent


def emitted() -> tuple[set[str], set[str]]:
    """Every step name (`….step("Name", …)`) and skip reason (`skip_reason="Reason"`) written as
    a literal anywhere in the engine."""
    steps: set[str] = set()
    reasons: set[str] = set()
    for module in ENGINE.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            if name == "step" and node.args and isinstance(node.args[0], ast.Constant):
                steps.add(str(node.args[0].value))
            for keyword in node.keywords:
                if keyword.arg == "skip_reason" and isinstance(keyword.value, ast.Constant):
                    reasons.add(str(keyword.value.value))
    return steps, reasons


def test_every_step_and_skip_reason_the_engine_emits_has_an_admins_words() -> None:
    steps, reasons = emitted()
    assert len(steps) >= 10  # the scan found the engine's calls
    assert len(reasons) >= 7
    assert steps - wording.STEP_TITLES.keys() == set()
    assert reasons | set(wording.STEP_SKIP_REASONS.values()) <= wording.SKIP_REASONS.keys()
    assert set(wording.STEP_SKIP_REASONS) <= steps
    for name in steps:
        assert not wording.step_title(name).startswith("Entry"), name  # words, not Graph's names
    for explanation in wording.SKIP_REASONS.values():
        assert explanation.title.startswith("Skipped: ")
        assert explanation.action


def skipped(
    reason: str | None = "NotEffectivelyEntitled", step: str = "EntrySynchronizationSkip"
) -> LogRecord:
    record = LogRecord("c1", "user", "s1", "ada@contoso.example", datetime(2026, 12, 1, tzinfo=UTC))
    record.action, record.status = "other", "skipped"
    record.step("EntryImport", "import", "success", "Received User 'ada@contoso.example'")
    details = {"SkipReason": reason} if reason else {}
    record.step(step, "processing", "skipped", "the user is not assigned", **details)
    return record


def as_json(record: LogRecord) -> dict[str, object]:
    return {"id": 1, **record.row(1)}


def test_a_skipped_record_says_why_and_what_to_do() -> None:
    record = as_json(skipped())
    assert wording.skip_reason(record) == "NotEffectivelyEntitled"
    explained = wording.skip_explanation(record)
    assert explained is not None
    assert explained.title == "Skipped: not assigned to the application"
    assert "Users and groups" in explained.action
    staged = as_json(skipped(None, "EntryExportStaged"))
    assert wording.skip_reason(staged) == "StagedDeletion"


def test_a_record_that_was_not_skipped_has_no_skip_reason() -> None:
    record = skipped()
    record.status = "success"
    assert wording.skip_reason(as_json(record)) is None
    assert wording.skip_explanation(as_json(record)) is None


def test_the_csv_export_carries_the_skip_reason_and_the_graph_step_names_stay() -> None:
    done = skipped()
    done.status = "success"
    text = to_csv([as_json(skipped()), as_json(done)])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert rows[0]["skip_reason"] == "NotEffectivelyEntitled"
    assert rows[0]["skip_explanation"].startswith("Skipped: not assigned to the application. ")
    assert rows[1]["skip_reason"] == rows[1]["skip_explanation"] == ""
    assert '"EntrySynchronizationSkip"' in rows[0]["steps"]  # the export keeps Graph's names
