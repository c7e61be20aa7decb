"""Delivery: a webhook refused is retried with a doubling backoff and every attempt is recorded;
a mail carries the notification; `notify test` sends to every channel now; a sender holding a
row's lease keeps the others off it; a notification kind cannot be set to nonsense."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from enlist.db.database import Database
from enlist.db.rows import now
from enlist.notify import rule
from enlist.provisioning import operations as app_operations
from enlist.provisioning.engine.app_settings import AppSettings, SettingError
from enlist.provisioning.engine.scheduler import housekeeping
from enlist.provisioning.notify.operations import NoChannelError, history, send_test
from enlist.provisioning.notify.outbox import enqueue
from enlist.provisioning.notify.rule import KINDS
from enlist.provisioning.notify.sender import MAX_ATTEMPTS, retry_after, send_due
from enlist.provisioning.notify.tables import notification_outbox
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store.apps import App
from tests.integration.notify.conftest import Mailbox, WebhookReceiver
from tests.integration.notify.helpers import MAIL_TO, configure, webhook_events
from tests.live import ENLIST

APP = "Delivery"


async def _app(service: Service) -> App:
    async with service.db.read() as conn:
        return await app_store.get_app(conn, APP)


async def test_a_refused_webhook_is_retried_with_a_doubling_backoff_and_every_attempt_is_recorded(
    notifying: Service, webhook: WebhookReceiver
) -> None:
    await app_operations.create(notifying, APP)
    await configure(notifying, APP, webhook, notification_email="")
    webhook.statuses = [500, 503]
    [first] = await send_test(notifying, await _app(notifying))
    assert first.status == "pending"
    assert await send_due(notifying) == [], "not due before its backoff has passed"
    second = await send_due(notifying, ids=[first.outbox_id])  # as if the backoff had passed
    third = await send_due(notifying, ids=[first.outbox_id])

    assert [o.status for o in (*second, *third)] == ["pending", "sent"]
    [row] = await history(notifying, await _app(notifying))
    assert row["status"] == "sent"
    assert [(a["number"], a["ok"], a["detail"]) for a in row["attempts"]] == [
        (1, False, "the webhook answered 500"),
        (2, False, "the webhook answered 503"),
        (3, True, "the webhook answered 200"),
    ]
    assert webhook_events(webhook) == [("test", "test")] * 3
    assert len({r.headers["x-enlist-delivery"] for r in webhook.received}) == 1


def test_the_backoff_doubles_from_thirty_seconds_to_at_most_an_hour() -> None:
    waits = [retry_after(n) for n in range(1, MAX_ATTEMPTS + 1)]
    assert waits[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert max(waits) == timedelta(hours=1)
    assert waits == sorted(waits)


async def test_a_notification_refused_max_attempts_times_is_failed_and_not_tried_again(
    notifying: Service, webhook: WebhookReceiver
) -> None:
    await app_operations.create(notifying, APP)
    await configure(notifying, APP, webhook, notification_email="")
    webhook.statuses = [500] * MAX_ATTEMPTS
    [first] = await send_test(notifying, await _app(notifying))
    for _ in range(MAX_ATTEMPTS - 1):
        await send_due(notifying, ids=[first.outbox_id])
    [row] = await history(notifying, await _app(notifying))
    assert row["status"] == "failed"
    assert len(row["attempts"]) == MAX_ATTEMPTS
    assert await send_due(notifying, ids=[first.outbox_id]) == []
    assert len(webhook.received) == MAX_ATTEMPTS


async def test_a_row_leased_by_a_live_sender_is_not_sent_by_another(
    notifying: Service, mailbox: Mailbox, webhook: WebhookReceiver
) -> None:
    await app_operations.create(notifying, APP)
    await configure(notifying, APP, webhook, webhook_url="")
    async with notifying.db.write() as conn:
        await enqueue(conn, await app_store.get_app(conn, APP), "quarantine", "raised", {}, now())
        # Held by this (live) process under another claim, for a minute more.
        await conn.execute(
            notification_outbox.update().values(
                lease_owner=f"{os.uname().nodename}:{os.getpid()}:other",
                lease_expires_at=now() + timedelta(minutes=1),
            )
        )
    assert await send_due(notifying) == []
    assert mailbox.messages == []


async def test_a_mail_names_the_application_the_kind_and_carries_its_message_id(
    notifying: Service, mailbox: Mailbox, webhook: WebhookReceiver
) -> None:
    await app_operations.create(notifying, APP)
    await configure(notifying, APP, webhook, webhook_url="")
    [sent] = await send_test(notifying, await _app(notifying))
    assert sent.status == "sent"
    [mail] = mailbox.messages
    [row] = await history(notifying, await _app(notifying))
    assert mail["Subject"] == f"[enlist] {APP}: test test notification"
    assert mail["To"] == MAIL_TO
    assert mail["From"] == "enlist@example.test"
    assert mail["Message-ID"] == row["message_id"]


async def test_notify_test_without_a_channel_says_what_to_set(notifying: Service) -> None:
    await app_operations.create(notifying, APP)
    with pytest.raises(NoChannelError, match="notification_email or webhook_url"):
        await send_test(notifying, await _app(notifying))


def test_the_cli_sends_a_test_to_every_channel_and_reports_it_as_json(
    mailbox: Mailbox, webhook: WebhookReceiver, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENLIST_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / f"enlist-pycache-{os.getuid()}")
    env |= {
        "ENLIST_DATA_DIR": str(tmp_path / "cli"),
        "ENLIST_SMTP_HOST": "127.0.0.1",
        "ENLIST_SMTP_PORT": str(mailbox.port),
        "ENLIST_SMTP_SECURITY": "none",
    }

    def enlist(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ENLIST, "provisioning", *args], env=env, capture_output=True, text=True, input=stdin, check=False
        )

    assert enlist("app", "create", APP).returncode == 0
    changed = enlist(
        "app",
        "set",
        APP,
        f"notification_email={MAIL_TO}",
        f"webhook_url={webhook.url}",
        "webhook_secret=-",
        "notify.source_failing=off",
        stdin="webhook-secret-for-tests\n",
    )
    assert changed.returncode == 0, changed.stderr
    assert "webhook-secret-for-tests" not in changed.stdout
    sent = enlist("notify", "test", APP, "--json")
    assert sent.returncode == 0, sent.stderr
    deliveries = json.loads(sent.stdout)["deliveries"]
    assert sorted((d["channel"], d["status"]) for d in deliveries) == [("email", "sent"), ("webhook", "sent")]
    assert len(mailbox.messages) == 1
    assert webhook_events(webhook) == [("test", "test")]  # signed with the secret read from stdin
    listed = json.loads(enlist("notify", "list", APP, "--json").stdout)
    assert [len(r["attempts"]) for r in listed] == [1, 1]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_is_turned_on_and_off_by_its_notify_key(kind: str) -> None:
    off = AppSettings().with_changes({f"notify.{kind}": "off"})
    assert getattr(off, f"notify_{kind}") is False
    assert getattr(off.with_changes({f"notify.{kind}": "on"}), f"notify_{kind}") is True
    with pytest.raises(SettingError, match=f"notify_{kind} must be true or false"):
        AppSettings().with_changes({f"notify.{kind}": "sometimes"})


def test_the_quiet_period_rule_tells_a_condition_once_and_its_recovery_only_if_told() -> None:
    quiet, start = timedelta(minutes=60), now()
    told, sent = rule.raised(rule.Condition(), start, quiet)
    assert sent
    assert rule.raised(told, start + timedelta(minutes=5), quiet)[1] is False, "already raised"
    calm, sent = rule.cleared(told)
    assert sent, "the recovery of a told condition is told"
    again, sent = rule.raised(calm, start + timedelta(minutes=30), quiet)
    assert not sent, "within the quiet period"
    assert rule.cleared(again)[1] is False, "a silent raise has a silent recovery"
    assert rule.raised(rule.cleared(again)[0], start + timedelta(minutes=61), quiet)[1], "after it"


async def test_a_webhook_url_must_be_http(notifying: Service) -> None:
    await app_operations.create(notifying, APP)
    with pytest.raises(SettingError, match="webhook_url must be an http"):
        await app_operations.save_settings(
            notifying, await _app(notifying), {"webhook_url": "file:///etc/passwd"}
        )
    async with notifying.db.read() as conn:
        assert (
            await conn.execute(sa.select(sa.func.count()).select_from(notification_outbox))
        ).scalar_one() == 0


async def test_a_webhook_in_a_denied_network_is_not_contacted(
    notifying: Service, webhook: WebhookReceiver
) -> None:
    guarded = Service(
        notifying.settings.model_copy(update={"target_networks_deny": "127.0.0.0/8"}),
        notifying.db,
        notifying.secrets,
    )
    await app_operations.create(guarded, APP)
    await configure(guarded, APP, webhook, notification_email="")
    [attempt] = await send_test(guarded, await _app(guarded))

    assert attempt.status == "pending"
    assert "127.0.0.0/8" in attempt.detail
    assert webhook.received == []


async def test_housekeeping_drops_old_delivered_notifications_and_keeps_every_pending_one(
    notifying: Service, webhook: WebhookReceiver
) -> None:
    await app_operations.create(notifying, APP)
    await configure(notifying, APP, webhook)  # two channels: two rows per notification
    long_ago = now() - timedelta(days=31)  # past the default 30 days' retention
    async with notifying.db.write() as conn:
        app = await app_store.get_app(conn, APP)
        for _ in range(3):
            await enqueue(conn, app, "quarantine", "raised", {}, long_ago)
        await enqueue(conn, app, "quarantine", "recovered", {}, now())
        ids = list((await conn.execute(sa.select(notification_outbox.c.id).order_by("id"))).scalars())
        statuses = ["sent", "failed", "pending", "sent", "failed", "pending", "sent", "sent"]
        for row_id, status in zip(ids, statuses, strict=True):
            await conn.execute(
                notification_outbox.update().where(notification_outbox.c.id == row_id).values(status=status)
            )
    assert (await housekeeping(notifying))["notifications"] == 4
    rows = await history(notifying, await _app(notifying))
    assert sorted((r["status"], r["event"]) for r in rows) == [
        ("pending", "raised"),
        ("pending", "raised"),
        ("sent", "recovered"),
        ("sent", "recovered"),
    ]


async def test_two_senders_at_once_deliver_each_notification_once(
    notifying: Service, mailbox: Mailbox, webhook: WebhookReceiver
) -> None:
    await app_operations.create(notifying, APP)
    await configure(notifying, APP, webhook, webhook_url="")
    async with notifying.db.write() as conn:
        app = await app_store.get_app(conn, APP)
        for n in range(12):
            await enqueue(conn, app, "quarantine", "raised", {"n": n}, now())
    other = Service(notifying.settings, Database(notifying.settings.provisioning_url()), notifying.secrets)
    try:
        first, second = await asyncio.gather(send_due(notifying), send_due(other))
    finally:
        await other.db.dispose()

    assert len(first) + len(second) == 12
    assert {o.outbox_id for o in first}.isdisjoint({o.outbox_id for o in second})
    assert len(mailbox.messages) == 12
    assert len({m["Message-ID"] for m in mailbox.messages}) == 12
