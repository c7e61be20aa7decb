"""The API's API tokens, per tenant (`/api/v1/tenants/{tenant}/api-tokens`) and for the whole
portal (`/api/v1/api-tokens`): list and revoke, as `enlist lms api-token list|revoke [--tenant
SLUG]` do.

No route mints a token (ADR 0030, updated): a person mints them, from the CLI or the admin
pages, so a leaked token cannot mint its successor before it is revoked. Revoking is what
automation needs when a token leaks. A token limited to one tenant manages only that tenant's
tokens: the door refuses it on the portal's routes and on another tenant's (403)."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from enlist.api_tokens.model import Scope, TokenError
from enlist.lms import operations
from enlist.lms.api.endpoints import Call, Endpoint, Handler, api_endpoint
from enlist.web.api_errors import api_failure

_LIST = """---
summary: The API tokens (`api-token list --json`{tenant}), live and revoked, never the tokens.
{parameters}responses:
  "200": {{description: "A list of {{name, scope, created_at, expires_at, last_used_at, revoked_at}}."}}
  "4XX": {{$ref: "#/components/responses/Error"}}
"""
_REVOKE = """---
summary: Revoke the live API token NAME (`api-token revoke`{tenant}).
parameters:
{parameters}  - {{$ref: "#/components/parameters/name"}}
responses:
  "200": {{description: "The token, revoked."}}
  "4XX": {{$ref: "#/components/responses/Error"}}
"""
_TENANT_PARAMETER = '  - {$ref: "#/components/parameters/tenant"}\n'


async def _list(call: Call) -> Response:
    return JSONResponse(await operations.list_api_tokens(call.conn, call.tenant))


async def _revoke(call: Call) -> Response:
    name = call.request.path_params["name"]
    try:
        return JSONResponse(await operations.revoke_api_token(call.conn, call.tenant, name))
    except TokenError as error:
        return api_failure(
            404, "UnknownToken", str(error), "GET the api-tokens route beside this one lists them"
        )


def _doc(template: str, *, per_tenant: bool) -> str:
    """The OpenAPI text of a handler in its realm (the two realms share their handlers)."""
    parameters = _TENANT_PARAMETER if per_tenant else ""
    if template is _LIST and per_tenant:
        parameters = "parameters:\n" + parameters
    return template.format(tenant=" --tenant SLUG" if per_tenant else "", parameters=parameters)


def _in_realm(work: Handler, *, per_tenant: bool, template: str) -> Handler:
    """`work` under its own name and description for one realm."""

    async def handler(call: Call) -> Response:
        return await work(call)

    handler.__name__ = f"{work.__name__.strip('_')}_{'tenant' if per_tenant else 'portal'}_api_tokens"
    handler.__doc__ = _doc(template, per_tenant=per_tenant)
    return handler


def _realm_routes(base: str, *, per_tenant: bool) -> list[BaseRoute]:
    def made(work: Handler, scope: Scope, template: str) -> Endpoint:
        return api_endpoint(scope, per_tenant=per_tenant)(
            _in_realm(work, per_tenant=per_tenant, template=template)
        )

    return [
        Route(base, made(_list, "read", _LIST), methods=["GET"]),
        Route(f"{base}/{{name}}", made(_revoke, "write", _REVOKE), methods=["DELETE"]),
    ]


def routes() -> list[BaseRoute]:
    return [
        *_realm_routes("/api/v1/api-tokens", per_tenant=False),
        *_realm_routes("/api/v1/tenants/{tenant}/api-tokens", per_tenant=True),
    ]
