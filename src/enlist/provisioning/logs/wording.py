"""The provisioning log in an admin's words: one table from Graph's step names and skip reasons
(kept as they are in the records and the JSON export, where tools expect them) to the headings,
explanations and next steps the pages and the CSV export show.

Pure: plain data and functions over a record's JSON (`LogRecord.row`). A step or reason missing
here still shows, by its Graph name; `tests/unit/provisioning/logs/test_wording.py` reads the
engine's source and fails when it emits one this table does not cover.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

STEP_TITLES: Mapping[str, str] = {
    "EntryImport": "Read from the directory",
    "EntrySynchronizationScoping": "Checked scope",
    "EntrySynchronizationAdd": "Looked for a match in the target",
    "EntryConflict": "Found a conflicting object in the target",
    "EntryExportAdd": "Created in the target",
    "EntryExportUpdate": "Updated in the target",
    "EntryExportUpdateSoftDelete": "Disabled in the target",
    "EntryExportDelete": "Deleted from the target",
    "EntryExportStaged": "Held back: too many deletions at once",
    "EntryReferenceResolution": "Resolved references (manager, members)",
    "EntrySynchronizationSkip": "Skipped",
}


@dataclass(frozen=True, slots=True)
class SkipExplanation:
    """Why a record was skipped (`title`, a heading) and what an admin can do about it."""

    title: str
    action: str


SKIP_REASONS: Mapping[str, SkipExplanation] = {
    "NotEffectivelyEntitled": SkipExplanation(
        "Skipped: not assigned to the application",
        "Nothing to do if this is intended. To provision it, assign the user or one of its groups "
        "in Users and groups, or set the scope to all users and groups, and check the scoping filters.",
    ),
    "NotInSource": SkipExplanation(
        "Skipped: not in the source directory",
        "The object is no longer in the directory and was never provisioned: nothing to do.",
    ),
    "ScopingFilterNotEvaluated": SkipExplanation(
        "Skipped: a scoping filter could not be evaluated",
        "A regular expression of a scoping filter ran past its time limit for this object's values. "
        "Simplify the filter on the Provisioning page; the object is left as it is until then.",
    ),
    "RedundantExport": SkipExplanation(
        "Skipped: already up to date in the target",
        "The target already holds these values: nothing to do.",
    ),
    "AlreadyDisabled": SkipExplanation(
        "Skipped: already disabled in the target",
        "The object left scope and is already disabled in the target: nothing to do.",
    ),
    "OutOfScopeDeletionSkipped": SkipExplanation(
        "Skipped: out of scope, but deletions of out-of-scope objects are off",
        "The application's setting skip_out_of_scope_deletions keeps it in the target. Turn the "
        "setting off on the Provisioning page if objects that leave scope should be disabled.",
    ),
    "MappingEvaluationFailed": SkipExplanation(
        "Skipped: the attribute mappings could not be evaluated",
        "Fix the expression named in the step (Provisioning → Mappings, Test expression helps), "
        "or the object's values in the directory; the next cycle tries again.",
    ),
    "StagedDeletion": SkipExplanation(
        "Skipped: held back by the accidental-deletion threshold",
        "Too many disables and deletes in one cycle. Review them in the provisioning logs, then "
        "choose Allow deletions on the Overview (or raise the threshold).",
    ),
}

# A step that skips a record without a SkipReason detail of its own: the reason it stands for.
STEP_SKIP_REASONS: Mapping[str, str] = {"EntryExportStaged": "StagedDeletion"}


def step_title(name: str) -> str:
    """The heading for a Graph step name; an unknown name is shown as it is."""
    return STEP_TITLES.get(name, name)


def skip_reason(record: Mapping[str, Any]) -> str | None:
    """The Graph skip reason of a skipped record (`SkipReason` of its skip step, or the reason a
    skipping step stands for); None when the record was not skipped."""
    if record.get("status") != "skipped":
        return None
    for step in record.get("steps") or []:
        details = step.get("details") or {}
        if details.get("SkipReason"):
            return str(details["SkipReason"])
        if step.get("name") in STEP_SKIP_REASONS:
            return STEP_SKIP_REASONS[step["name"]]
    return None


def skip_explanation(record: Mapping[str, Any]) -> SkipExplanation | None:
    """Why the record was skipped and what to do, or None when it was not skipped. An unknown
    reason still explains itself by its name."""
    reason = skip_reason(record)
    if reason is None:
        return None
    return SKIP_REASONS.get(reason, SkipExplanation(f"Skipped: {reason}", "See the steps for details."))
