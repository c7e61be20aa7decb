"""The API's directory import and export, provisioning log export and notifications: each
calls the `operations` function the CLI command calls (`directory import|export`, `logs`,
`notify test|send`).

A directory import is a long operation: the file is checked whole while the request waits (a
bad file is a 400 and nothing is written), then imported as a job (`202`, `jobs`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from enlist.api_tokens.door import requires
from enlist.provisioning import operations
from enlist.provisioning.api.app_writes import read_body
from enlist.provisioning.api.errors import api_failure, bad_body, expected_failure
from enlist.provisioning.api.job_routes import accepted
from enlist.provisioning.logs import filters
from enlist.provisioning.logs import store as log_store
from enlist.provisioning.notify.operations import send_test
from enlist.provisioning.notify.sender import send_due
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from enlist.web.bad_input import limited_request
from enlist.web.params import Integer, read_or

EXPORT_LIMIT = Integer(1, 10**9)
"""`limit` of a log export: any positive count (absent: every record, as the CLI)."""
_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8"}


def _service(request: Request) -> Service:
    service = request.app.state.service
    assert isinstance(service, Service)
    return service


def _format(request: Request) -> str:
    fmt = request.query_params.get("format", "json")
    if fmt not in _TYPES:
        raise ValueError(f"format is json or csv, not {fmt!r}")
    return fmt


def _bad_format(error: ValueError) -> Response:
    return api_failure(400, "BadParameter", str(error), "use ?format=json or ?format=csv")


@requires("write")
async def directory_import(request: Request) -> Response:
    """`directory import FILE [--replace]`.
    ---
    summary: Import users and groups (`directory import`) as a job; the file is checked whole first.
    parameters:
      - name: format
        in: query
        description: "json ({users, groups}) or csv (users)."
        schema: {type: string, enum: [json, csv], default: json}
      - name: replace
        in: query
        description: Soft-delete the hand-imported users and groups the file lacks.
        schema: {type: boolean, default: false}
    requestBody:
      required: true
      content:
        application/json: {schema: {type: object}}
        text/csv: {schema: {type: string}}
    responses:
      "202": {description: "Started: {job, status, status_url}; the job's result is the import's counts."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    service = _service(request)
    try:
        fmt = _format(request)
    except ValueError as error:
        return _bad_format(error)
    replace = request.query_params.get("replace", "false")
    if replace not in ("true", "false"):
        return api_failure(
            400, "BadParameter", f"replace is true or false, not {replace!r}", "use ?replace=true"
        )
    # The guard does not read a token request's body: bound it here (413 past the limit).
    raw = await limited_request(request, service.settings.max_directory_file_bytes).body()
    try:
        data = operations.read_directory_upload(service, raw, f"upload.{fmt}")
    except operations.EXPECTED as error:
        return expected_failure(error)

    async def work() -> dict[str, int]:
        return await operations.import_directory_data(service, data, replace=replace == "true")

    return await accepted(request, service, "directory-import", f"upload.{fmt}", work)


@requires("read")
async def directory_export(request: Request) -> Response:
    """---
    summary: The hand-imported users and groups (`directory export`), as `directory import` reads them.
    parameters:
      - name: format
        in: query
        description: csv holds the users only.
        schema: {type: string, enum: [json, csv], default: json}
    responses:
      "200": {description: "The same text `directory export --format` writes."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    try:
        fmt = _format(request)
    except ValueError as error:
        return _bad_format(error)
    return Response(await operations.export_directory(_service(request), fmt), media_type=_TYPES[fmt])


@requires("read")
async def log_export(request: Request) -> Response:
    """---
    summary: The provisioning log as `logs NAME --format json|csv` writes it (every record, or `limit`).
    parameters:
      - {$ref: "#/components/parameters/name"}
      - {name: format, in: query, required: false, schema: {type: string, enum: [json, csv], default: json}}
      - {name: status, in: query, required: false, schema: {type: string}}
      - {name: action, in: query, required: false, schema: {type: string}}
      - {name: cycle, in: query, required: false, schema: {type: string}}
      - {name: identity, in: query, required: false, schema: {type: string}}
      - {name: since, in: query, required: false, schema: {type: string, format: date-time}}
      - {name: until, in: query, required: false, schema: {type: string, format: date-time}}
      - {name: limit, in: query, description: "At most this many (default: all).", schema: {type: integer}}
    responses:
      "200": {description: "The records, newest first: the CLI's CSV columns or JSON."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    try:
        fmt = _format(request)
    except ValueError as error:
        return _bad_format(error)
    wanted = filters.log_filter(request.query_params, limit=500)  # a bad parameter: 400
    limit = read_or(request.query_params, "limit", EXPORT_LIMIT, 0)
    try:
        records = await operations.log_records(_service(request), request.path_params["name"], wanted, limit)
    except operations.EXPECTED as error:
        return expected_failure(error)
    text = log_store.to_csv(records) if fmt == "csv" else log_store.to_json(records)
    return Response(text, media_type=_TYPES[fmt])


@requires("write")
async def notify_test(request: Request) -> Response:
    """---
    summary: Send a test notification now to the application's email and webhook (`notify test`).
    parameters: [{$ref: "#/components/parameters/name"}]
    responses:
      "200": {description: "{application, deliveries: [{channel, destination, status, detail}]}"}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    service = _service(request)
    try:
        await read_body(request)  # none is needed; one that is not JSON is refused as everywhere
        async with service.db.read() as conn:
            found = await app_store.get_app(conn, request.path_params["name"])
        outcomes = await send_test(service, found)
    except operations.EXPECTED as error:
        return expected_failure(error)
    return JSONResponse({"application": found.name, "deliveries": [o.to_json() for o in outcomes]})


@requires("write")
async def notify_send(request: Request) -> Response:
    """---
    summary: Deliver every due notification now (`notify send`).
    responses:
      "200": {description: "{deliveries: [{channel, destination, status, detail}]}"}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    try:
        await read_body(request)  # none is needed; one that is not JSON is refused as everywhere
    except ValueError as error:
        return bad_body(str(error))
    return JSONResponse({"deliveries": [o.to_json() for o in await send_due(_service(request))]})


def routes() -> list[BaseRoute]:
    return [
        Route("/api/v1/directory/import", directory_import, methods=["POST"]),
        Route("/api/v1/directory/export", directory_export, methods=["GET"]),
        Route("/api/v1/apps/{name}/logs/export", log_export, methods=["GET"]),
        Route("/api/v1/apps/{name}/notify/test", notify_test, methods=["POST"]),
        Route("/api/v1/notifications/send", notify_send, methods=["POST"]),
    ]
