"""What the Sources pages show of a source, from `operations.describe`: pure functions, no I/O.

The state in words (active, paused, failing with the error and what to do next, reading,
interrupted), the next read in words ("in 3 min") by the scheduler's rule, a read's counts, and
the settings form's fields with their stored text and defaults.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from enlist.provisioning.sources import operations, read_log

COMMON_KEYS = ("deletion_threshold", "start_cycles_after_read")
KIND_KEYS = {
    "file": ("path",),
    "graph": (
        "tenant_id",
        "client_id",
        "graph_url",
        "login_url",
        "scope_groups",
        "scope_app_id",
        "requests_per_second",
        "max_retries",
        "max_retry_wait",
        "timeout",
        "managers_by_batch",
    ),
    "ldap": (
        "url",
        "bind_dn",
        "base_dn",
        "user_filter",
        "group_filter",
        "dialect",
        "delta",
        "page_size",
        "upn_domain",
    ),
}
DEFAULTS = {
    "deletion_threshold": "500",
    "start_cycles_after_read": "true",
    "graph_url": operations.GRAPH_URL,
    "login_url": operations.LOGIN_URL,
    "requests_per_second": "50",
    "max_retries": "5",
    "max_retry_wait": "120",
    "timeout": "30",
    "managers_by_batch": "false",
    "dialect": "auto",
    "delta": "auto",
    "page_size": "500",
}
ATTRIBUTES = "attributes"  # an LDAP source's custom attributes: one field each, `attributes.NAME`


def until(moment: datetime, at: datetime) -> str:
    """`at` from `moment` in words: "in 40 s", "in 3 min", "in 2 h 5 min"."""
    seconds = max(0, int((at - moment).total_seconds()))
    if seconds < 60:
        return f"in {seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"in {minutes} min"
    return f"in {minutes // 60} h {minutes % 60} min" if minutes % 60 else f"in {minutes // 60} h"


def next_read_text(described: dict[str, Any], moment: datetime) -> str:
    rule = described["next_read"]
    if rule["state"] == "paused":
        return "Paused: not read on its interval"
    if rule["state"] == "running" and described["last_read"]["status"] == "running":
        return "Reading now"
    if rule["state"] == "due" or (rule["state"] == "running" and not rule["at"]):
        return "Due: at the scheduler's next poll"
    at = datetime.fromisoformat(rule["at"]) if rule["at"] else None
    return until(moment, at) if at else "Not scheduled"


def state_of(described: dict[str, Any]) -> dict[str, str]:
    """The source's state as the pages say it: a badge, a label, the error and what to do next."""
    last = described["last_read"]
    error = last["error"] or ""
    if last["status"] == "running":
        if described["next_read"]["state"] == "running":  # and its lease is held: it goes on
            return {"badge": "running", "label": "Reading", "error": "", "next": ""}
        return {
            "badge": "failing",
            "label": "Interrupted",
            "error": read_log.ABANDONED[0].upper() + read_log.ABANDONED[1:] + ".",
            "next": "Sync now, or wait for its next read.",
        }
    if described["state"] == "paused":
        return {
            "badge": "paused",
            "label": "Paused",
            "error": error if last["status"] in ("failed", "held") else "",
            "next": "Resume to read it on its interval again; Sync now reads it once.",
        }
    if last["status"] == "held":
        return {
            "badge": "failing",
            "label": "Failing: read held back",
            "error": error,
            "next": "Check the source; if the deletions are right, Sync now with Allow deletions "
            "(or raise deletion_threshold in Settings).",
        }
    if last["status"] == "failed":
        return {
            "badge": "failing",
            "label": "Failing",
            "error": error,
            "next": "Fix what the error names (Settings below), then Test and Sync now. "
            "The directory keeps what the last good read gave it.",
        }
    return {"badge": "active", "label": "Active", "error": "", "next": ""}


def _text(value: Any) -> str:
    """A stored setting as the form shows it (and as `source set` takes it)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def settings_fields(described: dict[str, Any]) -> list[dict[str, str]]:
    """The settings form's fields: the interval, the shared keys, the kind's keys, then any
    other key the source has; each with its stored text and its default."""
    stored: dict[str, Any] = described["settings"]
    keys = [*COMMON_KEYS, *KIND_KEYS.get(described["kind"], ())]
    keys += sorted(k for k in stored if k not in keys and k != ATTRIBUTES)
    fields = [{"key": "interval_minutes", "value": str(described["interval_minutes"]), "default": "5"}]
    fields += [{"key": k, "value": _text(stored.get(k)), "default": DEFAULTS.get(k, "")} for k in keys]
    return fields + attribute_fields(described)


def attribute_fields(described: dict[str, Any]) -> list[dict[str, str]]:
    """An LDAP source's custom attributes, one field each (`attributes.extension_NAME`: the
    directory attribute a mapping reads, its value the LDAP attribute); emptied, it is removed."""
    custom = described["settings"].get(ATTRIBUTES)
    if not isinstance(custom, dict):
        return []
    return [{"key": f"{ATTRIBUTES}.{k}", "value": str(v), "default": ""} for k, v in sorted(custom.items())]


def read_counts(counts: dict[str, Any] | None) -> dict[str, str]:
    """A read's counts as "created / updated / deleted" for users and groups, "+added -removed"
    for memberships; empty when the read applied nothing."""
    if not counts:
        return {"users": "", "groups": "", "memberships": ""}
    shown = {
        what: f"{counts.get(f'{what}_created', 0)} / {counts.get(f'{what}_updated', 0)} / "
        f"{counts.get(f'{what}_deleted', 0)}"
        for what in ("users", "groups")
    }
    shown["memberships"] = f"+{counts.get('memberships_added', 0)} -{counts.get('memberships_removed', 0)}"
    return shown
