"""Authentication abuse and request limits at the SCIM API.

- Failed Secret token attempts are limited per client address and tenant: past the limit a wrong
  token gets 429 with `Retry-After`; a valid token from the same client still works (see
  `enlist.lms.api.throttle` for why), and other tenants are untouched.
- A request that runs past the time limit is a 503 SCIM error and its transaction rolls back.
- A body over the size limit is a 413 even when it comes chunked, without `Content-Length`.
- The Secret token never appears in logs, error bodies or the sync log.
- Checking a wrong token does the same work however much of it was right.
"""

from __future__ import annotations

import ast
import asyncio
import hmac
import inspect
import logging
import re
import textwrap
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.routing import Route

from enlist.lms.api import throttle
from enlist.lms.api.app import create_app
from enlist.lms.api.runtime import Portal
from enlist.lms.store import tenants as tenant_store
from enlist.lms.store.tables import sync_log
from enlist.settings import Settings
from enlist.web import tokens
from tests.helpers import SCIM, USER, ScimTenant, make_tenant
from tests.integration.test_bad_input import assert_scim_error, state
from tests.live import LivePortal

LIMIT = 3


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"failed_token_limit": LIMIT, "request_timeout_seconds": 1.0})


def wrong(token: str) -> str:
    """The same key id with another secret: the most right a wrong token can be."""
    key_id, secret = tokens.split(token) or ("", "")
    return f"{tokens.TOKEN_PREFIX}{key_id}_{'A' * len(secret)}"


async def get_users(t: ScimTenant, token: str | None) -> httpx2.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return await t.http.get(t.base + "/Users", headers=headers)


# --- failed-token limit --------------------------------------------------------------------------


async def test_past_the_limit_a_wrong_token_gets_429_with_retry_after_and_a_valid_token_still_works(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    await t.create_user("ada@example.com")
    before = await state(portal, t)
    for _ in range(LIMIT):
        assert_scim_error(await get_users(t, wrong(t.token)), 401)
    refused = await get_users(t, wrong(t.token))
    body = assert_scim_error(refused, 429, "too many failed")
    assert int(refused.headers["retry-after"]) == 60
    assert "retry-after" in body["detail"].replace(" ", "-").lower()
    # The real client, from the same address, is never locked out.
    assert (await get_users(t, t.token)).status_code == 200
    assert (await t.post("/Users", {"schemas": [USER], "userName": "bob@example.com"})).status_code == 201
    # A token-less request and a wrong scheme count as failures too.
    assert_scim_error(await get_users(t, None), 429)
    assert_scim_error(await t.http.get(t.base + "/Users", headers={"Authorization": f"Basic {t.token}"}), 429)
    after = await state(portal, t)
    assert len(after["scim"]["/Users"]["Resources"]) == len(before["scim"]["/Users"]["Resources"]) + 1


def token_routes(app: Starlette) -> list[tuple[str, str]]:
    """(method, path) of every route that takes a Secret token: every `{tenant}` route outside the
    admin pages (which take a session) and outside the JSON API, whose routes take API tokens
    only (ADR 0031), except the sync log, which also takes the tenant's Secret token; read from
    the route table."""
    found = []
    for route in app.routes:
        if not isinstance(route, Route) or "{tenant}" not in route.path or route.path.startswith("/admin"):
            continue
        if route.path.startswith("/api/") and route.path != "/api/v1/tenants/{tenant}/sync-log":
            continue
        methods = route.methods or {"GET"}
        found.append(("GET" if "GET" in methods else min(methods), route.path))
    return found


async def test_every_token_route_answers_429_past_the_failed_token_limit(portal: Portal) -> None:
    app = create_app(portal.settings, portal)
    routes = token_routes(app)
    assert {path.split("/")[1] for _, path in routes} == {"scim", "api"}, routes
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://portal.test"
    ) as http:
        for number, (method, path) in enumerate(routes):
            # A tenant of its own per route: the window is per (client, tenant), so each route
            # must reach the limit by itself.
            url = re.sub(r"\{[^}]+\}", "x", path.replace("{tenant}", f"probe{number}"))
            headers = {"Authorization": "Bearer wrong"}
            statuses = [
                (await http.request(method, url, headers=headers)).status_code for _ in range(LIMIT + 1)
            ]
            assert statuses == [401] * LIMIT + [429], (method, path, statuses)


