"""The API's API tokens: list (`api-token list --json`) and revoke (`api-token revoke NAME`),
under the portal's paths (`/api/v1/api-tokens`, `/api/v1/api-tokens/{name}`), calling the store
functions the CLI calls.

No route mints a token (ADR 0030, updated): a person mints them, from the CLI or the admin
pages. Revoking is what automation needs when a token leaks; a listing never shows a token."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from enlist.api_tokens import store
from enlist.api_tokens.door import requires
from enlist.api_tokens.model import TokenError
from enlist.provisioning.api.app_writes import read_body
from enlist.provisioning.api.errors import api_failure, bad_body
from enlist.provisioning.api_tokens import api_tokens
from enlist.provisioning.service import Service


def _service(request: Request) -> Service:
    service = request.app.state.service
    assert isinstance(service, Service)
    return service


@requires("read")
async def list_api_tokens(request: Request) -> Response:
    """---
    summary: The API tokens (`api-token list --json`), live and revoked, never the tokens.
    responses:
      "200": {description: "A list of {name, scope, created_at, expires_at, last_used_at, revoked_at}."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    async with _service(request).db.read() as conn:
        found = await store.list_tokens(conn, api_tokens)
    return JSONResponse([store.to_json(t) for t in found])


@requires("write")
async def revoke_api_token(request: Request) -> Response:
    """---
    summary: Revoke the live API token NAME (`api-token revoke`); it is refused from the next request on.
    parameters:
      - {name: name, in: path, required: true, description: "The API token's name.", schema: {type: string}}
    responses:
      "200": {description: "The token, revoked (as the list shows it)."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    try:
        await read_body(request)  # none is needed; one that is not JSON is refused as everywhere
    except ValueError as error:
        return bad_body(str(error))
    name = request.path_params["name"]
    try:
        async with _service(request).db.write() as conn:
            revoked = await store.revoke(conn, api_tokens, name)
    except TokenError as error:
        return api_failure(404, "UnknownToken", str(error), "GET /api/v1/api-tokens lists them")
    return JSONResponse(store.to_json(revoked))


def routes() -> list[BaseRoute]:
    return [
        Route("/api/v1/api-tokens", list_api_tokens, methods=["GET"]),
        Route("/api/v1/api-tokens/{name}", revoke_api_token, methods=["DELETE"]),
    ]
