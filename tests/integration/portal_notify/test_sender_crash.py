"""Kill the portal's sender (SIGKILL) in the middle of a delivery, then run it again: nothing is
lost, and the only duplicate is the documented one (ADR 0025), with the same id. The sender is a
real `enlist lms notify send` process; the SMTP server and the webhook receiver kill it from
inside their handlers (as the provisioning kill test does):
- `mail`: at MAIL FROM, before anything was sent: the next run delivers it once;
- `data`: once DATA was received, before the server answers: delivered again, same Message-ID;
- `webhook`: once the POST's body was received: posted again, same `X-Enlist-Delivery`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from enlist.lms.api.runtime import Portal
from enlist.lms.notify import operations
from tests.helpers import ScimTenant
from tests.integration.notify.conftest import Mailbox, WebhookReceiver
from tests.integration.portal_notify.conftest import SEATS
from tests.integration.portal_notify.test_seat_limit_alerts import outbox_rows, post_user
from tests.live import ENLIST

SEND_TIMEOUT_S = 120


def _sender(portal: Portal) -> subprocess.Popen[bytes]:
    settings = portal.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENLIST_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / f"enlist-pycache-{os.getuid()}")
    assert settings.token_pepper is not None
    env.update(
        {
            "ENLIST_DATA_DIR": str(settings.data_dir),
            "ENLIST_LMS_DATABASE_URL": str(settings.lms_database_url),
            "ENLIST_TOKEN_PEPPER": settings.token_pepper.get_secret_value(),
            "ENLIST_SMTP_HOST": settings.smtp_host,
            "ENLIST_SMTP_PORT": str(settings.smtp_port),
            "ENLIST_SMTP_SECURITY": settings.smtp_security,
            "ENLIST_SMTP_FROM": settings.smtp_from,
        }
    )
    return subprocess.Popen(
        [ENLIST, "lms", "notify", "send", "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


@pytest.mark.parametrize(("kill_at", "arrivals"), [("mail", 1), ("data", 2), ("webhook", 2)])
async def test_a_portal_sender_killed_mid_delivery_loses_nothing_and_repeats_only_with_the_same_id(
    alerting: Portal,
    seated: ScimTenant,
    mailbox: Mailbox,
    webhook: WebhookReceiver,
    kill_at: str,
    arrivals: int,
) -> None:
    channel = "webhook" if kill_at == "webhook" else "email"
    await operations.configure(
        alerting, seated.tenant, {"webhook_url" if channel == "email" else "email": ""}
    )
    for n in range(SEATS):
        assert await post_user(seated, n) == 201
    running: list[subprocess.Popen[bytes]] = []

    def kill() -> None:
        os.kill(running[0].pid, signal.SIGKILL)

    if kill_at == "mail":
        mailbox.on_mail = kill
    elif kill_at == "data":
        mailbox.on_data = kill
    else:
        webhook.on_request = kill
    running.append(_sender(alerting))
    running[0].communicate(timeout=SEND_TIMEOUT_S)
    assert running[0].returncode == -signal.SIGKILL
    [row] = await outbox_rows(alerting)
    assert row["status"] == "pending", "killed before marking: still to deliver"

    mailbox.on_mail = mailbox.on_data = webhook.on_request = None
    again = _sender(alerting)
    out, err = again.communicate(timeout=SEND_TIMEOUT_S)
    assert again.returncode == 0, err.decode()
    assert [d["status"] for d in json.loads(out)["deliveries"]] == ["sent"]
    [row] = await outbox_rows(alerting)
    assert (row["status"], row["attempts"]) == ("sent", 1)
    if channel == "email":
        assert len(mailbox.messages) == arrivals
        assert {m["Message-ID"] for m in mailbox.messages} == {row["message_id"]}
    else:
        assert len(webhook.received) == arrivals
        assert {r.headers["x-enlist-delivery"] for r in webhook.received} == {row["message_id"]}
    third = _sender(alerting)
    out, _ = third.communicate(timeout=SEND_TIMEOUT_S)
    assert json.loads(out)["deliveries"] == []
