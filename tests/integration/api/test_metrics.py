"""`GET /metrics` on both services: who may scrape it, and that its numbers move as requests,
SCIM operations and cycles happen, by exactly what happened."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import httpx2
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from enlist.api_tokens.model import REFUSALS
from enlist.lms.api.app import create_app as create_portal_app
from enlist.lms.api.runtime import Portal
from enlist.lms.store import tenants as tenant_store
from enlist.lms.store.tables import tenants
from enlist.provisioning.api.app import create_app as create_provisioning_app
from enlist.provisioning.service import Service
from enlist.provisioning.store.tables import escrows
from tests.e2e.engine_harness import assign_groups, harness
from tests.e2e.scenario_helpers import base
from tests.helpers import USER
from tests.integration.api.conftest import Side, create_token, enlist, expire

ADA = {"schemas": [USER], "userName": "ada@contoso.com", "active": True}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

ROUTE = re.compile(r"unmatched|(/[A-Za-z0-9_.-]*|/\{[a-z_]+(:[a-z]+)?\})+/?")
SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
WORD = re.compile(r"[A-Za-z][A-Za-z_-]{0,31}")
SHAPES: dict[str, re.Pattern[str] | set[str]] = {
    "service": {"lms", "provisioning"},
    "route": ROUTE,
    "method": {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"},
    "status": re.compile(r"[1-5]\d\d|success|failure|skipped|warning"),
    "tenant": SLUG,  # and, checked below, a slug of the tenants table
    "resource": WORD,
    "outcome": WORD,
    "kind": WORD,
    "reason": {*REFUSALS, "throttled"},
    "object_kind": WORD,
    "action": WORD,
    "engine": {"read", "write"},
    "state": WORD,
    "reference": {"true", "false"},
    "le": re.compile(r"[0-9.e+]+|\+Inf"),
}
"""Every label a scrape may carry, and the shape of its values: none can hold a request's text."""


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def scrape(client: httpx2.AsyncClient, token: str) -> Samples:
    answer = await client.get("/metrics", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(answer.text):
        assert family.name.startswith("enlist_"), family.name
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much every sample of `name` whose labels include `labels` grew, added up."""
    wanted = set(labels.items())

    def total(samples: Samples) -> float:
        return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)

    return total(after) - total(before)


def value(samples: Samples, name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= ls)


async def test_metrics_answers_only_a_live_api_token_of_its_service(side: Side, service: Service) -> None:
    live = (await create_token(service, side, "scraper"))["token"]
    revoked = (await create_token(service, side, "old"))["token"]
    expired = (await create_token(service, side, "short", "--expires", "1h"))["token"]
    assert (await enlist(service, side.command, "api-token", "revoke", "old"))[0] == 0
    await expire(side, "short")

    refused = {
        "none": await side.client.get("/metrics"),
        "not a token": await side.client.get("/metrics", headers=bearer("secret")),
        "revoked": await side.client.get("/metrics", headers=bearer(revoked)),
        "expired": await side.client.get("/metrics", headers=bearer(expired)),
    }

    assert {k: r.status_code for k, r in refused.items()} == dict.fromkeys(refused, 401)
    assert (await side.client.get("/metrics", headers=bearer(live))).status_code == 200


async def test_a_tenant_token_or_secret_token_does_not_open_the_portals_metrics(
    portal_side: Side, service: Service
) -> None:
    tenant_token = (await create_token(service, portal_side, "acme-ci", "--tenant", "acme"))["token"]
    async with portal_side.db.write() as conn:
        secret = await tenant_store.add_token(
            conn, await tenant_store.get_tenant(conn, "acme"), portal_side.service.peppers.current
        )

    # a valid token that may not see every tenant: 403; a Secret token is no API token: 401
    assert (await portal_side.client.get("/metrics", headers=bearer(tenant_token))).status_code == 403
    assert (await portal_side.client.get("/metrics", headers=bearer(secret))).status_code == 401


async def test_scim_requests_move_the_request_scim_and_token_failure_counts_by_what_happened(
    portal_side: Side, service: Service
) -> None:
    scraper = (await create_token(service, portal_side, "scraper"))["token"]
    async with portal_side.db.write() as conn:
        secret = await tenant_store.add_token(
            conn, await tenant_store.get_tenant(conn, "acme"), portal_side.service.peppers.current
        )
    http = portal_side.client
    before = await scrape(http, scraper)

    created = await http.post("/scim/v2/acme/Users", json=ADA, headers=bearer(secret))
    listed = await http.get("/scim/v2/acme/users", headers=bearer(secret))  # any case: one template
    again = await http.post("/scim/v2/acme/Users", json=ADA, headers=bearer(secret))  # 409
    wrong = await http.get("/scim/v2/acme/Users", headers=bearer("enl_wrong"))
    after = await scrape(http, scraper)

    assert (created.status_code, listed.status_code, again.status_code, wrong.status_code) == (
        201,
        200,
        409,
        401,
    )
    users = {"service": "lms", "route": "/scim/v2/{tenant}/Users"}
    assert moved(before, after, "enlist_http_requests_total", **users, method="POST", status="201") == 1
    assert moved(before, after, "enlist_http_requests_total", **users, method="POST", status="409") == 1
    assert moved(before, after, "enlist_http_requests_total", **users, method="GET", status="200") == 1
    assert moved(before, after, "enlist_http_requests_total", **users, method="GET", status="401") == 1
    assert moved(before, after, "enlist_http_request_duration_seconds_count", **users) == 4
    scim = {"tenant": "acme", "resource": "Users"}
    assert moved(before, after, "enlist_scim_operations_total", **scim, method="POST", outcome="success") == 1
    assert (
        moved(before, after, "enlist_scim_operations_total", **scim, method="POST", outcome="client_error")
        == 1
    )
    assert moved(before, after, "enlist_scim_operations_total", **scim, method="GET", outcome="success") == 1
    assert moved(before, after, "enlist_scim_operations_total") == 3  # the refused one names no tenant
    assert moved(before, after, "enlist_token_failures_total", kind="secret", reason="unknown") == 1
    scrapes = {"service": "lms", "route": "/metrics", "method": "GET", "status": "200"}
    assert moved(before, after, "enlist_http_requests_total", **scrapes) == 1  # the first scrape
    assert value(after, "enlist_db_pool_connections") >= 0


@pytest.fixture
async def provisioning_http(service: Service) -> AsyncIterator[httpx2.AsyncClient]:
    app = create_provisioning_app(service.settings, scheduler=False, service=service)
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://provisioning.test"
    ) as client:
        yield client


async def service_token(service: Service) -> str:
    code, out, err = await enlist(service, "provisioning", "api-token", "create", "scraper", "--json")
    assert code == 0, err
    token: str = json.loads(out)["token"]
    return token


async def test_a_cycle_moves_the_cycle_and_object_counts_and_the_gauges_read_the_database(
    portal: Portal, service: Service, provisioning_http: httpx2.AsyncClient
) -> None:
    scraper = await service_token(service)
    h = await harness(portal, service)
    await h.load(base())
    await assign_groups(h, "Engineering", "Sales")
    before = await scrape(provisioning_http, scraper)

    summary, _ = await h.sync()
    after = await scrape(provisioning_http, scraper)

    assert summary.status == "succeeded", summary
    assert summary.counts["created"] > 0
    assert moved(before, after, "enlist_cycles_total", kind=summary.kind, outcome="succeeded") == 1
    assert moved(before, after, "enlist_cycles_total") == 1
    assert moved(before, after, "enlist_cycle_duration_seconds_count", kind=summary.kind) == 1
    created = moved(before, after, "enlist_objects_processed_total", action="create", status="success")
    assert created == summary.counts["created"]
    assert (
        moved(before, after, "enlist_objects_processed_total", status="failure") == summary.counts["failed"]
    )
    async with service.db.read() as conn:
        escrowed = (await conn.execute(sa.select(sa.func.count()).select_from(escrows))).scalar_one()
    assert value(after, "enlist_escrow_objects") == escrowed
    assert value(after, "enlist_applications", state="active") == 1
    assert value(after, "enlist_quarantined_applications") == 0


async def test_every_label_value_of_a_scrape_has_an_allowed_shape(
    portal: Portal, service: Service, provisioning_http: httpx2.AsyncClient
) -> None:
    """After SCIM traffic (with made-up paths, tenants and tokens) and a cycle, no label value of
    either service's scrape carries anything but a known shape, and the tenant of every series
    that moved is a tenant of the table (the registry is the process's: earlier tests' tenants
    may be in it too)."""
    code, out, _ = await enlist(service, "lms", "api-token", "create", "scraper", "--json")
    assert code == 0
    portal_token = json.loads(out)["token"]
    service_scraper = await service_token(service)
    app = create_portal_app(portal.settings, portal)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://p.test") as http:
        before = await scrape(http, portal_token)
        h = await harness(portal, service)
        await h.load(base())
        await assign_groups(h, "Engineering")
        await h.sync()
        for path in (
            '/scim/v2/acme/Users?filter=userName eq "ada@x"',
            "/scim/v2/nobody/Users/ada",
            "/no/such/ada",
        ):
            await http.get(path, headers=bearer(h.token))
        await http.get("/scim/v2/acme/Users", headers=bearer("enl_ada@contoso.com"))
        samples = {**await scrape(http, portal_token), **await scrape(provisioning_http, service_scraper)}
    async with portal.db.read() as conn:
        slugs = set((await conn.execute(sa.select(tenants.c.slug))).scalars())

    seen: dict[str, set[str]] = {}
    for _name, labels in samples:
        for label, text in labels:
            seen.setdefault(label, set()).add(text)
    for label, texts in seen.items():
        assert label in SHAPES, f"label {label!r} has no allowed shape"
        shape = SHAPES[label]
        for text in texts:
            assert text in shape if isinstance(shape, set) else shape.fullmatch(text), (label, text)
    moved_tenants = {
        dict(labels)["tenant"]
        for (name, labels), v in samples.items()
        if "tenant" in dict(labels) and v != before.get((name, labels), 0)
    }
    assert moved_tenants == {"acme"}
    assert moved_tenants <= slugs
    assert not any("ada" in text or "nobody" in text for texts in seen.values() for text in texts)


def test_label_shapes_reject_what_a_request_could_send() -> None:
    """The allow-list itself can fail: a raw path, an email, a made-up status."""
    assert not ROUTE.fullmatch("/scim/v2/acme/Users?filter=x")
    assert not SLUG.fullmatch("ada@contoso.com")
    assert not WORD.fullmatch("ada@contoso.com")
    assert not isinstance(SHAPES["status"], set)
    assert not SHAPES["status"].fullmatch("20x")
