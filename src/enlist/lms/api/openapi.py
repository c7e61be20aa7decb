"""The portal's two OpenAPI descriptions.

- `GET /openapi.json`: the OpenAPI 3.1 description of a tenant's SCIM API, as shipped. Written
  by hand (`openapi.json` beside this module), proven against the running portal by
  `tests/security/test_schemathesis.py`. It holds no tenant data, so it is served without a
  token; its server URL is the Tenant URL template `/scim/v2/{tenant}`.
- `GET /api/openapi.json`: the OpenAPI 3.0 description of the admin JSON API, generated from the
  app's own route table as the provisioning service does: Starlette's `SchemaGenerator` reads
  each endpoint's docstring after `---`. It needs an API token (any scope), like every /api
  route; `tests/integration/api/test_portal_api.py` fails when a route has no description or
  the description names a route that does not exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.schemas import SchemaGenerator

from enlist.lms.api.endpoints import Call, api_endpoint
from enlist.web.api_errors import ERROR_SCHEMA

DESCRIPTION = Path(__file__).with_name("openapi.json")
API_PREFIX = "/api/"


def _path_parameter(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


BASE: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "enlist portal API",
        "version": "1",
        "description": "Every write the `enlist lms` CLI has: tenants, Secret tokens, policies, "
        "departments, the sync log and API tokens. Send an API token as `Authorization: Bearer …` "
        "(`enlist lms api-token create NAME --scope write [--tenant SLUG]`).",
    },
    "security": [{"bearer": []}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {"Error": ERROR_SCHEMA},
        "responses": {
            "Error": {
                "description": "The request was refused; nothing was changed.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        },
        "parameters": {
            "tenant": _path_parameter("tenant", "The tenant's slug (its name in the Tenant URL)."),
            "name": _path_parameter("name", "The API token's name."),
            "department": _path_parameter("department", "The department's id or name."),
        },
    },
}

_generator = SchemaGenerator(BASE)


def api_routes(routes: list[BaseRoute]) -> list[BaseRoute]:
    """The routes the description covers: every /api route."""
    return [r for r in routes if isinstance(r, Route) and r.path.startswith(API_PREFIX)]


def describe(routes: list[BaseRoute]) -> dict[str, Any]:
    """The OpenAPI document of `routes`' /api routes (a route without a description is left
    out, which the route walk test reports)."""
    return _generator.get_schema(api_routes(routes))


@api_endpoint("read", per_tenant=False)
async def api_description(call: Call) -> Response:
    """---
    summary: This description (OpenAPI 3.0).
    responses:
      "200": {description: The OpenAPI document.}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    return JSONResponse(describe(call.request.app.routes))


def routes() -> list[Route]:
    document = DESCRIPTION.read_bytes()

    async def openapi(_request: Request) -> Response:
        return Response(document, media_type="application/json")

    return [
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/api/openapi.json", api_description, methods=["GET"]),
    ]
