"""`enlist lms serve` delivers the portal's alerts by itself: a real server process, configured
with `enlist lms notify set`, a tenant filled through SCIM over HTTP; the mail and the signed POST
arrive without anyone running `notify send`. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import sqlalchemy as sa

from enlist.db.database import Database
from enlist.lms.notify import tables
from enlist.settings import Settings
from tests.helpers import SCIM, USER
from tests.integration.notify.conftest import WEBHOOK_SECRET, Mailbox, WebhookReceiver
from tests.integration.notify.helpers import webhook_events
from tests.live import LivePortal

WAIT_FOR_DELIVERY_S = 120


@dataclass
class AlertingPortal(LivePortal):
    extra: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {**super().env(), **self.extra}


async def test_serve_delivers_the_seat_limit_alert_once_by_mail_and_signed_webhook(
    tmp_path: Path, lms_database_url: str, mailbox: Mailbox, webhook: WebhookReceiver
) -> None:
    smtp = {
        "ENLIST_SMTP_HOST": "127.0.0.1",
        "ENLIST_SMTP_PORT": str(mailbox.port),
        "ENLIST_SMTP_SECURITY": "none",
        "ENLIST_SMTP_FROM": "enlist@example.test",
    }
    live = AlertingPortal(tmp_path / "portal", lms_database_url, extra=smtp)
    tenant_url, token = live.tenant("Acme")
    live.cli("lms", "tenant", "set", "acme", "seat_limit=2")
    live.cli(
        "lms", "notify", "set", "acme", "email=seats@example.test", f"webhook_url={webhook.url}",
        f"webhook_secret={WEBHOOK_SECRET}", "quiet_minutes=30",
    )  # fmt: skip
    shown = json.loads(live.cli("lms", "notify", "show", "acme", "--json"))
    assert shown["webhook_secret"] == "(set)", "the secret is never printed back"
    assert (shown["email"], shown["quiet_minutes"], shown["kinds"]) == (
        "seats@example.test",
        30.0,
        {"seat_limit": True},
    )
    live.start()
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": SCIM}
        async with httpx2.AsyncClient(headers=headers) as client:
            for n, expected in enumerate([201, 201, 403]):
                body = {"schemas": [USER], "userName": f"user{n}@example.com", "active": True}
                assert (await client.post(f"{tenant_url}/Users", json=body)).status_code == expected
        for _ in range(WAIT_FOR_DELIVERY_S * 10):
            if mailbox.messages and webhook.received:
                break
            await asyncio.sleep(0.1)
    finally:
        live.stop()
    assert len(mailbox.messages) == 1
    assert "seat limit reached" in str(mailbox.messages[0]["Subject"])
    assert webhook_events(webhook) == [("seat_limit", "raised")]
    db = Database(Settings(lms_database_url=lms_database_url).lms_url())
    try:
        async with db.read() as conn:
            rows = (await conn.execute(sa.select(tables.outbox.c.status, tables.outbox.c.attempts))).all()
    finally:
        await db.dispose()
    assert sorted(tuple(r) for r in rows) == [("sent", 1), ("sent", 1)], "each delivered once, marked"
