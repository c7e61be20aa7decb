"""A stored target Secret token only ever goes to the Tenant URL it was saved for.

An admin (or whoever holds an admin's session) who changes the Tenant URL must type the Secret
token again, on every path that can send it: the Provisioning page's Test connection and Create
(Save), `enlist provisioning app connect|set|test-connection`, and the JSON API (read-only: no
route writes). A real "attacker" server on loopback counts the requests that carry the stored
token: none, on both databases.
"""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest
from click.testing import CliRunner, Result

from enlist.cli import main
from enlist.provisioning import operations
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.target.connection import endpoint_of, same_endpoint
from tests.security.loopback_target import LoopbackTarget
from tests.web.conftest import Site, provisioning_site  # noqa: F401 (the fixture)
from tests.web.provisioning_fixtures import APP, APP_PATH, signed_in
from tests.web.provisioning_fixtures import create_app as create_app_page

STORED = "stored-secret-token-0123456789"


@pytest.fixture
def legit() -> Iterator[LoopbackTarget]:
    with LoopbackTarget() as server:
        yield server


@pytest.fixture
def attacker() -> Iterator[LoopbackTarget]:
    with LoopbackTarget() as server:
        yield server


@pytest.fixture
def site(provisioning_site: Site) -> Site:  # noqa: F811 (the imported fixture, by name)
    return provisioning_site


async def _connected(site: Site, legit: LoopbackTarget) -> str:
    """Sign in, create the application and connect it to `legit` with STORED through the page."""
    csrf = await signed_in(site)
    await create_app_page(site, csrf)
    saved = await site.client.post(
        f"{APP_PATH}/provisioning/connect",
        data={"csrf_token": csrf, "tenant_url": legit.url(), "secret_token": STORED},
    )
    assert saved.status_code == 303, saved.text
    assert legit.bearing(STORED) == 1
    return csrf


async def _stored(service: Service) -> tuple[str | None, str]:
    async with service.db.read() as conn:
        app = await app_store.get_app(conn, APP)
    return app.tenant_url, service.secrets.open(app.sealed_token or "")


def _elsewhere(legit: LoopbackTarget, attacker: LoopbackTarget) -> list[str]:
    """URLs that send the token somewhere else than `legit.url()`: another host and port, another
    path on the same host, the same host and path over https."""
    return [
        attacker.url(),
        attacker.url("/scim/v2"),
        legit.url("/scim/v2/other-tenant"),
        legit.url("/"),
        legit.url(host="localhost"),
        legit.url().replace("http://", "https://"),
    ]


async def test_page_test_connection_with_an_empty_token_never_sends_the_stored_one_elsewhere(
    site: Site, service: Service, legit: LoopbackTarget, attacker: LoopbackTarget
) -> None:
    csrf = await _connected(site, legit)
    for url in _elsewhere(legit, attacker):
        for headers in ({"HX-Request": "true"}, {}):
            page = await site.client.post(
                f"{APP_PATH}/provisioning/test-connection",
                data={"csrf_token": csrf, "tenant_url": url, "secret_token": ""},
                headers=headers,
            )
            assert operations.URL_CHANGED in page.text, url
    assert attacker.bearing(STORED) == 0
    assert attacker.seen == []
    assert legit.bearing(STORED) == 1  # only the Create above


async def test_page_save_with_an_empty_token_does_not_repoint_the_stored_token(
    site: Site, service: Service, legit: LoopbackTarget, attacker: LoopbackTarget
) -> None:
    csrf = await _connected(site, legit)
    for url in _elsewhere(legit, attacker):
        refused = await site.client.post(
            f"{APP_PATH}/provisioning/connect",
            data={"csrf_token": csrf, "tenant_url": url, "secret_token": "  "},
        )
        assert refused.status_code == 400, url
        assert operations.URL_CHANGED in refused.text
    assert await _stored(service) == (legit.url(), STORED)
    assert attacker.seen == []


