"""Writing notifications: alert conditions raised and cleared, and the outbox rows they make.

Every function here takes the caller's connection, inside the transaction of the state change
that caused the notification (a cycle's end, a source read's outcome): the notification is
committed with that change or not at all, and the sender delivers it later (ADR 0025).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.notify import rule
from enlist.provisioning.notify.tables import notification_conditions, notification_outbox
from enlist.provisioning.store.apps import App

EVENTS = ("raised", "recovered", "test")


def message_id() -> str:
    """The idempotency key of one notification: the email's Message-ID and the webhook's
    `X-Enlist-Delivery`. The same on every retry, so a receiver can drop a duplicate."""
    return f"<{uuid.uuid4()}@enlist.notify>"


def _enabled(app: App, kind: str) -> bool:
    return bool(getattr(app.settings, f"notify_{kind}", False))


async def enqueue(
    conn: AsyncConnection, app: App, kind: str, event: str, details: dict[str, Any], moment: datetime
) -> int:
    """One outbox row per channel `app` has (its notification email, its webhook); how many."""
    payload = {
        "application": app.name,
        "kind": kind,
        "event": event,
        "occurred_at": moment.isoformat(),
        "details": details,
    }
    rows: list[dict[str, Any]] = []
    if app.settings.notification_email:
        rows.append(
            {"channel": "email", "destination": app.settings.notification_email, "sealed_secret": None}
        )
    if app.settings.webhook_url:
        rows.append(
            {
                "channel": "webhook",
                "destination": app.settings.webhook_url,
                "sealed_secret": app.settings.webhook_secret or None,
            }
        )
    for row in rows:
        await conn.execute(
            notification_outbox.insert().values(
                app_id=app.id,
                kind=kind,
                event=event,
                message_id=message_id(),
                payload=payload,
                status="pending",
                attempts=0,
                next_attempt_at=moment,
                created_at=moment,
                **row,
            )
        )
    return len(rows)


def _key(app: App, kind: str, subject: str) -> str:
    return f"{app.id}:{kind}:{subject}"


async def _load(conn: AsyncConnection, key: str) -> tuple[rule.Condition, bool]:
    row = (
        await conn.execute(sa.select(notification_conditions).where(notification_conditions.c.key == key))
    ).first()
    if row is None:
        return rule.Condition(), False
    return rule.Condition(row.active, row.notified, row.last_notified_at), True


async def _store(
    conn: AsyncConnection, app: App, key: str, condition: rule.Condition, moment: datetime, *, exists: bool
) -> None:
    values = {
        "active": condition.active,
        "notified": condition.notified,
        "last_notified_at": condition.last_notified_at,
        "updated_at": moment,
    }
    if exists:
        await conn.execute(
            notification_conditions.update().where(notification_conditions.c.key == key).values(**values)
        )
    else:
        await conn.execute(notification_conditions.insert().values(key=key, app_id=app.id, **values))


async def raise_condition(
    conn: AsyncConnection,
    app: App,
    kind: str,
    details: dict[str, Any],
    moment: datetime,
    *,
    subject: str = "",
) -> bool:
    """Raise `kind` (for `subject`) on `app`; True when a notification was written. A kind the
    application turned off records nothing, so turning it on later starts afresh."""
    if not _enabled(app, kind):
        return False
    key = _key(app, kind, subject)
    before, exists = await _load(conn, key)
    after, send = rule.raised(before, moment, timedelta(minutes=app.settings.notify_quiet_minutes))
    if after != before:
        await _store(conn, app, key, after, moment, exists=exists)
    if send:
        await enqueue(conn, app, kind, "raised", details, moment)
    return send


async def clear_condition(
    conn: AsyncConnection,
    app: App,
    kind: str,
    details: dict[str, Any],
    moment: datetime,
    *,
    subject: str = "",
) -> bool:
    """Clear `kind` (for `subject`) on `app`; True when the "recovered" notification was written."""
    key = _key(app, kind, subject)
    before, exists = await _load(conn, key)
    if not exists:
        return False
    after, send = rule.cleared(before)
    if after != before:
        await _store(conn, app, key, after, moment, exists=exists)
    if send and _enabled(app, kind):
        await enqueue(conn, app, kind, "recovered", details, moment)
    return send


async def prune(conn: AsyncConnection, app_id: int, retention_days: int, moment: datetime) -> int:
    """Drop `app_id`'s delivered and failed notifications (and their attempts) older than
    `retention_days`, as the provisioning logs are; a pending one is kept however old."""
    table = notification_outbox
    result = await conn.execute(
        table.delete().where(
            (table.c.app_id == app_id)
            & table.c.status.in_(("sent", "failed"))
            & (table.c.created_at < moment - timedelta(days=retention_days))
        )
    )
    return int(result.rowcount or 0)
