"""The "Secret token about to expire" alert, triggered for real: the scheduler loop that
`enlist provisioning serve` runs finds the expiry (the admin's `secret_token_expires_at`, or a
JWT token's `exp` claim read unverified), and the mail and the signed webhook arrive once per
token; a token that expires later raises nothing, and replacing the expiring token recovers it."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from enlist.db.rows import now
from enlist.provisioning import operations as app_operations
from enlist.provisioning.engine.app_settings import AppSettings, SettingError
from enlist.provisioning.engine.scheduler import housekeeping, scheduler_loop
from enlist.provisioning.notify.sender import send_due
from enlist.provisioning.notify.token_expiry import expiry_of, jwt_expiry
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from tests.integration.notify.conftest import Mailbox, WebhookReceiver
from tests.integration.notify.helpers import configure, mail_events, webhook_events

TENANT_URL = "https://scim.example.test/scim/v2/acme"
RAISED = "token expiry needs attention"
RECOVERED = "token expiry recovered"
SIGNING_KEY = "a-key-enlist-never-has-so-it-cannot-verify"  # 42 bytes: PyJWT warns under 32


def a_jwt(expires_in: timedelta | None) -> str:
    claims: dict[str, object] = {"sub": "enlist-provisioning", "aud": "acme"}
    if expires_in is not None:
        claims["exp"] = int((datetime.now(UTC) + expires_in).timestamp())
    return jwt.encode(claims, SIGNING_KEY, algorithm="HS256")


async def _app(service: Service, name: str, token: str, webhook: WebhookReceiver, **settings: str) -> None:
    await app_operations.create_connected(service, name, TENANT_URL, token)
    await configure(service, name, webhook, **settings)


async def _scheduler_pass(service: Service, until: int, mailbox: Mailbox, webhook: WebhookReceiver) -> None:
    """Run the serve loop (housekeeping runs at its start) until `until` mails and posts arrived,
    then let it run a few more polls to show nothing more comes."""
    loop = asyncio.create_task(scheduler_loop(service, poll_seconds=0.05))
    try:
        for _ in range(400):  # bounded: at most ~20 s
            if len(mailbox.messages) >= until and len(webhook.received) >= until:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop


async def test_a_token_the_admin_says_expires_soon_is_mailed_and_posted_once_by_the_scheduler(
    notifying: Service, mailbox: Mailbox, webhook: WebhookReceiver
) -> None:
    soon = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    await _app(notifying, "Expiring", "an-opaque-secret-token", webhook, secret_token_expires_at=soon)
    await _app(notifying, "Later", "another-opaque-token", webhook, secret_token_expires_at="2099-01-01")
    await _app(notifying, "Unknown", "a-token-nobody-dated", webhook)

    await _scheduler_pass(notifying, 1, mailbox, webhook)
    await _scheduler_pass(notifying, 1, mailbox, webhook)  # a second start: the same token, told once
    assert mail_events(mailbox, "Expiring") == [RAISED]
    assert mail_events(mailbox, "Later") == mail_events(mailbox, "Unknown") == []
    assert webhook_events(webhook) == [("token_expiry", "raised")]
    body = mailbox.messages[0].get_payload()
    assert isinstance(body, str)
    assert "expiry_from: setting" in body
    assert "an-opaque-secret-token" not in body  # a digest names the token, never the token


async def test_a_jwt_tokens_exp_claim_raises_it_and_a_new_token_recovers_it(
    notifying: Service, mailbox: Mailbox, webhook: WebhookReceiver
) -> None:
    await _app(notifying, "Jwt", a_jwt(timedelta(days=5)), webhook, notify_token_expiry_days="14")
    await _app(notifying, "JwtLater", a_jwt(timedelta(days=90)), webhook)
    assert (await housekeeping(notifying))["token_expiry"] == 1
    assert (await housekeeping(notifying))["token_expiry"] == 0  # still raised: told once
    await send_due(notifying)
    assert mail_events(mailbox, "Jwt") == [RAISED]
    assert mail_events(mailbox, "JwtLater") == []

    async with notifying.db.write() as conn:
        app = await app_store.get_app(conn, "Jwt")
        await app_store.connect(conn, app, TENANT_URL, notifying.secrets.seal(a_jwt(timedelta(days=365))))
    assert (await housekeeping(notifying))["token_expiry"] == 0
    await send_due(notifying)
    assert mail_events(mailbox, "Jwt") == [RAISED, RECOVERED]
    assert webhook_events(webhook) == [("token_expiry", "raised"), ("token_expiry", "recovered")]


async def test_a_kind_turned_off_is_not_told(
    notifying: Service, mailbox: Mailbox, webhook: WebhookReceiver
) -> None:
    await _app(notifying, "Quiet", a_jwt(timedelta(days=1)), webhook, **{"notify.token_expiry": "off"})
    assert (await housekeeping(notifying))["token_expiry"] == 0
    await send_due(notifying)
    assert mailbox.messages == []


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        pytest.param("an-opaque-secret-token", None, id="opaque"),
        pytest.param("a.b.c", None, id="three dots, not a JWT"),
        pytest.param(a_jwt(None), None, id="JWT without exp"),
        pytest.param(
            jwt.encode({"exp": "soon"}, SIGNING_KEY, algorithm="HS256"), None, id="exp not a number"
        ),
    ],
)
def test_a_token_without_a_readable_exp_has_no_expiry(token: str, expected: None) -> None:
    assert jwt_expiry(token) is expected
    assert expiry_of("", token) is None


def test_the_admins_date_wins_over_the_jwt_exp_and_a_date_alone_is_midnight_utc() -> None:
    found = expiry_of("2027-03-31", a_jwt(timedelta(days=2)))
    assert found is not None
    assert (found.at, found.source) == (datetime(2027, 3, 31, tzinfo=UTC), "setting")
    unsigned_exp = jwt_expiry(a_jwt(timedelta(days=2)))
    assert unsigned_exp is not None
    assert timedelta(days=1) < unsigned_exp - now() <= timedelta(days=2)


@pytest.mark.parametrize("value", ["31/03/2027", "tomorrow", "2027-13-01"])
def test_an_expiry_that_is_not_iso_8601_is_refused_naming_the_setting(value: str) -> None:
    with pytest.raises(SettingError, match="secret_token_expires_at"):
        AppSettings().with_changes({"secret_token_expires_at": value})
