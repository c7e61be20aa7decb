"""The portal with alerts on: mailing through the real SMTP server (aiosmtpd) and posting to the
real webhook receiver of the provisioning notify tests, served over real HTTP on loopback; a
tenant whose seat limit the tests fill through SCIM."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest

from enlist.db.database import Database
from enlist.lms.api.runtime import Portal
from enlist.lms.notify import operations
from enlist.lms.store import tenants as tenant_store
from enlist.settings import Settings
from enlist.web.peppers import load_peppers
from tests.helpers import ScimTenant, make_tenant
from tests.integration.notify.conftest import WEBHOOK_SECRET, Mailbox, WebhookReceiver, mailbox, webhook
from tests.live import portal_on_loopback

__all__ = ["mailbox", "webhook"]

MAIL_TO = "seats@example.test"
SEATS = 3


@pytest.fixture
def smtp_settings(settings: Settings, mailbox: Mailbox) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": mailbox.port,
            "smtp_security": "none",
            "smtp_from": "enlist@example.test",
        }
    )


@pytest.fixture
async def alerting(smtp_settings: Settings) -> AsyncIterator[Portal]:
    """The portal, mailing through the test's SMTP server."""
    db = Database(smtp_settings.lms_url())
    yield Portal(smtp_settings, db, load_peppers(smtp_settings))
    await db.dispose()


@pytest.fixture
async def seated(alerting: Portal, webhook: WebhookReceiver) -> AsyncIterator[ScimTenant]:
    """A tenant with `seat_limit=3`, alerts to MAIL_TO and the webhook, spoken to over HTTP."""
    async with portal_on_loopback(alerting) as url, httpx2.AsyncClient(base_url=url) as client:
        t = await make_tenant(alerting, client)
        await set_seats(alerting, t, SEATS)
        changes = {"email": MAIL_TO, "webhook_url": webhook.url, "webhook_secret": WEBHOOK_SECRET}
        await operations.configure(alerting, t.tenant, changes)
        yield t


async def set_seats(portal: Portal, t: ScimTenant, seats: int) -> None:
    async with portal.db.write() as conn:
        tenant = await tenant_store.get_tenant(conn, t.tenant.slug)
        t.tenant = await tenant_store.save_policy(
            conn, tenant, tenant.policy.with_changes({"seat_limit": str(seats)})
        )
