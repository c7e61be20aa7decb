"""Tokens (client secret and certificate, cache, refresh) and `check()`, which says exactly
what is wrong: a bad secret, a missing permission and which one, an unreachable endpoint."""

from __future__ import annotations

import socket

import pytest

from enlist.provisioning.sources.graph import GraphSettings
from enlist.provisioning.sources.graph.errors import CredentialsError
from enlist.provisioning.sources.model import SourceUnavailableError
from tests.fakes.graph.app import FakeGraph
from tests.integration.sources.graph_helpers import (
    CLIENT_ID,
    Clock,
    Directory,
    make_certificate,
    reader_for,
    truth,
)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("credential", ["secret", "certificate"])
async def test_a_round_reads_with_a_secret_or_a_certificate(fake: FakeGraph, credential: str) -> None:
    fake.tenant.create_user("a@contoso.com")
    overrides = {}
    if credential == "certificate":
        certificate = make_certificate()
        fake.tenant.register_app("cert-app", certificate_pem=certificate.certificate_pem)
        overrides = {"client_id": "cert-app", "client_secret": None, "certificate": certificate}
    reader = reader_for(fake, **overrides)
    directory = Directory()

    await directory.apply(await reader.start_round(None))

    assert directory.view() == truth(fake)
    token_requests = [r for r in fake.requests if r.route == "token"]
    assert len(token_requests) == 1


async def test_a_certificate_other_than_the_registered_one_is_refused(fake: FakeGraph) -> None:
    fake.tenant.register_app("cert-app", certificate_pem=make_certificate().certificate_pem)
    reader = reader_for(fake, client_id="cert-app", client_secret=None, certificate=make_certificate())

    result = await reader.check()

    assert not result.ok
    assert "AADSTS700027" in result.message
    graph_round = await reader.start_round(None)
    with pytest.raises(CredentialsError, match="AADSTS700027"):
        await Directory().apply(graph_round)


async def test_a_bad_secret_is_named_by_check_and_stops_a_round(fake: FakeGraph) -> None:
    reader = reader_for(fake, client_secret="the-secret-id-not-its-value")

    result = await reader.check()

    assert not result.ok
    assert "invalid_client" in result.message
    assert "AADSTS7000215" in result.message
    assert result.details["step"] == "token"
    graph_round = await reader.start_round(None)
    with pytest.raises(CredentialsError):
        await Directory().apply(graph_round)
    assert graph_round.cursor is None


@pytest.mark.parametrize(
    ("granted", "scope_app", "missing"),
    [
        ({"GroupMember.Read.All"}, False, ["User.Read.All"]),
        ({"User.Read.All"}, False, ["GroupMember.Read.All"]),
        ({"User.Read.All", "GroupMember.Read.All"}, True, ["Application.Read.All"]),
        (set(), True, ["User.Read.All", "GroupMember.Read.All", "Application.Read.All"]),
    ],
)
async def test_check_names_each_missing_permission(
    fake: FakeGraph, granted: set[str], scope_app: bool, missing: list[str]
) -> None:
    fake.tenant.register_app("limited", secret="s", permissions=frozenset(granted))
    app_id = "app-0001"
    fake.tenant.create_service_principal(app_id, "iSpring Learn")
    reader = reader_for(
        fake, client_id="limited", client_secret="s", scope_app_id=app_id if scope_app else None
    )

    result = await reader.check()

    assert not result.ok
    assert result.details["missing_permissions"] == missing
    for permission in missing:
        assert permission in result.message


async def test_check_with_every_permission_says_ok(fake: FakeGraph) -> None:
    fake.tenant.create_service_principal("app-0001", "iSpring Learn")
    result = await reader_for(fake, scope_app_id="app-0001").check()

    assert result.ok, result.message


async def test_check_names_an_unknown_application_and_an_unknown_scope_group(fake: FakeGraph) -> None:
    no_app = await reader_for(fake, scope_app_id="no-such-app").check()
    no_group = await reader_for(fake, scope_groups=("no-such-group",)).check()

    assert not no_app.ok
    assert "no-such-app" in no_app.message
    assert not no_group.ok
    assert "no-such-group" in no_group.message


@pytest.mark.parametrize("endpoint", ["login_url", "graph_url"])
async def test_check_says_which_endpoint_is_unreachable(fake: FakeGraph, endpoint: str) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    reader = reader_for(fake, max_retries=1, **{endpoint: url})

    result = await reader.check()

    assert not result.ok
    assert url in result.message
    assert "cannot reach" in result.message


async def test_the_token_is_reused_until_near_expiry_then_fetched_again(fake: FakeGraph) -> None:
    fake.issuer.expires_in = 400
    fake.tenant.create_user("a@contoso.com")
    clock = Clock()
    reader = reader_for(fake, clock)
    cursor = await Directory().apply(await reader.start_round(None))
    cursor = await Directory().apply(await reader.start_round(cursor))
    assert reader.tokens.fetched == 1

    clock.now += 250  # a 400 s token is refreshed once half its life is gone
    await Directory().apply(await reader.start_round(cursor))

    assert reader.tokens.fetched == 2


async def test_a_link_outside_the_graph_base_is_never_sent_the_token(fake: FakeGraph) -> None:
    reader = reader_for(fake)
    client = reader._client()

    with pytest.raises(SourceUnavailableError, match="outside"):
        client.url("http://evil.example/v1.0/users/delta?$skiptoken=x")
    assert client.url(f"{fake.graph_base}/v1.0/users") == f"{fake.graph_base}/v1.0/users"


def test_settings_never_print_the_secret() -> None:
    settings = GraphSettings(tenant_id="t", client_id=CLIENT_ID, client_secret="s3cr3t-value")

    assert "s3cr3t-value" not in repr(settings)
    with pytest.raises(ValueError, match="exactly one"):
        GraphSettings(tenant_id="t", client_id=CLIENT_ID)


@pytest.mark.parametrize(
    "refused",
    ["wrong secret", "unknown client id", "unregistered certificate"],
)
async def test_every_refused_credential_is_told_in_sentences_that_end_once(
    fake: FakeGraph, refused: str
) -> None:
    """Entra's descriptions end with a full stop; `check()` adds its advice after it, not after
    a second one (`…for app '…'.. Check the client id` is what an admin saw)."""
    overrides: dict[str, object] = {
        "wrong secret": {"client_secret": "not-the-secret"},
        "unknown client id": {"client_id": "00000000-0000-0000-0000-00000000dead"},
        "unregistered certificate": {"client_secret": None, "certificate": make_certificate()},
    }[refused]

    result = await reader_for(fake, **overrides).check()

    assert not result.ok
    assert result.details["step"] == "token"
    assert ".." not in result.message, result.message
    assert result.message.endswith("Check the client id and the secret or certificate.")
