"""One delivery attempt: a mail over SMTP (aiosmtplib) or a signed JSON POST.

Each function makes one attempt and returns what the other end said, or raises `DeliveryError`
with it. Neither retries: each service's sender decides when to try again (ADR 0025). Neither
knows which service it serves: the caller composes the mail and gives the webhook's transport
(held to the target networks, ADR 0014) and the SMTP server's password, opened.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import httpx2

from enlist.secretbox import SecretBox
from enlist.settings import Settings

SIGNATURE_HEADER = "X-Enlist-Signature"
DELIVERY_HEADER = "X-Enlist-Delivery"
SEALED_PREFIX = "sealed:"  # an ENLIST_SMTP_PASSWORD sealed with the secret key


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


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where mail goes (`ENLIST_SMTP_*`): `password` opened, None without a user."""

    host: str
    port: int
    security: str  # "none", "starttls" (upgrade after connecting) or "tls" (from the first byte)
    timeout_s: float
    user: str | None = None
    password: str | None = None


def body_of(notification: Notification) -> bytes:
    """The webhook's body: the payload with its delivery id, as compact sorted JSON."""
    document = {"id": notification.message_id, **notification.payload}
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: str, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of the exact body bytes under the webhook's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def post_webhook(
    notification: Notification, timeout_s: float, transport: httpx2.AsyncBaseTransport
) -> str:
    """POST the notification through `transport`, signed when it has a secret."""
    body = body_of(notification)
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


async def send_mail(mail: EmailMessage, server: SmtpServer) -> str:
    """Hand `mail` to the SMTP server."""
    if not server.host:
        raise DeliveryError("no SMTP server is configured (ENLIST_SMTP_HOST)")
    try:
        _, answer = await aiosmtplib.send(
            mail,
            hostname=server.host,
            port=server.port,
            username=server.user,
            password=server.password,
            use_tls=server.security == "tls",
            start_tls=server.security == "starttls",
            timeout=server.timeout_s,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"the SMTP server did not accept the mail: {exc}") from exc
    return f"the SMTP server accepted it: {answer}"


def smtp_password(settings: Settings, secrets: SecretBox) -> str | None:
    """`ENLIST_SMTP_PASSWORD`, opened when it was sealed (`sealed:` and a SecretBox token)."""
    if settings.smtp_password is None:
        return None
    value = settings.smtp_password.get_secret_value()
    return secrets.open(value.removeprefix(SEALED_PREFIX)) if value.startswith(SEALED_PREFIX) else value


def smtp_server(settings: Settings, secrets: SecretBox) -> SmtpServer:
    """The SMTP server both services mail through (`ENLIST_SMTP_*`)."""
    return SmtpServer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        timeout_s=settings.smtp_timeout_seconds,
        user=settings.smtp_user or None,
        password=smtp_password(settings, secrets) if settings.smtp_user else None,
    )
