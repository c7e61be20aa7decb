"""What the CLI and the pages do with notifications: send a test one now, list what was sent
and every attempt, seal the SMTP password."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from enlist.db.rows import now
from enlist.notify.delivery import SEALED_PREFIX
from enlist.provisioning.notify.outbox import enqueue
from enlist.provisioning.notify.sender import Outcome, send_due
from enlist.provisioning.notify.tables import notification_attempts, notification_outbox
from enlist.provisioning.service import Service
from enlist.provisioning.store.apps import App


class NoChannelError(ValueError):
    """The application has neither a notification email nor a webhook URL."""


async def send_test(service: Service, app: App) -> list[Outcome]:
    """Write a test notification to each of `app`'s channels and deliver it now (through the
    outbox, like any other: a failed attempt is retried by the scheduler's sender)."""
    moment = now()
    async with service.db.write() as conn:
        written = await enqueue(conn, app, "test", "test", {"note": "a test sent by an admin"}, moment)
        if not written:
            raise NoChannelError(
                f"{app.name} has nowhere to send to: set notification_email or webhook_url first "
                f"(enlist provisioning app set {app.name!r} notification_email=…)"
            )
        ids = (
            await conn.execute(
                sa.select(notification_outbox.c.id)
                .where(
                    (notification_outbox.c.app_id == app.id) & (notification_outbox.c.created_at == moment)
                )
                .where(notification_outbox.c.kind == "test")
            )
        ).scalars()
        claimed = [int(i) for i in ids]
    return await send_due(service, ids=claimed)


async def history(service: Service, app: App, limit: int = 50) -> list[dict[str, Any]]:
    """`app`'s latest notifications, newest first, each with every delivery attempt."""
    table = notification_outbox
    async with service.db.read() as conn:
        rows = (
            await conn.execute(
                sa.select(table).where(table.c.app_id == app.id).order_by(table.c.id.desc()).limit(limit)
            )
        ).all()
        attempts = (
            await conn.execute(
                sa.select(notification_attempts)
                .where(notification_attempts.c.outbox_id.in_([r.id for r in rows]))
                .order_by(notification_attempts.c.number)
            )
        ).all()
    by_row: dict[int, list[dict[str, Any]]] = {}
    for attempt in attempts:
        by_row.setdefault(attempt.outbox_id, []).append(
            {
                "number": attempt.number,
                "at": attempt.at.isoformat(),
                "ok": attempt.ok,
                "detail": attempt.detail,
            }
        )
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "event": r.event,
            "channel": r.channel,
            "destination": r.destination,
            "message_id": r.message_id,
            "status": r.status,
            "created_at": r.created_at.isoformat(),
            "sent_at": r.sent_at.isoformat() if r.sent_at else None,
            "next_attempt_at": r.next_attempt_at.isoformat() if r.status == "pending" else None,
            "last_error": r.last_error,
            "attempts": by_row.get(r.id, []),
        }
        for r in rows
    ]


def seal_password(service: Service, password: str) -> str:
    """The value for ENLIST_SMTP_PASSWORD that keeps the password encrypted where it is stored."""
    return SEALED_PREFIX + service.secrets.seal(password)
