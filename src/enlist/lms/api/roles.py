"""The portal's JSON API for roles and smart groups (issue 14), on `enlist.lms.role_operations`.

    GET    /api/v1/tenants/{tenant}/role-rules                 the rules, oldest first
    POST   /api/v1/tenants/{tenant}/role-rules                 {"group", "role", "department"?} → 201
    DELETE /api/v1/tenants/{tenant}/role-rules/{rule}          → 204
    GET    /api/v1/tenants/{tenant}/smart-groups               the smart groups by name
    POST   /api/v1/tenants/{tenant}/smart-groups               {"name", "rule"} → 201
    GET    /api/v1/tenants/{tenant}/smart-groups/{name}        the group and its members now
    DELETE /api/v1/tenants/{tenant}/smart-groups/{name}        → 204
    GET    /api/v1/tenants/{tenant}/users/{user}/access        the user's roles and smart groups, with reasons

Reads take what the sync-log API takes (an API token, or the tenant's Secret token). Writes take
an API token with the `write` scope only: a Secret token is the identity provider's, and the
identity provider grants roles through group memberships, not by writing the rules. Errors are
SCIM `Error` bodies, as the rest of the portal's API answers them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from enlist.api_tokens.door import api_token_of, requires
from enlist.lms import role_operations as ops
from enlist.lms.api.admin import tenant_of
from enlist.lms.api.responses import scim_error_response
from enlist.lms.api.runtime import portal_of
from enlist.lms.domain.tenants import Tenant
from enlist.scim.errors import ScimError, invalid_value, not_found, unauthorized

BASE = "/api/v1/tenants/{tenant}"
MAX_BODY = 64 * 1024  # a rule is a short filter: anything longer is not one

Work = Callable[[Request, AsyncConnection, Tenant], Awaitable[Response]]


def _endpoint(work: Work, *, write: bool) -> Callable[[Request], Awaitable[Response]]:
    """Open the tenant, run `work` in a transaction, and answer an admin's mistake as a 400 (404
    for something not found) with its message."""

    async def endpoint(request: Request) -> Response:
        portal = portal_of(request)
        try:
            if write and api_token_of(request) is None:
                raise unauthorized(
                    "changing role rules and smart groups takes an API token with --scope write"
                )
            tenant = await tenant_of(portal, request)
            opened = portal.db.write() if write else portal.db.read()
            async with opened as conn:
                return await work(request, conn, tenant)
        except ScimError as error:
            return scim_error_response(error)
        except ops.UnknownUserError:
            return scim_error_response(not_found("no user of this tenant has this id"))
        except ops.NOT_FOUND as exc:
            return scim_error_response(not_found(str(exc)))
        except ops.EXPECTED as exc:
            return scim_error_response(invalid_value(str(exc)))

    endpoint.__name__ = work.__name__
    return requires("write" if write else "read")(endpoint)


async def _body(request: Request, *names: str) -> dict[str, str | None]:
    """The JSON object's string members `names` (missing ones None); 400 for anything else."""
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise invalid_value(f"the body is longer than {MAX_BODY} bytes")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise invalid_value("the body is not JSON") from None
    if not isinstance(body, dict):
        raise invalid_value("the body is a JSON object")
    picked: dict[str, str | None] = {}
    for name in names:
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            raise invalid_value(f"{name} is a string")
        picked[name] = value
    return picked


async def list_rules(_request: Request, conn: AsyncConnection, tenant: Tenant) -> Response:
    return JSONResponse([rule.to_json() for rule in await ops.list_role_rules(conn, tenant)])


async def add_rule(request: Request, conn: AsyncConnection, tenant: Tenant) -> Response:
    body = await _body(request, "group", "role", "department")
    rule = await ops.add_role_rule(conn, tenant, body["group"] or "", body["role"] or "", body["department"])
    return JSONResponse(rule.to_json(), status_code=201)


async def remove_rule(request: Request, conn: AsyncConnection, tenant: Tenant) -> Response:
    text = str(request.path_params["rule"])
    if not text.isdigit() or len(text) > 18:  # 18 digits always fit the integer column
        raise not_found(f"tenant {tenant.slug!r} has no role rule {text!r}")
    await ops.remove_role_rule(conn, tenant, int(text))
    return Response(status_code=204)


async def list_smart(_request: Request, conn: AsyncConnection, tenant: Tenant) -> Response:
    return JSONResponse([group.to_json() for group in await ops.list_smart_groups(conn, tenant)])


async def add_smart(request: Request, conn: AsyncConnection, tenant: Tenant) -> Response:
    body = await _body(request, "name", "rule")
    group = await ops.add_smart_group(conn, tenant, body["name"] or "", body["rule"] or "")
    return JSONResponse(group.to_json(), status_code=201)


async def show_smart(request: Request, conn: AsyncConnection, tenant: Tenant) -> Response:
    group, members = await ops.show_smart_group(conn, tenant, str(request.path_params["name"]))
    return JSONResponse({**group.to_json(), "members": [{"id": i, "userName": u} for i, u in members]})


async def remove_smart(request: Request, conn: AsyncConnection, tenant: Tenant) -> Response:
    await ops.remove_smart_group(conn, tenant, str(request.path_params["name"]))
    return Response(status_code=204)


async def user_access(request: Request, conn: AsyncConnection, tenant: Tenant) -> Response:
    return JSONResponse((await ops.access_of(conn, tenant, str(request.path_params["user"]))).to_json())


def routes() -> list[Route]:
    """The routes to mount in the portal's app, next to `admin.routes()`."""
    return [
        Route(f"{BASE}/role-rules", _endpoint(list_rules, write=False), methods=["GET"]),
        Route(f"{BASE}/role-rules", _endpoint(add_rule, write=True), methods=["POST"]),
        Route(f"{BASE}/role-rules/{{rule}}", _endpoint(remove_rule, write=True), methods=["DELETE"]),
        Route(f"{BASE}/smart-groups", _endpoint(list_smart, write=False), methods=["GET"]),
        Route(f"{BASE}/smart-groups", _endpoint(add_smart, write=True), methods=["POST"]),
        Route(f"{BASE}/smart-groups/{{name}}", _endpoint(show_smart, write=False), methods=["GET"]),
        Route(f"{BASE}/smart-groups/{{name}}", _endpoint(remove_smart, write=True), methods=["DELETE"]),
        Route(f"{BASE}/users/{{user}}/access", _endpoint(user_access, write=False), methods=["GET"]),
    ]