async def test_the_same_endpoint_written_differently_keeps_the_stored_token(
    site: Site, service: Service, legit: LoopbackTarget
) -> None:
    csrf = await _connected(site, legit)
    same = [
        legit.url("/scim/v2/"),
        legit.url().replace("http://", "HTTP://"),
        legit.url() + "?aadOptscim062020",
        legit.url().replace(f":{legit.port}", f":{legit.port}") + "#fragment",
    ]
    for url in same:
        page = await site.client.post(
            f"{APP_PATH}/provisioning/test-connection",
            data={"csrf_token": csrf, "tenant_url": url, "secret_token": ""},
            headers={"HX-Request": "true"},
        )
        assert "answered the query for a user that does not exist" in page.text, (url, page.text)
    assert legit.bearing(STORED) == 1 + len(same)


async def test_a_new_tenant_url_with_the_token_typed_again_is_saved(
    site: Site, service: Service, legit: LoopbackTarget, attacker: LoopbackTarget
) -> None:
    csrf = await _connected(site, legit)
    saved = await site.client.post(
        f"{APP_PATH}/provisioning/connect",
        data={"csrf_token": csrf, "tenant_url": attacker.url(), "secret_token": "a-new-token"},
    )
    assert saved.status_code == 303
    assert await _stored(service) == (attacker.url(), "a-new-token")
    assert attacker.bearing(STORED) == 0
    assert attacker.bearing("a-new-token") == 1


def _cli(service: Service, *args: str, stdin: str = "") -> Result:
    env = {
        "ENLIST_DATA_DIR": str(service.settings.data_dir),
        "ENLIST_PROVISIONING_DATABASE_URL": str(service.settings.provisioning_database_url),
    }
    return CliRunner().invoke(main, ["provisioning", *args], env=env, input=stdin)


async def test_cli_connect_and_set_never_send_the_stored_token_to_a_new_url(
    site: Site, service: Service, legit: LoopbackTarget, attacker: LoopbackTarget
) -> None:
    await _connected(site, legit)
    attempts = [
        ("app", "connect", APP, "--tenant-url", attacker.url(), "--secret-token", ""),
        ("app", "connect", APP, "--tenant-url", attacker.url(), "--secret-token", "-"),
        ("app", "set", APP, f"tenant_url={attacker.url()}"),
    ]
    for args in attempts:
        result = await anyio.to_thread.run_sync(lambda a=args: _cli(service, *a))
        assert result.exit_code == 1, (args, result.output)
    checked = await anyio.to_thread.run_sync(lambda: _cli(service, "app", "test-connection", APP))
    assert checked.exit_code == 0, checked.output
    assert attacker.seen == []
    assert legit.bearing(STORED) == 2  # the Create and the CLI's Test connection, both to legit
    assert await _stored(service) == (legit.url(), STORED)


async def test_operations_refuse_the_stored_token_for_a_changed_url_whoever_calls(
    site: Site, service: Service, legit: LoopbackTarget, attacker: LoopbackTarget
) -> None:
    await _connected(site, legit)
    async with service.db.read() as conn:
        app = await app_store.get_app(conn, APP)
    for call in (operations.test_connection, operations.connect):
        with pytest.raises(ValueError, match="the Tenant URL changed: enter the Secret token again"):
            await call(service, app, attacker.url(), "")
    assert attacker.seen == []


@pytest.mark.parametrize(
    ("saved", "typed", "same"),
    [
        ("http://h.example/scim", "http://h.example/scim/", True),
        ("http://h.example/scim", "HTTP://H.EXAMPLE/scim", True),
        ("http://h.example/scim", "http://h.example:80/scim", True),
        ("https://h.example/scim", "https://h.example:443/scim?aadOptscim062020", True),
        ("http://h.example/scim", "http://user@h.example/scim#x", True),
        ("http://h.example/scim", "https://h.example/scim", False),
        ("http://h.example/scim", "http://h.example:8080/scim", False),
        ("http://h.example/scim", "http://h.example/SCIM", False),
        ("http://h.example/scim", "http://h.example/scim/v2", False),
        ("http://h.example/scim", "http://h.example.evil.test/scim", False),
        ("http://h.example/scim", "ftp://h.example/scim", False),
        ("http://h.example/scim", "not a url", False),
    ],
)
def test_what_counts_as_a_changed_tenant_url(saved: str, typed: str, same: bool) -> None:
    assert same_endpoint(saved, typed) is same


def test_an_endpoint_is_scheme_host_port_and_path() -> None:
    assert endpoint_of("HTTPS://Portal.Example/scim/v2/acme/?aadOptscim062020") == (
        "https",
        "portal.example",
        443,
        "/scim/v2/acme",
    )