async def test_the_limit_is_per_tenant_so_one_tenants_attacker_does_not_lock_out_another(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    acme = await make_tenant(portal, http, "acme")
    globex = await make_tenant(portal, http, "globex")
    for _ in range(LIMIT + 2):
        await get_users(acme, wrong(acme.token))
    assert_scim_error(await get_users(acme, wrong(acme.token)), 429)
    assert_scim_error(await get_users(globex, wrong(globex.token)), 401)
    assert (await get_users(globex, globex.token)).status_code == 200


async def test_refused_attempts_write_nothing_to_the_sync_log(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    for _ in range(LIMIT + 5):
        response = await t.http.post(
            t.base + "/Users",
            json={"schemas": [USER], "userName": "eve@example.com"},
            headers={"Authorization": f"Bearer {wrong(t.token)}", "Content-Type": SCIM},
        )
        assert response.status_code in (401, 429)
    async with portal.db.read() as conn:
        logged = (await conn.execute(sa.select(sa.func.count()).select_from(sync_log))).scalar_one()
    assert logged == 0
    assert await t.find_user("eve@example.com") is None


# --- request time limit --------------------------------------------------------------------------


@pytest.fixture
async def seeded(portal: Portal, http: httpx2.AsyncClient) -> tuple[ScimTenant, dict[str, Any]]:
    t = await make_tenant(portal, http)
    return t, await t.create_user("ada@example.com", displayName="Ada")


async def test_a_request_past_the_time_limit_is_503_and_its_transaction_rolls_back(
    portal: Portal, seeded: tuple[ScimTenant, dict[str, Any]]
) -> None:
    """The sync log table is locked by another transaction: on PostgreSQL the PATCH has already
    updated the user when it blocks on its sync log entry, so the unchanged user afterwards
    proves the rollback. (On SQLite writers queue on one lock, so it blocks before writing.)"""
    t, user = seeded
    before = await state(portal, t)
    release = asyncio.Event()
    locked = asyncio.Event()

    async def hold_lock() -> None:
        async with portal.db.write() as conn:
            if not portal.db.is_sqlite:
                await conn.execute(sa.text(f"LOCK TABLE {sync_log.name} IN EXCLUSIVE MODE"))
            locked.set()
            await release.wait()

    holder = asyncio.create_task(hold_lock())
    await locked.wait()
    try:
        response = await t.patch(
            f"/Users/{user['id']}", [{"op": "replace", "path": "displayName", "value": "Changed"}]
        )
    finally:
        release.set()
        await holder
    assert_scim_error(response, 503, "longer than 1 s", "rolled back")
    assert await state(portal, t) == before
    again = await t.patch(f"/Users/{user['id']}", [{"op": "replace", "path": "displayName", "value": "Now"}])
    assert again.status_code == 200, again.text


# --- body size over a real socket ----------------------------------------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePortal]:
    portal = LivePortal(tmp_path_factory.mktemp("live-auth"), None).start()
    yield portal
    portal.stop()


def test_a_chunked_body_over_the_limit_is_413_over_a_real_socket(live: LivePortal) -> None:
    tenant_url, token = live.tenant("chunked")
    limit = Settings().max_body_bytes

    def chunks() -> Iterator[bytes]:
        yield b'{"userName": "big@example.com", "displayName": "'
        for _ in range(limit // 65_536 + 1):
            yield b"x" * 65_536
        yield b'"}'

    headers = {"Authorization": f"Bearer {token}", "Content-Type": SCIM}
    with httpx2.Client(timeout=30) as http:
        request = http.build_request("POST", f"{tenant_url}/Users", content=chunks(), headers=headers)
        assert "content-length" not in request.headers
        assert request.headers["transfer-encoding"] == "chunked"
        response = http.send(request)
        assert_scim_error(response, 413, str(limit))
        listed = http.get(f"{tenant_url}/Users", headers=headers).json()
    assert listed["totalResults"] == 0


# --- the token stays secret ----------------------------------------------------------------------


async def test_the_token_appears_in_no_log_error_body_or_sync_log_entry(
    portal: Portal, http: httpx2.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    t = await make_tenant(portal, http)
    other = await make_tenant(portal, http, "globex")
    secret = (tokens.split(t.token) or ("", ""))[1]
    bodies: list[str] = []
    attempts = [
        (t.base + "/Users", t.token[:-1]),  # one character short
        (t.base + "/Users", wrong(t.token)),
        (other.base + "/Users", t.token),  # the right token at another tenant
        (t.base + "/Users", t.token + "x"),
        (t.base + "/Users/missing", t.token),
        (t.base + "/Nowhere", t.token),
    ]
    for url, token in [*attempts, *attempts]:  # twice: past the failed-token limit as well
        response = await http.get(url, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code in (401, 404, 429)
        bodies.append(response.text + str(response.headers))
    for body in (
        b"{not json",
        b'{"userName": 5}',
        ("{" + '"a":' * 1).encode(),
    ):
        response = await http.post(t.base + "/Users", content=body, headers=t.headers())
        assert 400 <= response.status_code < 500
        bodies.append(response.text + str(response.headers))
    async with portal.db.read() as conn:
        logged = [dict(r._mapping) for r in await conn.execute(sa.select(sync_log))]
    assert logged, "the failed writes left no sync log entry to search"
    everything = "\n".join([caplog.text, *bodies, repr(logged)])
    assert t.token not in everything
    assert secret not in everything
    assert secret[:16] not in everything


def test_the_token_never_reaches_a_live_portals_log(live: LivePortal) -> None:
    tenant_url, token = live.tenant("quiet")
    secret = (tokens.split(token) or ("", ""))[1]
    with httpx2.Client(timeout=30) as http:
        for bad in (token[:-1], wrong(token), token + "x", token.upper()):
            for _ in range(12):
                http.get(f"{tenant_url}/Users", headers={"Authorization": f"Bearer {bad}"})
        headers = {"Authorization": f"Bearer {token}", "Content-Type": SCIM}
        http.post(f"{tenant_url}/Users", content=b"{broken", headers=headers)
        http.get(f"{tenant_url}/Users", params={"filter": "userName eq"}, headers=headers)
    log = (live.data_dir / "serve.log").read_text(errors="replace")
    assert token not in log
    assert secret not in log


# --- timing: the check's work does not depend on how much was right --------------------------------


def one_off(token: str) -> str:
    """`token` with its last character changed (to "A", unless it already was one)."""
    return token[:-1] + ("B" if token.endswith("A") else "A")


@pytest.fixture
def compare_spy(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(tokens.hmac, "compare_digest", spy)
    return calls


async def test_every_token_check_compares_two_full_digests_once_whatever_was_right(
    portal: Portal, http: httpx2.AsyncClient, compare_spy: list[tuple[str, str]]
) -> None:
    t = await make_tenant(portal, http)
    other = await make_tenant(portal, http, "globex")
    key_id = (tokens.split(t.token) or ("", ""))[0]
    candidates = {
        "valid": (t.tenant.slug, t.token, True),
        "known key, wrong secret": (t.tenant.slug, wrong(t.token), False),
        "known key, secret one character off": (t.tenant.slug, one_off(t.token), False),
        "unknown key": (t.tenant.slug, f"{tokens.TOKEN_PREFIX}{'Z' * 12}_{'A' * 43}", False),
        "malformed": (t.tenant.slug, "not-a-token", False),
        "right token, other tenant": (other.tenant.slug, t.token, False),
        "key id only": (t.tenant.slug, f"{tokens.TOKEN_PREFIX}{key_id}", False),
    }
    for name, (slug, token, opens) in candidates.items():
        compare_spy.clear()
        async with portal.db.read() as conn:
            tenant = await tenant_store.authenticate(conn, slug, token, portal.peppers.known)
        assert (tenant is not None) is opens, name
        assert len(compare_spy) == 1, name
        candidate, expected = compare_spy[0]
        assert len(candidate) == len(expected) == 64, name
        assert all(c in "0123456789abcdef" for c in candidate + expected), name


def _comparisons_on_secrets(function: Any) -> list[str]:
    """`==`/`!=`/`startswith` uses in `function` that touch a token, secret or digest."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    suspicious = {"token", "secret", "digest", "candidate", "expected"}
    found = []
    for node in ast.walk(tree):
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        equality = isinstance(node, ast.Compare) and any(
            isinstance(op, ast.Eq | ast.NotEq) for op in node.ops
        )
        if equality and names & suspicious:
            found.append(ast.unparse(node))
        prefix = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        if (
            prefix
            and node.func.attr in {"startswith", "endswith", "find", "index"}
            and names & {"secret", "digest"}
        ):
            found.append(ast.unparse(node))
    return found


@pytest.mark.parametrize(
    "function",
    [tokens.verify, tokens.digest, tenant_store.authenticate, throttle.authenticated_tenant],
    ids=lambda f: f.__qualname__,
)
def test_no_early_exit_comparison_touches_a_secret(function: Any) -> None:
    assert _comparisons_on_secrets(function) == []
