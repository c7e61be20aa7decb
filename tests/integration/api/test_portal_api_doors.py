"""The portal API's door and its one error shape, walked over every /api route (from the route
table, not a list) through real HTTP, on SQLite and PostgreSQL; and its OpenAPI description
against the same route table."""

from __future__ import annotations

from typing import Any

import httpx2
from openapi_spec_validator import validate

from enlist.api_tokens.door import SCOPE_ATTRIBUTE
from tests.integration.api.portal_api import PortalApi, api, bearer, concrete

__all__ = ["api"]  # the fixture


def assert_error_shape(answer: httpx2.Response) -> dict[str, Any]:
    """The one error shape of both services' APIs, every part a sentence."""
    body = answer.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "hint"}, error
    assert all(isinstance(v, str) and v.strip() for v in error.values()), error
    return dict(error)


DESCRIPTION = "/api/openapi.json"
"""The one route that shows no tenant's data: any token of the portal reads it."""


def walked(api: PortalApi) -> list[tuple[str, str, str, bool]]:
    """(method, path, scope needed, per tenant) of every /api route."""
    found: list[tuple[str, str, str, bool]] = []
    for route in api.routes:
        needed = getattr(route.endpoint, SCOPE_ATTRIBUTE, None)
        assert needed in ("read", "write"), f"{route.path} does not go through the door"
        methods = sorted((route.methods or {"GET"}) - {"HEAD"})
        found.extend((method, concrete(route.path), needed, "{tenant}" in route.path) for method in methods)
    assert len(found) >= 20, found  # every write the CLI has
    return found


async def test_every_api_route_refuses_each_kind_of_wrong_token_in_the_one_error_shape(
    api: PortalApi,
) -> None:
    """The class: every route by (no token, a bad one, revoked, expired, read on a write, a
    token of another tenant): 401, 401, 401, 401, 403, 403, each in the one shape."""
    real = api.tokens["portal-write"]
    cases = {
        "none": (None, 401),
        "bad": (real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB"), 401),
        "not a token": ("not-a-token", 401),
        "revoked": (api.tokens["revoked"], 401),
        "expired": (api.tokens["expired"], 401),
        "other tenant": (api.tokens["globex-write"], 403),
    }
    answers: dict[tuple[str, str, str], int] = {}
    wanted: dict[tuple[str, str, str], int] = {}
    for method, path, needed, _per_tenant in walked(api):
        for case, (token, status) in cases.items():
            if case == "other tenant" and path == DESCRIPTION:
                continue
            headers = bearer(token) if token else {}
            answer = await api.http.request(method, path, headers=headers, json={})
            answers[method, path, case] = answer.status_code
            wanted[method, path, case] = status
            assert_error_shape(answer)
            if status == 401:
                assert answer.headers["www-authenticate"].startswith("Bearer"), (method, path, case)
        if needed == "write":
            answer = await api.call(method, path, api.tokens["portal-read"], json={})
            answers[method, path, "read on write"] = answer.status_code
            wanted[method, path, "read on write"] = 403
            assert "--scope write" in assert_error_shape(answer)["hint"]

    assert answers == wanted


async def test_a_token_of_the_tenant_or_of_the_portal_opens_every_tenant_route(api: PortalApi) -> None:
    opened: dict[tuple[str, str, str], bool] = {}
    for method, path, needed, per_tenant in walked(api):
        holders = ["portal-write"] + (["acme-write"] if per_tenant else [])
        holders += ["portal-read"] + (["acme-read"] if per_tenant else []) if needed == "read" else []
        for holder in holders:
            answer = await api.call(method, path, api.tokens[holder], json={})
            opened[method, path, holder] = answer.status_code not in (401, 403)

    assert all(opened.values()), [k for k, v in opened.items() if not v]


async def test_a_tenant_token_is_refused_on_every_portal_wide_route_and_sees_no_other_tenant(
    api: PortalApi,
) -> None:
    """A token limited to acme cannot list tenants, list or revoke the portal's tokens, create a
    tenant, nor learn whether another tenant exists: 403 alike for globex and a made-up slug."""
    acme = api.tokens["acme-write"]
    refused = {
        (method, path): (await api.call(method, path, acme, json={})).status_code
        for method, path, _needed, per_tenant in walked(api)
        if not per_tenant and path != DESCRIPTION
    }
    for slug in ("globex", "no-such-tenant"):
        refused["GET", f"/api/v1/tenants/{slug}"] = (
            await api.call("GET", f"/api/v1/tenants/{slug}", acme)
        ).status_code

    own = (await api.call("GET", "/api/v1/tenants/acme/api-tokens", acme)).json()

    assert set(refused.values()) == {403}, refused
    assert {t["name"] for t in own} == {"acme-write", "acme-read"}


async def test_answers_before_any_route_are_in_the_one_error_shape(api: PortalApi) -> None:
    """No route, no such method, a bad parameter, a body that is no JSON object, a path no
    database can store, an unknown tenant: each in the one shape, with its status."""
    token = api.tokens["portal-write"]
    answers = {
        "no route": await api.call("GET", "/api/v1/nothing-here", token),
        "no method": await api.call("PUT", "/api/v1/tenants", token),
        "bad parameter": await api.call("GET", "/api/v1/tenants/acme/sync-log?limit=0", token),
        "bad format": await api.call("GET", "/api/v1/tenants/acme/policy-document?format=xml", token),
        "not JSON": await api.call("POST", "/api/v1/tenants", token, content=b"{"),
        "not an object": await api.call("POST", "/api/v1/tenants", token, json=[1]),
        "NUL in path": await api.call("GET", "/api/v1/tenants/ac%00me", token),
        "unknown tenant": await api.call("GET", "/api/v1/tenants/nobody", token),
        "too large": await api.call(
            "POST", "/api/v1/tenants", token, content=b" " * (api.portal.settings.max_body_bytes + 1)
        ),
    }

    statuses = {case: answer.status_code for case, answer in answers.items()}
    assert statuses == {
        "no route": 404,
        "no method": 405,
        "bad parameter": 400,
        "bad format": 400,
        "not JSON": 400,
        "not an object": 400,
        "NUL in path": 404,
        "unknown tenant": 404,
        "too large": 413,
    }
    for answer in answers.values():
        assert_error_shape(answer)


async def test_the_description_lists_every_api_route_and_no_other_and_is_valid_openapi(
    api: PortalApi,
) -> None:
    answer = await api.call("GET", "/api/openapi.json", api.tokens["acme-read"])

    assert answer.status_code == 200, answer.text
    document = answer.json()
    described = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    routed = {(m, r.path) for r in api.routes for m in (r.methods or {"GET"}) - {"HEAD"}}
    assert described == routed, {"undescribed": routed - described, "unrouted": described - routed}
    validate(document)
    errors = {
        response["$ref"]
        for item in document["paths"].values()
        for operation in item.values()
        for status, response in operation["responses"].items()
        if status.startswith("4")
    }
    assert errors == {"#/components/responses/Error"}
    assert document["components"]["schemas"]["Error"]["properties"]["error"]["required"] == [
        "code",
        "message",
        "hint",
    ]
