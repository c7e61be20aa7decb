"""What an API token is and what it allows: pure, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Scope = Literal["read", "write"]
SCOPES: tuple[Scope, ...] = ("read", "write")
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
LAST_USED_EVERY = timedelta(minutes=1)
"""Last use is written at most this often per token: a busy script costs one write a minute."""

_DURATION = re.compile(r"(\d{1,5})([hdw])")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}

Refusal = Literal["missing", "malformed", "unknown", "revoked", "expired", "scope", "tenant"]
"""Why a token was refused; the label values of `enlist_token_failures_total`."""
REFUSALS: tuple[Refusal, ...] = ("missing", "malformed", "unknown", "revoked", "expired", "scope", "tenant")


class TokenError(ValueError):
    """A token command that cannot be done as asked; the message says what to do instead."""


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A stored token without its digest. `tenant_id` is the portal tenant it is limited to
    (None: the whole service)."""

    id: int
    name: str
    scope: Scope
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    tenant_id: int | None = None

    def refusal_at(self, now: datetime, needed: Scope) -> Refusal | None:
        """Why this token may not do what needs `needed` now, or None when it may."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        if not allows(self.scope, needed):
            return "scope"
        return None

    def needs_touch(self, now: datetime) -> bool:
        """Whether this use should be written as the last one (at most once a minute)."""
        return self.last_used_at is None or now - self.last_used_at >= LAST_USED_EVERY


def allows(granted: Scope, needed: Scope) -> bool:
    """A write token also reads; a read token only reads."""
    return granted == "write" or needed == "read"


def parse_name(text: str) -> str:
    if not NAME_PATTERN.fullmatch(text):
        raise TokenError(
            f"{text!r} is not a token name: use 1 to 64 letters, digits, '.', '_' or '-', starting "
            "with a letter or digit"
        )
    return text


def parse_expiry(text: str | None, now: datetime) -> datetime | None:
    """`90d`, `12h` or `4w` from `now`; None (or `never`) for a token that does not expire."""
    if text is None or text.strip().lower() in ("", "never"):
        return None
    match = _DURATION.fullmatch(text.strip().lower())
    if not match or int(match[1]) == 0:
        raise TokenError(f"{text!r} is not an expiry: give a number of hours, days or weeks (12h, 90d, 4w)")
    return now + int(match[1]) * _UNITS[match[2]]
