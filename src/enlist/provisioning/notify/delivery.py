"""Delivering one provisioning notification: its mail composed, the webhook held to the target
networks, the SMTP password opened; the attempt itself is the shared core's
(`enlist.notify.delivery`, ADR 0033).

Each function makes one attempt and returns what the other end said, or raises
`DeliveryError` with it. Neither retries: the sender decides when to try again (ADR 0025).
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import httpx2

from enlist.networks import TargetNetworks, networks_of
from enlist.notify import delivery as core
from enlist.notify.delivery import Notification, smtp_server
from enlist.provisioning.target.network import guarded_transport
from enlist.secretbox import SecretBox
from enlist.settings import Settings

WEBHOOK_TIMEOUT_S = 30.0


async def post_webhook(notification: Notification, timeout_s: float, networks: TargetNetworks) -> str:
    """POST the notification; the webhook's host is held to the target networks
    (`ENLIST_TARGET_NETWORKS_ALLOW`/`_DENY`, ADR 0014) like a Tenant URL: an admin types both."""
    transport = guarded_transport(httpx2.URL(notification.destination), networks)
    return await core.post_webhook(notification, timeout_s, transport)


def subject_of(payload: dict[str, Any]) -> str:
    kind = str(payload["kind"]).replace("_", " ")
    event = {"raised": "needs attention", "recovered": "recovered", "test": "test notification"}.get(
        str(payload["event"]), str(payload["event"])
    )
    return f"[enlist] {payload['application']}: {kind} {event}"


def mail_of(notification: Notification, sender: str) -> EmailMessage:
    payload = notification.payload
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = notification.destination
    mail["Subject"] = subject_of(payload)
    mail["Message-ID"] = notification.message_id
    mail["Date"] = format_datetime(datetime.now(UTC))
    lines = [
        f"Application: {payload['application']}",
        f"What: {payload['kind']} ({payload['event']})",
        f"When: {payload['occurred_at']}",
        "",
        *(f"{key}: {value}" for key, value in sorted(payload.get("details", {}).items())),
    ]
    mail.set_content("\n".join(lines) + "\n")
    return mail


async def send_mail(notification: Notification, settings: Settings, secrets: SecretBox) -> str:
    return await core.send_mail(mail_of(notification, settings.smtp_from), smtp_server(settings, secrets))


async def deliver(notification: Notification, settings: Settings, secrets: SecretBox) -> str:
    """One attempt on the notification's channel: what the other end said, or `DeliveryError`."""
    if notification.channel == "email":
        return await send_mail(notification, settings, secrets)
    return await post_webhook(notification, WEBHOOK_TIMEOUT_S, networks_of(settings))
