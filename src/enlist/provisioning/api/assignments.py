"""The API's writes to who and what an application provisions: assignments, attribute
mappings and scoping filters. Each calls the `operations` function the CLI command calls."""

from __future__ import annotations

from typing import Any, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from enlist.api_tokens.door import requires
from enlist.provisioning import operations
from enlist.provisioning.api.app_writes import Handler, on_app, required_text
from enlist.provisioning.engine.mapping_edits import Kind
from enlist.provisioning.service import Service
from enlist.provisioning.store.apps import App

KINDS = ("direct", "constant", "expression", "none")


def _names(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{key!r} must be a list of non-empty strings")
    return cast("list[str]", value)


def _assignment(assign: bool) -> Handler:
    verb = "assign" if assign else "unassign"

    async def change(_request: Request, service: Service, app: App, body: dict[str, Any]) -> Response:
        users, groups = _names(body, "users"), _names(body, "groups")
        counts = await operations.change_assignments_by_name(service, app, users, groups, assign=assign)
        return JSONResponse(counts)

    change.__name__ = verb
    change.__doc__ = f"""`app {verb}`: users by userPrincipalName, groups by id or displayName.
    ---
    summary: "{verb.capitalize()} users and groups (`app {verb}`); an unknown name changes nothing."
    parameters: [{{$ref: "#/components/parameters/name"}}]
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            properties:
              users: {{type: array, items: {{type: string}}}}
              groups: {{type: array, items: {{type: string}}}}
    responses:
      "200": {{description: "How many changed: {{users, groups}}."}}
      "4XX": {{$ref: "#/components/responses/Error"}}
    """
    return change


_MAPPING_PARAMETERS = """    parameters:
      - {$ref: "#/components/parameters/name"}
      - {name: object, in: path, required: true, schema: {type: string, enum: [user, group]}}
      - {name: target, in: path, required: true, schema: {type: string}}
"""


async def _map(request: Request, service: Service, app: App, body: dict[str, Any]) -> Response:
    """Add or replace the mapping of one target attribute (`app map`)."""
    kind = required_text(body, "kind")
    if kind not in KINDS:
        raise ValueError(f"'kind' is one of {', '.join(KINDS)}")
    matching, default = body.get("matching"), body.get("default")
    if matching is not None and (not isinstance(matching, int) or isinstance(matching, bool)):
        raise ValueError("'matching' is a precedence number (1 is first)")
    if default is not None and not isinstance(default, str):
        raise ValueError("'default' is a string")
    await operations.map_attribute(
        service,
        app,
        request.path_params["object"],
        request.path_params["target"],
        cast("Kind", kind),
        "" if kind == "none" else required_text(body, "source"),
        on_create=body.get("on_create") is True,
        matching=matching,
        default=default,
    )
    return JSONResponse({"mapped": request.path_params["target"]})


_map.__doc__ = (
    str(_map.__doc__)
    + """
    ---
    summary: Add or replace the mapping of one target attribute (`app map`); a bad expression is refused.
"""
    + _MAPPING_PARAMETERS
    + """    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [kind]
            properties:
              kind: {type: string, enum: [direct, constant, expression, none]}
              source: {type: string}
              on_create: {type: boolean}
              matching: {type: integer}
              default: {type: string}
    responses:
      "200": {description: "{mapped}"}
      "4XX": {$ref: "#/components/responses/Error"}
"""
)


async def _unmap(request: Request, service: Service, app: App, _body: dict[str, Any]) -> Response:
    """Remove the mapping of one target attribute (`app unmap`)."""
    await operations.unmap(service, app, request.path_params["object"], request.path_params["target"])
    return JSONResponse({"unmapped": request.path_params["target"]})


_unmap.__doc__ = (
    str(_unmap.__doc__)
    + """
    ---
    summary: Remove the mapping of one target attribute (`app unmap`).
"""
    + _MAPPING_PARAMETERS
    + """    responses:
      "200": {description: "{unmapped}"}
      "4XX": {$ref: "#/components/responses/Error"}
"""
)


async def _scoping(_request: Request, service: Service, app: App, body: dict[str, Any]) -> Response:
    """Replace the scoping filters (`app scoping --set FILE`; an empty list is `--clear`).
    ---
    summary: Replace the scoping filters (`app scoping --set`; [] clears them).
    parameters: [{$ref: "#/components/parameters/name"}]
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [filters]
            properties: {filters: {type: array, items: {type: object}}}
    responses:
      "200": {description: "The stored filters: {filters}."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    if not isinstance(body.get("filters"), list):
        raise ValueError(  # noqa: TRY004 (a bad request body, answered 400 like any other)
            'send {"filters": [...]}, as `app scoping --set` reads it ([] clears them)'
        )
    return JSONResponse({"filters": await operations.set_scoping(service, app, body["filters"])})


def routes() -> list[BaseRoute]:
    """Assignment, mapping and scoping writes, each declaring the write scope."""
    mapping = "/api/v1/apps/{name}/mappings/{object}/{target}"
    return [
        Route("/api/v1/apps/{name}/assign", requires("write")(on_app(_assignment(True))), methods=["POST"]),
        Route(
            "/api/v1/apps/{name}/unassign", requires("write")(on_app(_assignment(False))), methods=["POST"]
        ),
        Route(mapping, requires("write")(on_app(_map)), methods=["PUT"]),
        Route(mapping, requires("write")(on_app(_unmap)), methods=["DELETE"]),
        Route("/api/v1/apps/{name}/scoping", requires("write")(on_app(_scoping)), methods=["PUT"]),
    ]
