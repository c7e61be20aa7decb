"""Delivering one notification: a mail over SMTP (aiosmtplib) or a signed JSON POST.

Each function makes one attempt and returns what the other end said, or raises
`DeliveryError` with it. Neither retries: the sender decides when to try again (ADR 0025).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import aiosmtplib
import httpx2

from enlist.provisioning.secrets import SecretBox
from enlist.provisioning.target.network import TargetNetworks, guarded_transport, networks_of
from enlist.settings import Settings

SIGNATURE_HEADER = "X-Enlist-Signature"
DELIVERY_HEADER = "X-Enlist-Delivery"
SEALED_PREFIX = "sealed:"
WEBHOOK_TIMEOUT_S = 30.0


class DeliveryError(RuntimeError):
    """This attempt failed; the message says what the server answered or why none did."""


@dataclass(frozen=True, slots=True)
class Notification:
    """One outbox row, as the sender hands it over."""

    channel: str
    destination: str
    message_id: str
    payload: dict[str, Any]
    secret: str | None = None


def body_of(notification: Notification) -> bytes:
    """The webhook's body: the payload with its delivery id, as compact sorted JSON."""
    document = {"id": notification.message_id, **notification.payload}
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: str, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of the exact body bytes under the webhook's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def post_webhook(notification: Notification, timeout_s: float, networks: TargetNetworks) -> str:
    """POST the notification; the webhook's host is held to the target networks
    (`ENLIST_TARGET_NETWORKS_ALLOW`/`_DENY`, ADR 0014) like a Tenant URL: an admin types both."""
    body = body_of(notification)
    transport = guarded_transport(httpx2.URL(notification.destination), networks)
    headers = {"Content-Type": "application/json", DELIVERY_HEADER: notification.message_id}
    if notification.secret:
        headers[SIGNATURE_HEADER] = signature(notification.secret, body)
    try:
        async with httpx2.AsyncClient(timeout=timeout_s, transport=transport) as client:
            response = await client.post(notification.destination, content=body, headers=headers)
    except httpx2.HTTPError as exc:
        raise DeliveryError(f"no answer from the webhook: {type(exc).__name__}: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"the webhook answered {response.status_code}")
    return f"the webhook answered {response.status_code}"


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


def smtp_password(settings: Settings, secrets: SecretBox) -> str | None:
    if settings.smtp_password is None:
        return None
    value = settings.smtp_password.get_secret_value()
    return secrets.open(value.removeprefix(SEALED_PREFIX)) if value.startswith(SEALED_PREFIX) else value


async def send_mail(notification: Notification, settings: Settings, secrets: SecretBox) -> str:
    if not settings.smtp_host:
        raise DeliveryError("no SMTP server is configured (ENLIST_SMTP_HOST)")
    mail = mail_of(notification, settings.smtp_from)
    try:
        _, answer = await aiosmtplib.send(
            mail,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user or None,
            password=smtp_password(settings, secrets) if settings.smtp_user else None,
            use_tls=settings.smtp_security == "tls",
            start_tls=settings.smtp_security == "starttls",
            timeout=settings.smtp_timeout_seconds,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"the SMTP server did not accept the mail: {exc}") from exc
    return f"the SMTP server accepted it: {answer}"


async def deliver(notification: Notification, settings: Settings, secrets: SecretBox) -> str:
    """One attempt on the notification's channel: what the other end said, or `DeliveryError`."""
    if notification.channel == "email":
        return await send_mail(notification, settings, secrets)
    return await post_webhook(notification, WEBHOOK_TIMEOUT_S, networks_of(settings))
