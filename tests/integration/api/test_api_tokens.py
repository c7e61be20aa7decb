"""API tokens from the command line to the JSON API, on both services and both databases."""

from __future__ import annotations

import json
import re

import sqlalchemy as sa
from starlette.routing import Route

from enlist.api_tokens.door import SCOPE_ATTRIBUTE
from enlist.provisioning.service import Service
from tests.integration.api.conftest import Side, create_token, enlist, expire

CREATE_KEYS = {"name", "token", "scope", "expires_at"}
PATH_VALUES = {
    "tenant": "acme",
    "name": "Portal",
    "job": "no-such-sync",
    "object": "user",
    "target": "displayName",
    "source": "no-such-source",
    "department": "acme",
    "rule": "1",
    "user": "no-such-user",
}
"""A value for each path parameter the /api routes take (an existing tenant, application)."""


def api_routes(side: Side) -> list[Route]:
    routes = [r for r in side.app.routes if isinstance(r, Route) and r.path.startswith("/api/")]
    assert routes, "the service has /api routes"
    return routes


def concrete(route: Route) -> str:
    """The route's path with every parameter filled in (an unknown parameter fails the test, so
    a new route cannot slip past the walk)."""
    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: PATH_VALUES[m[1]], route.path)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_create_json_prints_exactly_the_contract_keys_and_the_token_once(
    side: Side, service: Service
) -> None:
    created = await create_token(service, side, "ci", "--scope", "write", "--expires", "90d")

    assert set(created) == CREATE_KEYS
    assert created["name"] == "ci"
    assert created["scope"] == "write"
    assert created["expires_at"] is not None
    async with side.db.read() as conn:
        stored = (await conn.execute(sa.select(side.table))).one()._mapping
    assert created["token"] not in {str(v) for v in stored.values()}  # only its digest is kept
    code, listed, _ = await enlist(service, side.command, "api-token", "list", "--json")
    assert code == 0
    assert created["token"] not in listed


async def test_list_shows_name_scope_created_last_used_and_expiry(side: Side, service: Service) -> None:
    await create_token(service, side, "reader")
    await create_token(service, side, "writer", "--scope", "write", "--expires", "12h")

    code, out, _ = await enlist(service, side.command, "api-token", "list", "--json")

    assert code == 0
    rows = {row["name"]: row for row in json.loads(out)}
    assert set(rows) == {"reader", "writer"}
    assert rows["reader"]["scope"] == "read"
    assert rows["reader"]["expires_at"] is None
    assert rows["writer"]["scope"] == "write"
    assert rows["writer"]["expires_at"] is not None
    assert all(
        r["created_at"] and r["last_used_at"] is None and r["revoked_at"] is None for r in rows.values()
    )


async def test_a_token_reads_the_api_and_its_use_is_recorded_once_a_minute(
    side: Side, service: Service
) -> None:
    created = await create_token(service, side, "reader")
    route = api_routes(side)[0]

    first = await side.client.get(concrete(route), headers=bearer(created["token"]))
    async with side.db.read() as conn:
        used = (await conn.execute(sa.select(side.table.c.last_used_at))).scalar_one()
    second = await side.client.get(concrete(route), headers=bearer(created["token"]))
    async with side.db.read() as conn:
        again = (await conn.execute(sa.select(side.table.c.last_used_at))).scalar_one()

    assert first.status_code == 200, first.text
    assert second.status_code == 200
    assert used is not None
    assert again == used  # the second use, within the minute, wrote nothing


async def test_revoke_refuses_the_token_from_the_next_request_on(side: Side, service: Service) -> None:
    created = await create_token(service, side, "ci")
    path = concrete(api_routes(side)[0])
    assert (await side.client.get(path, headers=bearer(created["token"]))).status_code == 200

    code, _, _ = await enlist(service, side.command, "api-token", "revoke", "ci")
    refused = await side.client.get(path, headers=bearer(created["token"]))

    assert code == 0
    assert refused.status_code == 401
    code, out, _ = await enlist(service, side.command, "api-token", "list", "--json")
    assert json.loads(out)[0]["revoked_at"] is not None


async def test_revoking_an_unknown_name_or_reusing_a_live_one_fails_with_a_message(
    side: Side, service: Service
) -> None:
    await create_token(service, side, "ci")

    twice = await enlist(service, side.command, "api-token", "create", "ci")
    unknown = await enlist(service, side.command, "api-token", "revoke", "nobody")
    bad_expiry = await enlist(service, side.command, "api-token", "create", "x", "--expires", "soon")

    assert twice[0] == 1
    assert "already named 'ci'" in twice[2]
    assert unknown[0] == 1
    assert "no live API token is named 'nobody'" in unknown[2]
    assert bad_expiry[0] == 1
    assert "not an expiry" in bad_expiry[2]


async def test_an_expired_token_is_refused(side: Side, service: Service) -> None:
    created = await create_token(service, side, "ci", "--expires", "1h")
    path = concrete(api_routes(side)[0])
    assert (await side.client.get(path, headers=bearer(created["token"]))).status_code == 200

    await expire(side, "ci")

    assert (await side.client.get(path, headers=bearer(created["token"]))).status_code == 401


