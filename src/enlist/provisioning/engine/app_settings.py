"""An application's provisioning settings, validated: the knobs of Entra's Provisioning page
and the ones Entra lacks (dialect, interval, limits, nested-group flattening).

Frozen; `with_changes` takes `KEY=VALUE` text from the CLI or the pages and raises
`SettingError` naming the key and what it accepts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

Dialect = Literal["rfc", "entra"]
Scope = Literal["assigned", "all"]


class SettingError(ValueError):
    """A setting that does not exist, or a value it does not take."""


@dataclass(frozen=True, slots=True)
class AppSettings:
    """Defaults: RFC-compliant wire format, Entra's 40-minute interval and 500-deletion threshold."""

    dialect: Dialect = "rfc"
    interval_minutes: float = 40.0
    scope: Scope = "assigned"
    deletion_threshold: int = 500
    skip_out_of_scope_deletions: bool = False
    flatten_nested_groups: bool = False
    provision_groups: bool = True
    max_concurrency: int = 4
    max_requests_per_second: float = 0.0
    timeout_seconds: float = 30.0
    notification_email: str = ""
    log_retention_days: int = 30
    # Notifications (enlist.provisioning.notify): each kind on or off, set as `notify.KIND=on`.
    notify_quarantine: bool = True
    notify_staged_deletions: bool = True
    notify_cycle_failures: bool = True
    notify_source_failing: bool = True
    notify_quiet_minutes: float = 60.0
    notify_failure_percent: float = 10.0
    notify_source_failures: int = 3
    notify_token_expiry: bool = True
    notify_token_expiry_days: int = 14
    secret_token_expires_at: str = ""  # ISO 8601; else a JWT token's exp (notify.token_expiry)
    webhook_url: str = ""
    webhook_secret: str = ""  # sealed (enlist.secretbox) by operations.save_settings

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AppSettings:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def with_changes(self, changes: dict[str, str]) -> AppSettings:
        """`notify.KIND` is the CLI's and the pages' spelling of `notify_KIND`. `webhook_secret`
        is taken as given: the caller seals it first."""
        updates = {field_of(key): _parse(field_of(key), text.strip()) for key, text in changes.items()}
        return dataclasses.replace(self, **updates)


_CHOICES: dict[str, tuple[str, ...]] = {"dialect": ("rfc", "entra"), "scope": ("assigned", "all")}
_BOOLS = {
    "skip_out_of_scope_deletions",
    "flatten_nested_groups",
    "provision_groups",
    "notify_quarantine",
    "notify_staged_deletions",
    "notify_cycle_failures",
    "notify_source_failing",
    "notify_token_expiry",
}
# (type, minimum, maximum): the maximum keeps a value finite and within what the scheduler's
# time arithmetic and the databases hold (NaN once passed `value < minimum`: a 500 on PostgreSQL).
_NUMBERS: dict[str, tuple[type[int | float], float, float]] = {
    "interval_minutes": (float, 1.0, 525_600),  # a year
    "deletion_threshold": (int, 0, 2**63 - 1),
    "max_concurrency": (int, 1, 1000),
    "max_requests_per_second": (float, 0.0, 1_000_000),
    "timeout_seconds": (float, 1.0, 86_400),
    "log_retention_days": (int, 1, 36_500),
    "notify_quiet_minutes": (float, 0.0, 525_600),
    "notify_failure_percent": (float, 0.0, 100.0),
    "notify_source_failures": (int, 1, 1000),
    "notify_token_expiry_days": (int, 1, 3650),
}


def field_of(key: str) -> str:
    """The field a `KEY=VALUE` key sets: `notify.KIND` is `notify_KIND`."""
    return "notify_" + key.removeprefix("notify.") if key.startswith("notify.") else key


def _parse(key: str, text: str) -> Any:
    if key in _CHOICES:
        if text not in _CHOICES[key]:
            raise SettingError(f"{key} must be one of {', '.join(_CHOICES[key])}, not {text!r}")
        return text
    if key in _BOOLS:
        lowered = text.lower()
        if lowered in ("true", "yes", "on", "1"):
            return True
        if lowered in ("false", "no", "off", "0"):
            return False
        raise SettingError(f"{key} must be true or false, not {text!r}")
    if key in _NUMBERS:
        kind, minimum, maximum = _NUMBERS[key]
        try:
            value = kind(text)
        except ValueError:
            raise SettingError(f"{key} must be a number, not {text!r}") from None
        if not minimum <= value <= maximum:  # NaN is neither
            bounds = f"{int(minimum):,} to {int(maximum):,}"
            raise SettingError(f"{key} must be a number from {bounds}, not {text!r}")
        return value
    if key == "notification_email":
        if text and "@" not in text:
            raise SettingError(f"notification_email must be an email address, not {text!r}")
        return text
    if key == "webhook_url":
        if text and not text.startswith(("http://", "https://")):
            raise SettingError(f"webhook_url must be an http:// or https:// URL, not {text!r}")
        return text
    if key == "webhook_secret":
        return text
    if key == "secret_token_expires_at":
        return _expires_at(text)
    known = ", ".join(f.name for f in dataclasses.fields(AppSettings))
    raise SettingError(f"unknown setting {key!r}; the settings are {known}")


def _expires_at(text: str) -> str:
    """An ISO 8601 date or date-time, kept as the admin typed it; empty clears it."""
    if not text:
        return text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        msg = f"secret_token_expires_at must be an ISO 8601 date or date-time (2027-03-31), not {text!r}"
        raise SettingError(msg) from None
    return moment.isoformat() if len(text) > len("2027-03-31") else text
