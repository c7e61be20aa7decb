"""The provisioning service's alert kinds. The quiet-period rule that decides when a condition's
change sends a notification is shared with the portal: `enlist.notify.rule`."""

from __future__ import annotations

KINDS: dict[str, str] = {
    "quarantine": "the application entered quarantine (and, recovered, left it)",
    "staged_deletions": "deletions reached the accidental-deletion threshold and wait for an admin",
    "cycle_failures": "a cycle's failed objects exceeded notify_failure_percent of those it processed",
    "source_failing": "a source's reads failed notify_source_failures times in a row",
    "token_expiry": (
        "the Secret token expires within notify_token_expiry_days (its secret_token_expires_at "
        "setting, else the exp claim of a JWT token)"
    ),
}
"""Every alert kind, with what raises it."""
