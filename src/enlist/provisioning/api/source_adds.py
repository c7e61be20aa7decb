"""The API's source writes beyond its settings: add, test, sync (a job) and a push source's
token rotation, each calling the function `enlist provisioning source …` calls
(`sources.commands`, `sources.push.operations`)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from enlist.api_tokens.door import requires
from enlist.provisioning import operations
from enlist.provisioning.api.app_writes import read_body, required_text
from enlist.provisioning.api.errors import api_failure, bad_body, expected_failure
from enlist.provisioning.api.job_routes import accepted
from enlist.provisioning.service import Service
from enlist.provisioning.sources import commands
from enlist.provisioning.sources.push import operations as push_operations
from enlist.provisioning.sources.read import SourceBusyError

_SOURCE = (
    '[{name: source, in: path, required: true, description: "The source\'s name.", schema: {type: string}}]'
)


def _service(request: Request) -> Service:
    service = request.app.state.service
    assert isinstance(service, Service)
    return service


def _flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"{key!r} is true or false")  # noqa: TRY004 (a bad body: 400 like the others)
    return value


@requires("write")
async def add(request: Request) -> Response:
    """`source add NAME --kind KIND …`.
    ---
    summary: Add a source (`source add`); a push source's bearer token is in this answer only.
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [name, kind]
            properties:
              name: {type: string}
              kind: {type: string, enum: [file, graph, ldap, scim-push]}
              options:
                type: object
                description: >-
                  The CLI's options by name, `-` as `_` (path, tenant_id, client_id, client_secret,
                  certificate (PEM text), graph_url, login_url, url (list), bind_dn, bind_password,
                  base_dn (list), user_filter, group_filter, ca_file, start_tls, page_size, timeout,
                  connect_timeout, dialect, delta).
    responses:
      "201": {description: "What `source add --json` prints; a push source: exactly {name, base_url, token}."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    try:
        body = await read_body(request)
        name, kind = required_text(body, "name").strip(), required_text(body, "kind")
        options = body.get("options", {})
        if not isinstance(options, dict):
            raise ValueError("'options' is an object of the CLI's options")  # noqa: TRY004
        commands.settings_of(kind, options)  # a bad option: 400 before the database is touched
        created = await commands.add(_service(request), name, kind, options)
    except operations.EXPECTED as error:
        return expected_failure(error)
    return JSONResponse(created, status_code=201, headers={"Cache-Control": "no-store"})


async def _source_call(request: Request, work: Any) -> Response:
    try:
        body = await read_body(request)
    except ValueError as error:
        return bad_body(str(error))
    try:
        answer: Response = await work(_service(request), request.path_params["source"], body)
    except SourceBusyError as error:
        return api_failure(409, "SourceBusy", str(error), "wait for the running read to end, then retry")
    except operations.EXPECTED as error:
        return expected_failure(error)
    return answer


@requires("write")
async def test(request: Request) -> Response:
    """---
    summary: Reach the source with its credentials (`source test`) and say exactly what is wrong.
    parameters: {_SOURCE}
    responses:
      "200": {description: "{source, ok, message, details}; ok is false when the source cannot be read."}
      "4XX": {$ref: "#/components/responses/Error"}
    """

    async def work(service: Service, name: str, _body: dict[str, Any]) -> Response:
        return JSONResponse(await commands.test(service, name))

    return await _source_call(request, work)


@requires("write")
async def sync(request: Request) -> Response:
    """---
    summary: One read of the source now (`source sync`), as a job; 409 while another read runs.
    parameters: {_SOURCE}
    requestBody:
      required: false
      content:
        application/json:
          schema:
            type: object
            properties:
              full: {type: boolean, default: false}
              allow_deletes: {type: boolean, default: false}
    responses:
      "202":
        description: "Started: {job, status, status_url}; the job result: what `source sync --json` prints."
      "4XX": {$ref: "#/components/responses/Error"}
    """

    async def work(service: Service, name: str, body: dict[str, Any]) -> Response:
        full, allow_deletes = _flag(body, "full"), _flag(body, "allow_deletes")
        reading = await commands.start_sync(service, name, full=full, allow_deletes=allow_deletes)
        return await accepted(request, service, "source-sync", name, reading)

    return await _source_call(request, work)


@requires("write")
async def rotate_token(request: Request) -> Response:
    """---
    summary: Mint a new bearer token for a push source (`source rotate-token`), shown once.
    parameters: {_SOURCE}
    requestBody:
      required: false
      content:
        application/json:
          schema: {type: object, properties: {overlap_minutes: {type: integer, minimum: 0}}}
    responses:
      "200": {description: "{name, token, previous_tokens_until}, as `--json` prints."}
      "4XX": {$ref: "#/components/responses/Error"}
    """

    async def work(service: Service, name: str, body: dict[str, Any]) -> Response:
        overlap = body.get("overlap_minutes", push_operations.DEFAULT_OVERLAP_MINUTES)
        if not isinstance(overlap, int) or isinstance(overlap, bool) or overlap < 0:
            raise ValueError("'overlap_minutes' is a whole number of minutes, 0 or more")
        rotated = await push_operations.rotate_token(service, name, overlap)
        return JSONResponse(rotated, headers={"Cache-Control": "no-store"})

    return await _source_call(request, work)


for _endpoint in (test, sync, rotate_token):
    _endpoint.__doc__ = str(_endpoint.__doc__).replace("{_SOURCE}", _SOURCE)


def routes() -> list[BaseRoute]:
    base = "/api/v1/sources/{source}"
    return [
        Route("/api/v1/sources", add, methods=["POST"]),
        Route(base + "/test", test, methods=["POST"]),
        Route(base + "/sync", sync, methods=["POST"]),
        Route(base + "/rotate-token", rotate_token, methods=["POST"]),
    ]
