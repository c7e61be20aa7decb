"""The API's API tokens, per tenant (`/api/v1/tenants/{tenant}/api-tokens`) and for the whole
portal (`/api/v1/api-tokens`), as `enlist lms api-token … [--tenant SLUG]` has them.

A token limited to one tenant manages only that tenant's tokens: the door refuses it on the
portal's routes and on another tenant's (403), so it can neither see nor mint a token that
reaches further than itself. A new token is in the answer once, never again."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from enlist.api_tokens.model import SCOPES, Scope, TokenError
from enlist.lms import operations
from enlist.lms.api.endpoints import Call, Endpoint, Handler, api_endpoint, text_field
from enlist.web.api_errors import api_failure
from enlist.web.params import ParameterError

_CREATE = """---
summary: Mint an API token, shown once (`api-token create`{tenant}).
{parameters}requestBody:
  required: true
  content:
    application/json:
      schema:
        type: object
        required: [name]
        properties:
          name: {{type: string}}
          scope: {{type: string, enum: [read, write], default: read}}
          expires: {{type: string, description: "90d, 12h, 4w; absent: never"}}
responses:
  "201": {{description: "{{name, token, scope, expires_at}}: the token, shown once."}}
  "4XX": {{$ref: "#/components/responses/Error"}}
"""
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


async def _create(call: Call) -> Response:
    name = text_field(call.body, "name") or ""
    scope = call.body.get("scope", "read")
    if scope not in SCOPES:
        raise ParameterError("scope", "read or write", scope)
    chosen: Scope = "write" if scope == "write" else "read"
    expires = text_field(call.body, "expires", required=False)
    minted = await operations.create_api_token(
        call.conn, call.tenant, call.portal.peppers.current, name=name, scope=chosen, expires=expires
    )
    expires_at = minted.stored.expires_at.isoformat() if minted.stored.expires_at else None
    answer = {"name": minted.stored.name, "token": minted.token, "scope": chosen, "expires_at": expires_at}
    return JSONResponse(answer, status_code=201)


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
    if template is not _REVOKE and per_tenant:
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
        Route(base, made(_create, "write", _CREATE), methods=["POST"]),
        Route(f"{base}/{{name}}", made(_revoke, "write", _REVOKE), methods=["DELETE"]),
    ]


def routes() -> list[BaseRoute]:
    return [
        *_realm_routes("/api/v1/api-tokens", per_tenant=False),
        *_realm_routes("/api/v1/tenants/{tenant}/api-tokens", per_tenant=True),
    ]
