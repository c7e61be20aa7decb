"""The "Secret token about to expire" alert: when each application's Secret token expires, and
the check the scheduler runs (its hourly housekeeping) to raise and clear the alert.

Where the expiry comes from (ADR 0025, as amended by issue 13), first found wins:
- the application setting `secret_token_expires_at`, which an admin sets from what the target's
  admin console said when it issued the token (Entra's Secret token has no expiry of its own:
  the admin is the one who knows it);
- the token's `exp` claim when the token is a JWT, read without verifying the signature (enlist
  has no key to verify it with, and only needs a date to warn about: a forged `exp` can at worst
  send a needless warning or none, never grant anything).

A token with neither never raises the alert. The alert's subject is a digest of the token, so one
token is told about once (per quiet period), a new token starts afresh, and replacing the
expiring token clears its alert with a "recovered" notification.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.provisioning.notify.outbox import clear_condition, raise_condition
from enlist.provisioning.notify.tables import notification_conditions
from enlist.provisioning.store.apps import App, list_apps
from enlist.secretbox import SecretError

KIND = "token_expiry"


@dataclass(frozen=True, slots=True)
class Expiry:
    at: datetime
    source: str  # "setting" (secret_token_expires_at) or "jwt" (the token's exp claim)


def jwt_expiry(token: str) -> datetime | None:
    """The `exp` claim of `token` when it is a JWT with a numeric `exp`, unverified; else None."""
    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None  # not a JWT: an opaque Secret token, as most are
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return None
    try:
        return datetime.fromtimestamp(exp, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def parse_expires_at(text: str) -> datetime:
    """`secret_token_expires_at` as a UTC moment: an ISO 8601 date (the start of that day, UTC)
    or date-time (UTC when it names no offset). Raises ValueError."""
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def expiry_of(expires_at_setting: str, token: str) -> Expiry | None:
    """When the Secret token expires, and where that came from; None when nothing says."""
    if expires_at_setting:
        return Expiry(parse_expires_at(expires_at_setting), "setting")
    found = jwt_expiry(token)
    return Expiry(found, "jwt") if found is not None else None


def fingerprint(token: str) -> str:
    """Names one token in the alert's key and details without revealing it."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def due(expiry: Expiry, moment: datetime, days: int) -> bool:
    """True when the token expires within `days` of `moment` (or has expired)."""
    return expiry.at - moment <= timedelta(days=days)


async def check_app(conn: AsyncConnection, app: App, token: str | None, moment: datetime) -> bool:
    """Raise or clear `app`'s alert for its current token (`token`, opened by the caller; None
    when the app has none), and clear the alert of any token it no longer uses. True when a
    "raised" notification was written."""
    current = fingerprint(token) if token is not None else None
    prefix = f"{app.id}:{KIND}:"
    table = notification_conditions
    keys = (
        await conn.execute(sa.select(table.c.key).where(table.c.key.startswith(prefix, autoescape=True)))
    ).scalars()
    for key in list(keys):
        subject = key.removeprefix(prefix)
        if subject != current:
            replaced = {"token": subject, "note": "the Secret token was replaced"}
            await clear_condition(conn, app, KIND, replaced, moment, subject=subject)
    if token is None or current is None:
        return False
    expiry = expiry_of(app.settings.secret_token_expires_at, token)
    if expiry is None:
        return False
    details = {
        "token": current,
        "expires_at": expiry.at.isoformat(),
        "days_left": round((expiry.at - moment) / timedelta(days=1), 1),
        "expiry_from": expiry.source,
        "warn_days": app.settings.notify_token_expiry_days,
    }
    if due(expiry, moment, app.settings.notify_token_expiry_days):
        return await raise_condition(conn, app, KIND, details, moment, subject=current)
    await clear_condition(conn, app, KIND, details, moment, subject=current)
    return False


async def check_all(conn: AsyncConnection, open_token: Callable[[str], str], moment: datetime) -> int:
    """Check every application's Secret token; `open_token` unseals a stored token. How many
    "raised" notifications were written. A token the keys cannot open is skipped: the cycles
    already report it (their quarantine alert), and the other applications are still checked."""
    raised = 0
    for app in await list_apps(conn):
        try:
            token = open_token(app.sealed_token) if app.sealed_token else None
        except SecretError:
            continue
        raised += await check_app(conn, app, token, moment)
    return raised
