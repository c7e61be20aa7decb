"""The engine sends requests only to networks the operator allows, checked at every connection.

Link-local and cloud metadata addresses are refused by default on every path a request to a
target takes (Test connection from the page and the CLI, Create, a cycle, Provision on demand);
the check runs on the address the host name resolves to when the connection is opened, so a
Tenant URL saved while it was allowed is refused once its address is not (DNS rebinding).
Loopback stays allowed by default. What an internal service answers is never echoed.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import orjson
import pytest
from click.testing import CliRunner, Result
from pydantic import ValidationError

from enlist.cli import main
from enlist.provisioning import operations
from enlist.provisioning.engine.on_demand import provision_on_demand
from enlist.provisioning.engine.runner import run_cycle
from enlist.provisioning.logs import store as log_store
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store.apps import App
from enlist.provisioning.target.client import ScimTarget
from enlist.provisioning.target.errors import NETWORK_REFUSED
from enlist.provisioning.target.network import GuardedWireTransport, TargetNetworks, networks_of
from enlist.settings import Settings
from tests.integration.test_wire_transport import LoopbackServer, always, sized
from tests.security.loopback_target import EMPTY_LIST, LoopbackTarget
from tests.web.conftest import Site, provisioning_site  # noqa: F401 (the fixture)
from tests.web.provisioning_fixtures import APP, APP_PATH, load_directory, signed_in

TOKEN = "target-token-for-network-tests"
REFUSED_URLS = [
    "http://169.254.169.254/latest/meta-data",
    "http://169.254.170.2:8080/scim",
    "http://[fe80::1]/scim",
    "http://[::ffff:169.254.169.254]/scim",
    "http://[fd00:ec2::254]/scim",
]
LOOPBACK_DENIED = {"target_networks_deny": "127.0.0.0/8,::1/128"}


@pytest.fixture
def target() -> Iterator[LoopbackTarget]:
    with LoopbackTarget() as server:
        yield server


@pytest.fixture
def site(provisioning_site: Site) -> Site:  # noqa: F811 (the imported fixture, by name)
    return provisioning_site


def _with(service: Service, **settings: Any) -> Service:
    """The same service under other operator settings (the database and secrets are shared)."""
    return dataclasses.replace(service, settings=service.settings.model_copy(update=settings))


async def _app_at(service: Service, url: str) -> App:
    """An application stored as connected to `url` (as if saved while it was allowed), every
    directory user in scope."""
    await load_directory(service.db)
    app = await operations.create(service, APP)
    await operations.save_settings(service, app, {"scope": "all"})
    async with service.db.write() as conn:
        await app_store.connect(conn, await app_store.get_app(conn, APP), url, service.secrets.seal(TOKEN))
        return await app_store.get_app(conn, APP)


async def _logged_codes(service: Service, app: App) -> set[str | None]:
    async with service.db.read() as conn:
        records = await log_store.read(conn, app.id, log_store.LogFilter(limit=1000))
    return {r["error_code"] for r in records}


# -- the policy ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address", ["169.254.169.254", "169.254.0.1", "fe80::1", "fd00:ec2::254", "::ffff:169.254.169.254"]
)
def test_link_local_and_metadata_addresses_are_refused_by_default(address: str) -> None:
    assert TargetNetworks().refusal(address) is not None


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "10.1.2.3", "192.168.1.10", "20.190.1.1"])
def test_loopback_private_and_public_addresses_are_allowed_by_default(address: str) -> None:
    assert TargetNetworks().refusal(address) is None


def test_an_allow_list_refuses_every_other_address_and_deny_wins_over_it() -> None:
    networks = TargetNetworks.from_text("10.0.0.0/8", "10.9.0.0/16")
    assert networks.refusal("10.1.2.3") is None
    assert "ENLIST_TARGET_NETWORKS_ALLOW" in (networks.refusal("127.0.0.1") or "")
    assert "ENLIST_TARGET_NETWORKS_DENY" in (networks.refusal("10.9.0.1") or "")


def test_a_setting_that_is_not_a_network_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="is not a network"):
        Settings(target_networks_deny="169.254.0.0/16,metadata")


def test_the_settings_defaults_are_the_policys_defaults() -> None:
    assert networks_of(Settings()) == TargetNetworks()


# -- every path a request to a target takes ----------------------------------------------------------


async def test_page_test_connection_and_create_refuse_a_link_local_url(site: Site, service: Service) -> None:
    csrf = await signed_in(site)
    await site.client.post("/admin/apps", data={"name": APP, "kind": "non-gallery", "csrf_token": csrf})
    for url in REFUSED_URLS:
        page = await site.client.post(
            f"{APP_PATH}/provisioning/test-connection",
            data={"csrf_token": csrf, "tenant_url": url, "secret_token": TOKEN},
            headers={"HX-Request": "true"},
        )
        assert "was not contacted" in page.text, (url, page.text)
        assert "ENLIST_TARGET_NETWORKS_DENY" in page.text
        saved = await site.client.post(
            f"{APP_PATH}/provisioning/connect",
            data={"csrf_token": csrf, "tenant_url": url, "secret_token": TOKEN},
        )
        assert saved.status_code == 400
    async with service.db.read() as conn:
        assert (await app_store.get_app(conn, APP)).tenant_url is None


async def test_a_cycle_refuses_a_link_local_url_saved_earlier(service: Service) -> None:
    app = await _app_at(service, REFUSED_URLS[0])
    summary = await run_cycle(service, app)
    assert summary.status == "failed"
    assert "169.254.169.254 is in 169.254.0.0/16" in (summary.error or "")
    assert summary.counts.get("created", 0) == 0


async def test_provision_on_demand_refuses_a_link_local_url(service: Service) -> None:
    app = await _app_at(service, REFUSED_URLS[2])
    result = await provision_on_demand(service, app, "user1@contoso.com")
    assert result["status"] == "failure"
    assert await _logged_codes(service, app) == {NETWORK_REFUSED}


def _cli(service: Service, *args: str) -> Result:
    env = {
        "ENLIST_DATA_DIR": str(service.settings.data_dir),
        "ENLIST_PROVISIONING_DATABASE_URL": str(service.settings.provisioning_database_url),
        "ENLIST_TARGET_NETWORKS_DENY": service.settings.target_networks_deny,
    }
    return CliRunner().invoke(main, ["provisioning", *args], env=env)


async def test_cli_test_connection_and_connect_refuse_a_link_local_url(service: Service) -> None:
    await _app_at(service, REFUSED_URLS[3])
    result = await anyio.to_thread.run_sync(lambda: _cli(service, "app", "test-connection", APP, "--json"))
    assert result.exit_code == 1
    assert orjson.loads(result.output)["code"] == NETWORK_REFUSED
    args = ("app", "connect", APP, "--tenant-url", REFUSED_URLS[0], "--secret-token", TOKEN)
    connected = await anyio.to_thread.run_sync(lambda: _cli(service, *args))
    assert connected.exit_code == 1
    assert "was not contacted" in connected.output
    async with service.db.read() as conn:
        assert (await app_store.get_app(conn, APP)).tenant_url == REFUSED_URLS[3]  # unchanged


# -- checked on the resolved address, at every connection -------------------------------------------


async def test_a_saved_url_whose_address_is_no_longer_allowed_gets_no_request(
    service: Service, target: LoopbackTarget
) -> None:
    app = await _app_at(service, target.url(host="localhost"))
    await run_cycle(service, app)
    sent = len(target.seen)
    assert sent > 0  # allowed when saved: the cycle's requests reached it
    denied = _with(service, **LOOPBACK_DENIED)
    async with service.db.read() as conn:
        app = await app_store.get_app(conn, APP)
    check = await operations.test_connection(denied, app, target.url(host="localhost"), "")
    assert check.code == NETWORK_REFUSED
    await operations.change_state(denied, app, "restart")
    await run_cycle(denied, app)
    await provision_on_demand(denied, app, "user1@contoso.com")
    result = await anyio.to_thread.run_sync(lambda: _cli(denied, "app", "test-connection", APP))
    assert result.exit_code == 1
    assert len(target.seen) == sent


async def test_loopback_is_allowed_by_default_and_an_allow_list_can_refuse_it(
    service: Service, target: LoopbackTarget
) -> None:
    app = await _app_at(service, target.url())
    assert (await operations.test_connection(service, app, target.url(), "")).ok
    fenced = _with(service, target_networks_allow="10.0.0.0/8")
    check = await operations.test_connection(fenced, app, target.url(), "")
    assert check.code == NETWORK_REFUSED
    assert "ENLIST_TARGET_NETWORKS_ALLOW" in check.message
    assert len(target.seen) == 1


async def test_the_checked_transport_keeps_connections_alive_and_sends_the_host_name() -> None:
    """The check runs once per connection opened, the connection goes to the checked address, and
    the request still names the host (Host header; TLS would verify the name, not the address)."""
    async with LoopbackServer(always(sized("200 OK", EMPTY_LIST))) as server:
        target = ScimTarget(f"http://localhost:{server.port}/scim", TOKEN)
        async with target:
            for n in range(10):
                assert await target.find_users("userName", f"nobody{n}") == []
            assert isinstance(target._http, GuardedWireTransport)
            assert target._http.connections_opened == 1
    assert server.requests_per_connection == [10]
    assert {seen.headers["host"] for seen in server.connections[0].requests} == {f"localhost:{server.port}"}


def test_every_target_the_code_builds_gets_the_operators_networks() -> None:
    """A `ScimTarget` built without `networks=` would check only the default lists, ignoring
    ENLIST_TARGET_NETWORKS_*: every construction in src/ passes them."""
    src = Path(__file__).resolve().parents[2] / "src" / "enlist"
    calls = [
        (path.name, {k.arg for k in node.keywords})
        for path in sorted(src.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ScimTarget"
    ]
    assert len(calls) >= 3  # operations, runner.target_for, demo
    assert all("networks" in keywords for _, keywords in calls), calls
