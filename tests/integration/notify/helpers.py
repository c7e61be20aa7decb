"""What the notification tests share: configuring an application's channels, checking what
arrived."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from enlist.notify.delivery import DELIVERY_HEADER, SIGNATURE_HEADER
from enlist.provisioning import operations
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from tests.integration.notify.conftest import WEBHOOK_SECRET, Mailbox, WebhookReceiver

MAIL_TO = "ops@example.test"


async def configure(service: Service, name: str, webhook: WebhookReceiver, **extra: str) -> None:
    """Mail and webhook for application `name`, through the same path as `app set`."""
    async with service.db.read() as conn:
        app = await app_store.get_app(conn, name)
    changes = {"notification_email": MAIL_TO, "webhook_url": webhook.url, "webhook_secret": WEBHOOK_SECRET}
    await operations.save_settings(service, app, {**changes, **extra})


def webhook_events(webhook: WebhookReceiver) -> list[tuple[str, str]]:
    """`(kind, event)` of every POST received, after checking each one's signature."""
    seen = []
    for request in webhook.received:
        expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers[SIGNATURE_HEADER.lower()] == expected, "every webhook is signed over its body"
        document: dict[str, Any] = json.loads(request.body)
        assert document["id"] == request.headers[DELIVERY_HEADER.lower()]
        seen.append((document["kind"], document["event"]))
    return seen


def mail_events(mailbox: Mailbox, application: str) -> list[str]:
    """The subject line's tail (`quarantine needs attention`) of every mail about `application`."""
    return [str(m["Subject"]).split(f"] {application}: ", 1)[1] for m in mailbox.about(application)]
