"""Every route of both services, fuzzed from their route tables and their admin forms, answers
below 500; a route the fuzzer did not reach fails the test.

Each service runs on both databases with a signed-in admin and seeded data (the portal: a
tenant with users, groups and sync log entries; the provisioning service: a directory, an
application and provisioning log records). The fuzzer (`route_fuzzer.py`) crawls the admin
pages, then sends hostile path values, every query parameter the code reads (found in the
source, so a new one is fuzzed without changing this file) with hostile values, SCIM bodies,
and every POST form of the pages with its fields hostile one at a time and all at once. The
seed is fixed: the same requests every run.
"""

from __future__ import annotations

import html
import random
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest
import sqlalchemy as sa
from starlette.routing import Mount, Route

from enlist.api_tokens import store as token_store
from enlist.db.database import Database
from enlist.lms.api.app import create_app as create_portal
from enlist.lms.api.runtime import Portal
from enlist.lms.api_tokens import api_tokens as lms_tokens
from enlist.provisioning.api_tokens import api_tokens as provisioning_tokens
from enlist.provisioning.logs import store as log_store
from enlist.provisioning.logs.records import LogRecord
from enlist.provisioning.service import Service
from enlist.provisioning.sources.push import operations as push_operations
from enlist.provisioning.store import apps as app_store
from enlist.web.peppers import load_peppers
from enlist.web.tokens import Pepper
from tests.helpers import GROUP, USER, make_tenant
from tests.security.route_fuzzer import SEED, Findings, Form, Fuzzer, required
from tests.web.provisioning_fixtures import APP, load_directory
from tests.web.session import csrf_of, make_admin, sign_in

SRC = Path(__file__).resolve().parents[2] / "src" / "enlist"
QUERY_LINE = re.compile(
    r"query_params|params\.read|\bread(_or)?\(|query_text\(|\bq\.get\(|FILTERS\s*=|query\.get\("
)
VALUES_PER_QUERY_NAME = 2
VALUES_PER_FORM_FIELD = 3


def query_names() -> list[str]:
    """Every query parameter name the services' code reads (string literals on the lines that
    read query parameters); a superset is harmless, a new parameter is included by itself."""
    names: set[str] = set()
    for path in sorted(SRC.rglob("*.py")):
        if "cli" in path.parts:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if QUERY_LINE.search(line):
                names |= set(re.findall(r'"([A-Za-z_]+)"', line))
    return sorted(names)


def test_the_query_names_are_found_in_the_source() -> None:
    found = set(query_names())
    expected = {"startIndex", "count", "filter", "limit", "before", "status", "since", "q", "after", "format"}
    assert expected <= found


async def api_token(db: Database, table: sa.Table, pepper: Pepper, scope: str = "read") -> str:
    """A whole-service token: read for `GET /metrics`, write for the JSON API's write routes."""
    async with db.write() as conn:
        minted = await token_store.create(conn, table, pepper, name="fuzz", scope=scope, expires_at=None)
    return minted.token


async def fuzz(fuzzer: Fuzzer, csrf: str, *, bearer_prefixes: tuple[str, ...] = ()) -> Findings:
    """Crawl; every route: GET with queries, SCIM methods with bodies (before the forms, which
    may revoke the token); static files; the forms; sign-in; logout last."""
    rng = random.Random(SEED)
    await fuzzer.crawl()
    deletes: list[str] = []  # sent after every other bearer request: one may delete what they use
    for route in fuzzer.routes:
        if isinstance(route, Mount):
            for name in ("app.css", "..%2F..%2Fetc%2Fpasswd", "%00", "x" * 300):
                await fuzzer.send("GET", f"{route.path}/{name}")
        if not isinstance(route, Route) or route.path == "/admin/logout":
            continue
        methods = set(route.methods or ()) - {"HEAD"}
        if "GET" in methods:
            await fuzzer.fuzz_queries(route, "GET", rng, VALUES_PER_QUERY_NAME)
        if route.path.startswith(bearer_prefixes):
            for method in sorted(methods & {"POST", "PUT", "PATCH"}):
                await fuzzer.fuzz_bodies(route, method, rng)
            if "DELETE" in methods:
                deletes.extend(fuzzer.concrete_paths(route, rng))
    # The API's DELETEs last of all: one removes the push source (or application) the others use.
    for path in sorted(deletes, key=lambda p: p.startswith("/api/")):
        await fuzzer.send("DELETE", path)
    posted = set()
    for form in fuzzer.forms:
        template = fuzzer.route_of(httpx2.URL(form.action).path)
        if form.method != "POST" or template in (None, "/admin/logout", "/admin/login"):
            continue
        posted.add(template)
        await fuzzer.fuzz_form(form, csrf, rng, VALUES_PER_FORM_FIELD)
    every_field = {k: v for f in fuzzer.forms for k, v in f.fields.items()}
    for route in fuzzer.routes:  # a POST route no page has a form for: the fields of every form
        if not isinstance(route, Route) or "POST" not in (route.methods or ()) or route.path in posted:
            continue
        if route.path.startswith(bearer_prefixes) or route.path in ("/admin/logout", "/admin/login"):
            continue
        path = fuzzer.concrete_paths(route, rng)[0]
        await fuzzer.fuzz_form(Form(path, "POST", every_field), csrf, rng, 1)
    await sign_in_hostile(fuzzer)
    await fuzzer.send("POST", "/admin/logout", data={"csrf_token": csrf})
    return fuzzer.findings


