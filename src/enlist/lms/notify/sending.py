"""Delivering the portal's notifications: the mail composed, the webhook held to the target
networks (ADR 0014), and the sender loop each `enlist lms serve` process runs. The claim, lease
and mark are the shared sender's (`enlist.notify.sender`, ADR 0025): several workers or processes
on one database deliver each notification once (at least once if one is killed mid-delivery,
with the same id)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from functools import partial

from enlist.db.database import Database
from enlist.lms.notify import tables
from enlist.networks import networks_of
from enlist.notify import delivery as core
from enlist.notify.delivery import Notification
from enlist.notify.sender import Outbox, Outcome
from enlist.notify.sender import send_due as send_outbox
from enlist.notify.transport import PinnedTransport
from enlist.secretbox import SecretBox, load_secret_box
from enlist.settings import Settings

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_S = 30.0
SEND_EVERY_S = 5.0
EVENTS = {"raised": "reached", "recovered": "recovered", "test": "test notification"}


def mail_of(notification: Notification, sender: str) -> EmailMessage:
    payload = notification.payload
    kind = str(payload["kind"]).replace("_", " ")
    event = EVENTS.get(str(payload["event"]), str(payload["event"]))
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = notification.destination
    mail["Subject"] = f"[enlist] portal tenant {payload['tenant_name']}: {kind} {event}"
    mail["Message-ID"] = notification.message_id
    mail["Date"] = format_datetime(datetime.now(UTC))
    lines = [
        f"Tenant: {payload['tenant_name']} ({payload['tenant']})",
        f"What: {payload['kind']} ({payload['event']})",
        f"When: {payload['occurred_at']}",
        "",
        *(f"{key}: {value}" for key, value in sorted(payload.get("details", {}).items())),
    ]
    mail.set_content("\n".join(lines) + "\n")
    return mail


async def deliver(notification: Notification, settings: Settings, secrets: SecretBox) -> str:
    """One attempt on the notification's channel: what the other end said, or `DeliveryError`."""
    if notification.channel == "email":
        server = core.smtp_server(settings, secrets)
        return await core.send_mail(mail_of(notification, settings.smtp_from), server)
    transport = PinnedTransport(networks_of(settings))
    return await core.post_webhook(notification, WEBHOOK_TIMEOUT_S, transport)


def outbox_of(db: Database, settings: Settings, secrets: SecretBox) -> Outbox:
    return Outbox(
        db,
        tables.outbox,
        tables.attempts,
        partial(deliver, settings=settings, secrets=secrets),
        secrets.open,
    )


async def send_due(
    db: Database, settings: Settings, *, ids: list[int] | None = None, owner: str | None = None
) -> list[Outcome]:
    """Deliver the portal's due notifications (or those of `ids`) that no live sender holds."""
    return await send_outbox(outbox_of(db, settings, load_secret_box(settings)), ids=ids, owner=owner)


async def send_forever(db: Database, settings: Settings) -> None:
    """The loop `enlist lms serve` runs beside the server, every `SEND_EVERY_S` seconds."""
    outbox = outbox_of(db, settings, load_secret_box(settings))
    while True:
        try:
            await send_outbox(outbox)
        except Exception:
            logger.exception("sending the portal's notifications failed; trying again shortly")
        await asyncio.sleep(SEND_EVERY_S)
