"""After an encryption-key rotation, `reseal_secrets` (`enlist lms notify reseal-secrets`) seals
every tenant's webhook secret and every pending notification's copy under the new key, so the
webhook is still signed with the right secret once the old key is dropped; a secret no configured
key opens stops it and changes nothing."""

from __future__ import annotations

import dataclasses

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from enlist.lms.api.runtime import Portal
from enlist.lms.notify import operations
from enlist.lms.notify.sending import send_due
from enlist.notify.delivery import SIGNATURE_HEADER, signature
from enlist.secretbox import SecretError
from tests.helpers import ScimTenant
from tests.integration.notify.conftest import WebhookReceiver
from tests.integration.portal_notify.conftest import SEATS
from tests.integration.portal_notify.test_seat_limit_alerts import outbox_rows, post_user

ROTATED_SECRET = "rotated-webhook-secret"


def keyed(portal: Portal, key: bytes, *previous: bytes) -> Portal:
    """`portal` with `ENLIST_SECRET_KEY=key` and `ENLIST_PREVIOUS_SECRET_KEYS=previous`."""
    update = {
        "secret_key": SecretStr(key.decode()),
        "previous_secret_keys": ",".join(p.decode() for p in previous),
    }
    return dataclasses.replace(portal, settings=portal.settings.model_copy(update=update))


async def test_resealed_webhook_secrets_sign_under_the_new_key_alone(
    alerting: Portal, seated: ScimTenant, webhook: WebhookReceiver
) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    await operations.configure(
        keyed(alerting, old), seated.tenant, {"email": "", "webhook_secret": ROTATED_SECRET}
    )
    for n in range(SEATS):
        assert await post_user(seated, n) == 201  # the pending notification holds a sealed copy
    assert await operations.reseal_secrets(keyed(alerting, new, old)) == 2
    after = keyed(alerting, new)
    assert [o.status for o in await send_due(after.db, after.settings)] == ["sent"]
    [received] = webhook.received
    assert received.headers[SIGNATURE_HEADER.lower()] == signature(ROTATED_SECRET, received.body)
    [row] = await outbox_rows(alerting)
    assert row["status"] == "sent"


async def test_a_secret_no_configured_key_opens_stops_the_reseal_and_changes_nothing(
    alerting: Portal, seated: ScimTenant
) -> None:
    stranger, mine = Fernet.generate_key(), Fernet.generate_key()
    await operations.configure(keyed(alerting, stranger), seated.tenant, {"webhook_secret": "x"})
    before = await operations.current(alerting, seated.tenant)
    with pytest.raises(SecretError):
        await operations.reseal_secrets(keyed(alerting, mine))
    assert await operations.current(alerting, seated.tenant) == before
