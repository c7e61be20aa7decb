"""The provisioning API's OpenAPI description, generated from the app's own route table.

Starlette's `SchemaGenerator` (already a dependency, no second framework) walks the routes and
reads each endpoint's docstring after `---` as that operation's OpenAPI object, so the
description lives next to the code it describes; `tests/integration/api/test_openapi.py`
fails when a route has none or the description names a route that does not exist."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.schemas import SchemaGenerator

from enlist.api_tokens.door import requires
from enlist.web.api_errors import ERROR_SCHEMA

API_PREFIX = "/api/"


BASE: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "enlist provisioning API",
        "version": "1",
        "description": "Every write the `enlist provisioning` CLI has. Send an API token as "
        "`Authorization: Bearer …` (`enlist provisioning api-token create NAME --scope write`).",
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
            "name": {
                "name": "name",
                "in": "path",
                "required": True,
                "description": "The application's name.",
                "schema": {"type": "string"},
            }
        },
    },
}

_generator = SchemaGenerator(BASE)


def api_routes(routes: list[BaseRoute]) -> list[BaseRoute]:
    """The routes the description covers: every /api route."""
    return [r for r in routes if isinstance(r, Route) and r.path.startswith(API_PREFIX)]


def describe(routes: list[BaseRoute]) -> dict[str, Any]:
    """The OpenAPI document of `routes`' /api routes (a route without a description is left out,
    which the route walk test reports)."""
    return _generator.get_schema(api_routes(routes))


@requires("read")
async def openapi_json(request: Request) -> Response:
    """---
    summary: This description (OpenAPI 3.0).
    responses:
      "200": {description: The OpenAPI document.}
    """
    return JSONResponse(describe(request.app.routes))
