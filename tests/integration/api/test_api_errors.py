"""Every refusal of the provisioning API, over real HTTP on both databases, is the one error shape
`{"error": {"code", "message", "hint"}}`: the token door's (no token, a malformed or unknown
token, a revoked or expired one, a read token on a write) on every /api route, an unknown
address, a wrong method."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx2
from starlette.routing import Route

from enlist.api_tokens.door import SCOPE_ATTRIBUTE
from enlist.db.rows import now
from enlist.provisioning.api.app import create_app
from enlist.provisioning.api_tokens import api_tokens
from enlist.provisioning.service import Service
from tests.integration.api.conftest import enlist
from tests.integration.api.http import assert_error_shape, token

PATH_VALUES = {"name": "Portal", "job": "no-such-job", "object": "user", "target": "title", "source": "x"}


def walked(service: Service) -> list[tuple[str, str, str]]:
    """(method, concrete path, scope) of every /api route, walked from the app's route table."""
    app = create_app(service.settings, scheduler=False, service=service)
    found = [
        (method, re.sub(r"{(\w+)(?::\w+)?}", lambda m: PATH_VALUES[m[1]], route.path), needed)
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith("/api/")
        for needed in [getattr(route.endpoint, SCOPE_ATTRIBUTE, None)]
        for method in sorted((route.methods or {"GET"}) - {"HEAD"})
    ]
    assert {needed for _, _, needed in found} == {"read", "write"}, found
    return found


async def test_every_api_route_refuses_each_bad_token_in_the_one_error_shape(
    service: Service, api: httpx2.AsyncClient
) -> None:
    reader = await token(service, "dashboard", "read")
    revoked = await token(service, "old", "write")
    expired = await token(service, "short", "write")
    assert (await enlist(service, "provisioning", "api-token", "revoke", "old"))[0] == 0
    async with service.db.write() as conn:
        await conn.execute(
            api_tokens.update()
            .where(api_tokens.c.name == "short")
            .values(expires_at=now() - timedelta(seconds=1))
        )
    refusals = {
        "none": ({}, 401, "MissingToken"),
        "not a token": ({"Authorization": "Bearer nonsense"}, 401, "InvalidToken"),
        "unknown": ({"Authorization": reader["Authorization"][:-4] + "AAAA"}, 401, "InvalidToken"),
        "revoked": (revoked, 401, "InvalidToken"),
        "expired": (expired, 401, "InvalidToken"),
    }

    routes = walked(service)
    for method, path, needed in routes:
        for why, (headers, status, code) in refusals.items():
            answer = await api.request(method, path, headers=headers)
            assert assert_error_shape(answer, status)["code"] == code, (method, path, why)
            assert answer.headers["www-authenticate"].startswith("Bearer"), (method, path, why)
        if needed == "write":
            answer = await api.request(method, path, headers=reader)
            error = assert_error_shape(answer, 403)
            assert error["code"] == "InsufficientScope", (method, path)
            assert "--scope write" in error["hint"], error

    assert len(routes) >= 35, len(routes)


async def test_an_unknown_api_address_and_a_wrong_method_answer_in_the_one_error_shape(
    service: Service, api: httpx2.AsyncClient
) -> None:
    reader = await token(service, "dashboard", "read")

    unknown = await api.get("/api/v1/nothing-here", headers=reader)
    wrong_method = await api.put("/api/v1/apps", headers=reader)
    unstorable = await api.get("/api/v1/apps/a%00b", headers=reader)
    bad_parameter = await api.get("/api/v1/apps/Portal/logs?limit=many", headers=reader)
    page = await api.get("/no-such-page")

    assert assert_error_shape(unknown, 404)["code"] == "NotFound"
    assert assert_error_shape(wrong_method, 405)["code"] == "MethodNotAllowed"
    assert "GET" in wrong_method.headers["allow"]
    assert assert_error_shape(unstorable, 404)["code"] == "NotFound"
    assert assert_error_shape(bad_parameter, 400)["code"] == "BadParameter"
    assert (page.status_code, page.text) == (404, "Not Found")  # elsewhere, Starlette's own answer