async def test_every_api_route_declares_a_scope_and_refuses_missing_revoked_expired_and_weaker_tokens(
    side: Side, service: Service
) -> None:
    """The class: every /api route of the app (walked, not listed) goes through the door."""
    reader = (await create_token(service, side, "reader"))["token"]
    writer = (await create_token(service, side, "writer", "--scope", "write"))["token"]
    revoked = (await create_token(service, side, "revoked", "--scope", "write"))["token"]
    expired = (await create_token(service, side, "expired", "--scope", "write", "--expires", "1h"))["token"]
    assert (await enlist(service, side.command, "api-token", "revoke", "revoked"))[0] == 0
    await expire(side, "expired")

    for route in api_routes(side):
        needed = getattr(route.endpoint, SCOPE_ATTRIBUTE, None)
        assert needed in ("read", "write"), f"{route.path} does not declare requires(scope)"
        path = concrete(route)
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            answers = {
                "none": await side.client.request(method, path),
                "revoked": await side.client.request(method, path, headers=bearer(revoked)),
                "expired": await side.client.request(method, path, headers=bearer(expired)),
                "wrong": await side.client.request(method, path, headers=bearer(writer[:-4] + "AAAA")),
            }
            assert {k: r.status_code for k, r in answers.items()} == dict.fromkeys(answers, 401), path
            allowed = await side.client.request(method, path, headers=bearer(writer))
            assert allowed.status_code not in (401, 403), (path, allowed.text)
            with_reader = await side.client.request(method, path, headers=bearer(reader))
            assert with_reader.status_code == (403 if needed == "write" else allowed.status_code), path
            for refused in (answers["revoked"], answers["expired"]):
                body = refused.json()
                assert body.get("error"), body  # the API's own error shape (the same on both services)


async def test_no_api_route_of_either_service_mints_an_api_token(side: Side, service: Service) -> None:
    """The class: every /api route, every method, called by a write token with a body asking for
    a token; the service's tokens are still only the one a person minted (ADR 0030, updated)."""
    writer = (await create_token(service, side, "writer", "--scope", "write"))["token"]
    asked = {"name": "minted", "scope": "write", "expires": "90d"}

    for route in api_routes(side):
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            await side.client.request(method, concrete(route), headers=bearer(writer), json=asked)
    async with side.db.read() as conn:
        names = (await conn.execute(sa.select(side.table.c.name))).scalars().all()

    assert names == ["writer"]


async def test_a_portal_token_of_one_tenant_opens_only_that_tenant(
    portal_side: Side, service: Service
) -> None:
    acme = await create_token(service, portal_side, "acme-ci", "--tenant", "acme")
    whole = await create_token(service, portal_side, "portal-ci")

    own = await portal_side.client.get("/api/v1/tenants/acme/sync-log", headers=bearer(acme["token"]))
    other = await portal_side.client.get("/api/v1/tenants/globex/sync-log", headers=bearer(acme["token"]))
    any_tenant = await portal_side.client.get(
        "/api/v1/tenants/globex/sync-log", headers=bearer(whole["token"])
    )
    code, listed, _ = await enlist(service, "lms", "api-token", "list", "--tenant", "acme", "--json")

    assert code == 0
    assert own.status_code == 200
    assert other.status_code == 403
    assert any_tenant.status_code == 200
    assert [row["name"] for row in json.loads(listed)] == ["acme-ci"]


async def test_the_provisioning_api_still_opens_to_a_signed_in_admin(provisioning_side: Side) -> None:
    from tests.web.conftest import Site  # noqa: PLC0415
    from tests.web.provisioning_fixtures import signed_in  # noqa: PLC0415

    site = Site("provisioning", provisioning_side.client, provisioning_side.db, "/admin/apps", "x")
    await signed_in(site)

    readable = [
        r for r in api_routes(provisioning_side) if "GET" in (r.methods or {"GET"}) and "{job}" not in r.path
    ]
    for route in readable:
        assert (await provisioning_side.client.get(concrete(route))).status_code == 200, route.path


async def test_a_write_route_refuses_a_read_token_with_403_and_takes_a_write_token(
    provisioning_side: Side, service: Service
) -> None:
    """Today's /api routes only read; a route that writes declares `requires("write")` and gets this."""
    from starlette.requests import Request  # noqa: PLC0415
    from starlette.responses import JSONResponse, Response  # noqa: PLC0415

    from enlist.api_tokens.door import requires  # noqa: PLC0415

    @requires("write")
    async def change(_request: Request) -> Response:
        return JSONResponse({"changed": True})

    provisioning_side.app.router.routes.append(Route("/api/v1/test-write", change, methods=["POST"]))
    reader = (await create_token(service, provisioning_side, "reader"))["token"]
    writer = (await create_token(service, provisioning_side, "writer", "--scope", "write"))["token"]

    refused = await provisioning_side.client.post("/api/v1/test-write", headers=bearer(reader))
    done = await provisioning_side.client.post("/api/v1/test-write", headers=bearer(writer))

    assert refused.status_code == 403
    assert "--scope write" in refused.json()["error"]["hint"]
    assert done.status_code == 200


def test_the_api_token_commands_of_the_contract_exist_on_both_services() -> None:
    from enlist.cli import main  # noqa: PLC0415

    def options(*path: str) -> set[str]:
        group = main
        for name in path:
            group = group.get_command(None, name)  # type: ignore[arg-type, assignment, union-attr]
        return {opt for param in group.params for opt in getattr(param, "opts", [])}

    for service, extra in (("provisioning", set()), ("lms", {"--tenant"})):
        assert {"--scope", "--expires", "--json"} | extra <= options(service, "api-token", "create")
        assert {"--json"} | extra <= options(service, "api-token", "list")
        assert extra <= options(service, "api-token", "revoke")
