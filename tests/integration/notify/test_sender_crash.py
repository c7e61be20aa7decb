"""Kill the sender (SIGKILL) in the middle of a delivery, then run it again: nothing is lost, and
the only duplicate is the documented one (ADR 0025), the same notification with the same id.

The sender is a real `enlist provisioning notify send` process; the SMTP server and the webhook
receiver kill it from inside their handlers, at a chosen point of the exchange:
- `mail`: at MAIL FROM, before anything was sent: the next run delivers it once;
- `data`: once the mail's DATA was received, before the server answers and so before the
  sender can mark the row: the next run delivers it again with the same Message-ID;
- `webhook`: once the POST's body was received, before the receiver answers: the next run
  posts it again with the same `X-Enlist-Delivery`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from enlist.db.rows import now
from enlist.provisioning import operations as app_operations
from enlist.provisioning.notify.outbox import enqueue
from enlist.provisioning.notify.tables import notification_attempts, notification_outbox
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from tests.integration.notify.conftest import Mailbox, WebhookReceiver
from tests.integration.notify.helpers import configure
from tests.live import ENLIST

APP = "Crashing sender"
SEND_TIMEOUT_S = 120


def _env(service: Service) -> dict[str, str]:
    settings = service.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENLIST_")}
    # Compiled bytecode in a cache of its own (as tests.live does): each run starts in a second.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / f"enlist-pycache-{os.getuid()}")
    env.update(
        {
            "ENLIST_DATA_DIR": str(settings.data_dir),
            "ENLIST_PROVISIONING_DATABASE_URL": str(settings.provisioning_database_url),
            "ENLIST_SMTP_HOST": settings.smtp_host,
            "ENLIST_SMTP_PORT": str(settings.smtp_port),
            "ENLIST_SMTP_SECURITY": settings.smtp_security,
            "ENLIST_SMTP_FROM": settings.smtp_from,
        }
    )
    return env


def _sender(service: Service) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [ENLIST, "provisioning", "notify", "send", "--json"],
        env=_env(service),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


async def _outbox(service: Service) -> list[dict[str, Any]]:
    async with service.db.read() as conn:
        rows = (await conn.execute(sa.select(notification_outbox))).mappings().all()
        attempts = (await conn.execute(sa.select(notification_attempts))).mappings().all()
    return [{**r, "attempt_rows": [a for a in attempts if a["outbox_id"] == r["id"]]} for r in rows]


@pytest.mark.parametrize(("kill_at", "arrivals"), [("mail", 1), ("data", 2), ("webhook", 2)])
async def test_a_sender_killed_mid_delivery_loses_nothing_and_repeats_only_with_the_same_id(
    notifying: Service, mailbox: Mailbox, webhook: WebhookReceiver, kill_at: str, arrivals: int
) -> None:
    await app_operations.create(notifying, APP)
    channel = "webhook" if kill_at == "webhook" else "email"
    if channel == "email":
        await configure(notifying, APP, webhook, webhook_url="")
    else:
        await configure(notifying, APP, webhook, notification_email="")
    async with notifying.db.write() as conn:
        app = await app_store.get_app(conn, APP)
        assert await enqueue(conn, app, "quarantine", "raised", {"reason": "test"}, now()) == 1

    running: list[subprocess.Popen[bytes]] = []

    def kill() -> None:
        os.kill(running[0].pid, signal.SIGKILL)

    if kill_at == "mail":
        mailbox.on_mail = kill
    elif kill_at == "data":
        mailbox.on_data = kill
    else:
        webhook.on_request = kill
    running.append(_sender(notifying))
    running[0].communicate(timeout=SEND_TIMEOUT_S)
    assert running[0].returncode == -signal.SIGKILL
    [row] = await _outbox(notifying)
    assert row["status"] == "pending", "killed before marking: still to deliver"
    assert row["attempt_rows"] == []

    mailbox.on_mail = mailbox.on_data = webhook.on_request = None
    again = _sender(notifying)
    out, err = again.communicate(timeout=SEND_TIMEOUT_S)
    assert again.returncode == 0, err.decode()
    assert [d["status"] for d in json.loads(out)["deliveries"]] == ["sent"]

    [row] = await _outbox(notifying)
    assert row["status"] == "sent"
    assert [a["ok"] for a in row["attempt_rows"]] == [True]
    if channel == "email":
        assert len(mailbox.messages) == arrivals
        assert {m["Message-ID"] for m in mailbox.messages} == {row["message_id"]}
    else:
        assert len(webhook.received) == arrivals
        assert {r.headers["x-enlist-delivery"] for r in webhook.received} == {row["message_id"]}
    # A third run finds nothing to send: delivered is final.
    third = _sender(notifying)
    out, _ = third.communicate(timeout=SEND_TIMEOUT_S)
    assert json.loads(out)["deliveries"] == []
