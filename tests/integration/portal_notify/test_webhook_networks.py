"""The portal's webhook is held to the target networks like a Tenant URL (ADR 0014): an address
the operator denies is never contacted, the attempt says which network refused it, and the
notification stays pending for a retry."""

from __future__ import annotations

import dataclasses

import pytest

from enlist.lms.api.runtime import Portal
from enlist.lms.notify import operations
from tests.helpers import ScimTenant
from tests.integration.notify.conftest import WebhookReceiver
from tests.integration.portal_notify.test_seat_limit_alerts import outbox_rows


@pytest.mark.parametrize(("deny", "allow"), [("127.0.0.0/8", ""), ("", "10.0.0.0/8")])
async def test_a_webhook_on_a_refused_network_is_not_contacted_and_stays_pending(
    alerting: Portal, seated: ScimTenant, webhook: WebhookReceiver, deny: str, allow: str
) -> None:
    await operations.configure(alerting, seated.tenant, {"email": ""})
    update = {"target_networks_deny": deny, "target_networks_allow": allow}
    guarded = dataclasses.replace(alerting, settings=alerting.settings.model_copy(update=update))
    [outcome] = await operations.send_test(guarded, seated.tenant)
    assert outcome.status == "pending"
    assert "127.0.0.1 is in" in outcome.detail
    assert webhook.received == []
    [row] = await outbox_rows(alerting)
    assert (row["status"], row["attempts"]) == ("pending", 1)
