"""The seat limit reached, told by mail and signed webhook: raised in the SCIM write that fills
the last seat (or after one the limit refused), once per quiet period, recovered when a seat
frees; delivered once by the sender however many run. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa

from enlist.lms.api.runtime import Portal
from enlist.lms.notify import operations, tables
from enlist.lms.notify.sending import send_due
from tests.helpers import USER, ScimTenant
from tests.integration.notify.conftest import Mailbox, WebhookReceiver
from tests.integration.notify.helpers import webhook_events
from tests.integration.portal_notify.conftest import MAIL_TO, SEATS, set_seats


async def outbox_rows(portal: Portal) -> list[dict[str, Any]]:
    async with portal.db.read() as conn:
        rows = (await conn.execute(sa.select(tables.outbox).order_by(tables.outbox.c.id))).mappings().all()
    return [dict(r) for r in rows]


async def post_user(t: ScimTenant, n: int) -> int:
    body = {"schemas": [USER], "userName": f"user{n}@example.com", "active": True}
    return (await t.post("/Users", body)).status_code


def subjects(mailbox: Mailbox) -> list[str]:
    return [str(m["Subject"]) for m in mailbox.messages]


async def test_filling_the_last_seat_over_http_sends_exactly_one_mail_and_one_signed_post(
    alerting: Portal, seated: ScimTenant, mailbox: Mailbox, webhook: WebhookReceiver
) -> None:
    statuses = [await post_user(seated, n) for n in range(SEATS + 2)]
    assert statuses == [201] * SEATS + [403, 403]
    rows = await outbox_rows(alerting)
    assert [(r["kind"], r["event"], r["channel"]) for r in rows] == [
        ("seat_limit", "raised", "email"),
        ("seat_limit", "raised", "webhook"),
    ], "written by the POST that filled the last seat; the refused ones add nothing"
    assert rows[0]["payload"]["details"] == {"seats_used": SEATS, "seat_limit": SEATS}

    outcomes = await send_due(alerting.db, alerting.settings)
    assert [o.status for o in outcomes] == ["sent", "sent"]
    assert await send_due(alerting.db, alerting.settings) == [], "delivered is final"
    assert len(mailbox.messages) == 1
    [mail] = mailbox.messages
    assert mail["To"] == MAIL_TO
    assert mail["Message-ID"] == rows[0]["message_id"]
    assert "seat limit reached" in str(mail["Subject"])
    assert webhook_events(webhook) == [("seat_limit", "raised")]  # checks the signature
    assert webhook.received[0].headers["x-enlist-delivery"] == rows[1]["message_id"]


async def test_a_freed_seat_is_told_recovered_and_refilling_it_within_the_quiet_period_is_silent(
    alerting: Portal, seated: ScimTenant, mailbox: Mailbox, webhook: WebhookReceiver
) -> None:
    users = [await seated.create_user(f"user{n}@example.com", active=True) for n in range(SEATS)]
    deactivate = [{"op": "replace", "path": "active", "value": False}]
    assert (await seated.patch(f"/Users/{users[0]['id']}", deactivate)).status_code == 200
    assert await post_user(seated, 99) == 201  # fills the seat again, within the quiet period
    assert (await seated.delete(f"/Users/{users[1]['id']}")).status_code == 204
    events = [(r["event"], r["channel"]) for r in await outbox_rows(alerting)]
    assert events == [
        ("raised", "email"),
        ("raised", "webhook"),
        ("recovered", "email"),
        ("recovered", "webhook"),
    ], "raised once per quiet period; recovered only answers a raise that was sent"
    await send_due(alerting.db, alerting.settings)
    assert webhook_events(webhook) == [("seat_limit", "raised"), ("seat_limit", "recovered")]
    assert len(mailbox.messages) == 2
    assert "seat limit recovered" in subjects(mailbox)[1]


async def test_a_write_refused_under_a_lowered_limit_raises_the_alert_though_the_write_rolled_back(
    alerting: Portal, seated: ScimTenant
) -> None:
    await set_seats(alerting, seated, SEATS + 5)
    for n in range(SEATS):
        assert await post_user(seated, n) == 201
    assert await outbox_rows(alerting) == []
    await set_seats(alerting, seated, SEATS - 1)  # no SCIM write filled it: the refusal tells
    assert await post_user(seated, 50) == 403
    assert await post_user(seated, 51) == 403
    rows = await outbox_rows(alerting)
    assert [(r["event"], r["channel"]) for r in rows] == [("raised", "email"), ("raised", "webhook")]
    assert rows[0]["payload"]["details"] == {"seats_used": SEATS, "seat_limit": SEATS - 1}


async def test_the_kind_turned_off_records_nothing_and_a_tenant_without_settings_is_not_told(
    alerting: Portal, seated: ScimTenant
) -> None:
    await operations.configure(alerting, seated.tenant, {"seat_limit": "off"})
    for n in range(SEATS):
        assert await post_user(seated, n) == 201
    assert await post_user(seated, SEATS) == 403
    assert await outbox_rows(alerting) == []
    async with alerting.db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(tables.conditions))).scalar() == 0


async def test_senders_running_at_once_deliver_each_notification_once(
    alerting: Portal, seated: ScimTenant, mailbox: Mailbox, webhook: WebhookReceiver
) -> None:
    for n in range(SEATS):
        assert await post_user(seated, n) == 201
    results = await asyncio.gather(*(send_due(alerting.db, alerting.settings) for _ in range(4)))
    assert sorted(o.channel for batch in results for o in batch) == ["email", "webhook"]
    assert len(mailbox.messages) == 1
    assert len(webhook.received) == 1
    async with alerting.db.read() as conn:
        attempts = (await conn.execute(sa.select(sa.func.count()).select_from(tables.attempts))).scalar()
    assert attempts == 2


async def test_a_test_notification_reaches_both_channels(
    alerting: Portal, seated: ScimTenant, mailbox: Mailbox, webhook: WebhookReceiver
) -> None:
    outcomes = await operations.send_test(alerting, seated.tenant)
    assert sorted((o.channel, o.status) for o in outcomes) == [("email", "sent"), ("webhook", "sent")]
    assert webhook_events(webhook) == [("test", "test")]
    assert "test notification" in subjects(mailbox)[0]
