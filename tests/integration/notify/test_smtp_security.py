"""SMTP's security settings against a real server: `starttls` never falls back to clear text,
and a sealed `ENLIST_SMTP_PASSWORD` is opened with the secret key and authenticates."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr

from enlist.provisioning import operations as app_operations
from enlist.provisioning.notify.operations import seal_password, send_test
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from tests.integration.notify.conftest import Mailbox, WebhookReceiver, free_port
from tests.integration.notify.helpers import configure

APP = "Careful"
PASSWORD = "smtp-password-for-tests"


@pytest.fixture
def authenticating() -> Iterator[tuple[Mailbox, list[tuple[str, str]]]]:
    """An SMTP server that demands AUTH (over clear text, on loopback only) and records each try."""
    box, tries = Mailbox(port=free_port()), []

    def authenticator(_server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        tries.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=(data.login, data.password) == (b"enlist", PASSWORD.encode()))

    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=box.port,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    yield box, tries
    controller.stop()


async def _test_mail(service: Service, webhook: WebhookReceiver) -> str:
    await app_operations.create(service, APP)
    await configure(service, APP, webhook, webhook_url="")
    async with service.db.read() as conn:
        app = await app_store.get_app(conn, APP)
    [outcome] = await send_test(service, app)
    return outcome.status


async def test_starttls_against_a_server_without_it_sends_nothing_in_clear_text(
    notifying: Service, mailbox: Mailbox, webhook: WebhookReceiver
) -> None:
    strict = Service(
        notifying.settings.model_copy(update={"smtp_security": "starttls"}), notifying.db, notifying.secrets
    )
    assert await _test_mail(strict, webhook) == "pending"
    assert mailbox.messages == []


# aiosmtpd warns that AUTH without TLS is unsafe: true, and this server is on loopback for the test.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_a_sealed_smtp_password_is_opened_and_authenticates(
    notifying: Service,
    webhook: WebhookReceiver,
    authenticating: tuple[Mailbox, list[tuple[str, str]]],
) -> None:
    box, tries = authenticating
    sealed = seal_password(notifying, PASSWORD)
    assert PASSWORD not in sealed
    signed_in = Service(
        notifying.settings.model_copy(
            update={"smtp_port": box.port, "smtp_user": "enlist", "smtp_password": SecretStr(sealed)}
        ),
        notifying.db,
        notifying.secrets,
    )
    assert await _test_mail(signed_in, webhook) == "sent"
    assert tries == [("enlist", PASSWORD)]
    assert len(box.messages) == 1
