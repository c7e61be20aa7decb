"""The API's configuration as code and deletion of applications: `app export` (GET the
application's document), `app import` (PUT it; a dry run shows the difference),
`app import-entra-schema` and `app delete`, each calling the function the CLI command calls
(`config_doc.operations`, `operations`)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from enlist.api_tokens.door import requires
from enlist.document_shape import dump
from enlist.provisioning import operations
from enlist.provisioning.api.app_writes import on_app, read_body
from enlist.provisioning.api.errors import api_failure, bad_body, expected_failure
from enlist.provisioning.config_doc.document import read_document
from enlist.provisioning.config_doc.entra_import import import_entra_schema
from enlist.provisioning.config_doc.operations import export_app, import_app
from enlist.provisioning.service import Service
from enlist.provisioning.store.apps import App

_FORMATS = {"json": "application/json", "yaml": "application/yaml"}


def _flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"{key!r} is true or false")  # noqa: TRY004 (a bad body: 400 like the others)
    return value


def _import_options(body: dict[str, Any]) -> tuple[str | None, bool]:
    """The Secret token and dry-run flag of an import request; ValueError for a bad body."""
    if not isinstance(body.get("document"), dict):
        raise ValueError('send {"document": {...}}: the document `app export` writes, as JSON')  # noqa: TRY004
    token = body.get("secret_token")
    if token is not None and not isinstance(token, str):
        raise ValueError("'secret_token' is a string")
    return token, _flag(body, "dry_run")


async def _delete(_request: Request, service: Service, app: App, _body: dict[str, Any]) -> Response:
    """`app delete NAME --yes`.
    ---
    summary: Delete an application (`app delete`); nothing is sent to its target. 409 while a cycle runs.
    parameters: [{$ref: "#/components/parameters/name"}]
    responses:
      "200": {description: "{deleted: name}"}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    await operations.delete_app(service, app)
    return JSONResponse({"deleted": app.name})


@requires("read")
async def export(request: Request) -> Response:
    """---
    summary: The application as one document (`app export`), never its Secret token.
    parameters:
      - {$ref: "#/components/parameters/name"}
      - {name: format, in: query, required: false, schema: {type: string, enum: [json, yaml], default: json}}
    responses:
      "200": {description: "The document, as `app export --format` writes it (the same bytes)."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    service = request.app.state.service
    assert isinstance(service, Service)
    fmt = request.query_params.get("format", "json")
    if fmt not in _FORMATS:
        return api_failure(400, "BadParameter", f"format is json or yaml, not {fmt!r}", "use ?format=yaml")
    try:
        document = await export_app(service, request.path_params["name"])
    except operations.EXPECTED as error:
        return expected_failure(error)
    return Response(dump(document.to_data(), "json" if fmt == "json" else "yaml"), media_type=_FORMATS[fmt])


@requires("write")
async def import_(request: Request) -> Response:
    """`app import FILE [--dry-run] [--secret-token]`.
    ---
    summary: >-
      Create or update the application from a document (`app import`); a dry run only shows
      the difference.
    parameters: [{$ref: "#/components/parameters/name"}]
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [document]
            properties:
              document:
                type: object
                description: A document `app export` wrote (or GET gave), with the path's name.
              secret_token: {type: string, description: "Needed for a new application or a new Tenant URL."}
              dry_run: {type: boolean, default: false}
    responses:
      "200": {description: "{name, created, dry_run, changed, changes: [{op, path, before, after}]}"}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    service = request.app.state.service
    assert isinstance(service, Service)
    try:
        body = await read_body(request)
        token, dry_run = _import_options(body)
    except ValueError as error:
        return bad_body(str(error))
    try:
        document = read_document(body["document"])
        if document.name != request.path_params["name"]:
            return api_failure(
                400,
                "NameMismatch",
                f"the document is application {document.name!r}, not {request.path_params['name']!r}",
                f"PUT it to /api/v1/apps/{document.name}/document, or change its name",
            )
        result = await import_app(service, document, secret_token=token, dry_run=dry_run)
    except operations.EXPECTED as error:
        return expected_failure(error)
    return JSONResponse(result.to_json())


async def _entra_schema(_request: Request, service: Service, app: App, body: dict[str, Any]) -> Response:
    """`app import-entra-schema NAME FILE [--dry-run]`.
    ---
    summary: Read Entra's exported synchronizationSchema into the application; what does not map is listed.
    parameters: [{$ref: "#/components/parameters/name"}]
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [schema]
            properties: {schema: {type: object}, dry_run: {type: boolean, default: false}}
    responses:
      "200": {description: "{import, skipped: [{path, reason}], read}, as `--json` prints."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    if not isinstance(body.get("schema"), dict):
        raise ValueError('send {"schema": {...}}: the JSON Entra exports')  # noqa: TRY004
    return JSONResponse(
        await import_entra_schema(service, app.name, body["schema"], dry_run=_flag(body, "dry_run"))
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/api/v1/apps/{name}", requires("write")(on_app(_delete)), methods=["DELETE"]),
        Route("/api/v1/apps/{name}/document", export, methods=["GET"]),
        Route("/api/v1/apps/{name}/document", import_, methods=["PUT"]),
        Route(
            "/api/v1/apps/{name}/import-entra-schema",
            requires("write")(on_app(_entra_schema)),
            methods=["POST"],
        ),
    ]