async def sign_in_hostile(fuzzer: Fuzzer) -> None:
    """The sign-in form with its own CSRF token and hostile email and password."""
    page = await fuzzer.client.get("/admin/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text
    for value in ("", "x" * 5000, "a\x00b", "Ωμέγα 😀", "-1"):
        data = {"email": value, "password": value, "csrf_token": html.unescape(token.group(1))}
        await fuzzer.send("POST", "/admin/login", data=data)


def check(findings: Findings, fuzzer: Fuzzer) -> None:
    assert findings.server_errors == [], findings.server_errors[:10]
    missed = sorted(required(fuzzer.routes) - findings.reached)
    assert missed == [], f"routes the fuzzer did not reach: {missed}"


@pytest.fixture
async def portal_client(portal: Portal) -> AsyncIterator[httpx2.AsyncClient]:
    app = create_portal(portal.settings, portal)
    transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx2.AsyncClient(transport=transport, base_url="http://portal.test") as client:
        client.app = app  # type: ignore[attr-defined]
        yield client


async def test_every_portal_route_answers_below_500_to_hostile_input(
    portal: Portal, portal_client: httpx2.AsyncClient
) -> None:
    tenant = await make_tenant(portal, portal_client, "fuzz")
    users = [await tenant.create_user(f"user{i}@example.com") for i in range(3)]
    group = await tenant.create_group("Fuzzers", [u["id"] for u in users])
    await make_admin(portal.db)
    await sign_in(portal_client)
    csrf = csrf_of(await portal_client.get("/admin/tenants"))
    scim_prefix = "/scim/v2/"
    bearer = {"Authorization": f"Bearer {tenant.token}"}
    # One whole-portal write token: `GET /metrics` and every JSON API route, its writes included.
    writer = {
        "Authorization": f"Bearer {await api_token(portal.db, lms_tokens, portal.peppers.current, 'write')}"
    }
    fuzzer = Fuzzer(
        client=portal_client,
        routes=list(portal_client.app.routes),  # type: ignore[attr-defined]
        query_names=query_names(),
        path_values={
            "tenant": [tenant.tenant.slug],
            "id": [users[0]["id"], group["id"], USER, GROUP],
            "rest": ["Nope"],
            "department": [tenant.tenant.slug, "nowhere"],
            "name": ["nobody"],  # not "fuzz": revoking its own token would refuse the rest
        },
        headers_for=lambda path: (
            bearer
            if path.startswith(scim_prefix)
            else writer
            if path.startswith("/api/") or path == "/metrics"
            else {}
        ),
        home="/admin/tenants",
    )
    check(await fuzz(fuzzer, csrf, bearer_prefixes=(scim_prefix, "/api/")), fuzzer)


@pytest.fixture
async def provisioning_client(service: Service) -> AsyncIterator[httpx2.AsyncClient]:
    from enlist.provisioning.api.app import create_app  # noqa: PLC0415

    app = create_app(service.settings, scheduler=False, service=service)
    transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx2.AsyncClient(transport=transport, base_url="http://provisioning.test") as client:
        client.app = app  # type: ignore[attr-defined]
        yield client


async def test_every_provisioning_route_answers_below_500_to_hostile_input(
    service: Service, provisioning_client: httpx2.AsyncClient
) -> None:
    client = provisioning_client
    await make_admin(service.db)
    await sign_in(client)
    csrf = csrf_of(await client.get("/admin/apps"))
    await load_directory(service.db)
    created = await client.post("/admin/apps", data={"name": APP, "kind": "non-gallery", "csrf_token": csrf})
    assert created.status_code == 303, created.text
    async with service.db.write() as conn:
        app = await app_store.get_app(conn, APP)
        base = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
        records = [
            LogRecord(
                cycle_id="c1",
                object_kind="user",
                source_id=f"s{i}",
                source_name=f"u{i}",
                at=base + timedelta(minutes=i),
            )
            for i in range(5)
        ]
        await log_store.write(conn, app.id, records)
    push = await push_operations.add(service, "hr")  # the push endpoint, fuzzed with its token

    async def follow_rotation(response: httpx2.Response) -> None:
        # POST /api/v1/sources/hr/rotate-token mints the push source's token the fuzzer then needs
        if response.url.path.endswith("/rotate-token") and response.status_code == 200:
            await response.aread()
            push["token"] = response.json()["token"]

    client.event_hooks["response"].append(follow_rotation)
    pepper = load_peppers(service.settings).current
    writer = await api_token(service.db, provisioning_tokens, pepper, scope="write")
    scraper = {"Authorization": f"Bearer {writer}"}

    def headers_for(path: str) -> dict[str, str]:
        if path.startswith("/scim/"):
            return {"Authorization": f"Bearer {push['token']}"}
        if path == "/metrics":
            return scraper
        if path.startswith("/api/"):  # the JSON API's writes, with a write token (and, since the
            # fuzzer's client also holds the admin session, that session's CSRF token)
            return {"Accept": "application/json", "Authorization": f"Bearer {writer}", "X-CSRF-Token": csrf}
        return {}

    fuzzer = Fuzzer(
        client=client,
        routes=list(client.app.routes),  # type: ignore[attr-defined]
        query_names=query_names(),
        path_values={
            "app": [APP],
            "name": [APP],
            "object": ["user", "group"],
            "source": ["hr"],
            "target": ["displayName", "userName"],
            "job": ["unknown"],
        },
        headers_for=headers_for,
        home="/admin/apps",
    )
    findings = await fuzz(fuzzer, csrf, bearer_prefixes=("/scim/v2/sources/", "/api/"))
    check(findings, fuzzer)
