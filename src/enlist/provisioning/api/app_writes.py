"""The API's application writes: create, connect, test connection, set, start, pause,
restart, allow-deletes and sync. Each route parses its JSON body, then calls the same
`operations` function the `enlist provisioning app …` command calls, so the CLI and the API
cannot drift apart.

A sync runs in the background as a job (`jobs`): `202 Accepted` with a status URL (also the
`Location` header) that answers `running`, then the cycle's summary, from any web process."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from enlist.api_tokens.door import requires
from enlist.provisioning import operations
from enlist.provisioning.api.errors import api_failure, bad_body, expected_failure, no_such_app
from enlist.provisioning.api.job_routes import accepted
from enlist.provisioning.engine import status as app_status
from enlist.provisioning.engine.on_demand import provision_on_demand
from enlist.provisioning.engine.runner import run_cycle
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store.apps import App

Handler = Callable[[Request, Service, App, dict[str, Any]], Awaitable[Response]]


def _service(request: Request) -> Service:
    service = request.app.state.service
    assert isinstance(service, Service)
    return service


async def read_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; an empty body is `{}`. ValueError for anything else."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError as error:
        raise ValueError(f"the body is not JSON: {error}") from None
    except RecursionError:  # the route fuzzer's thousands of `[`: refused, never a 500
        raise ValueError("the body is nested too deeply to be an API request") from None
    if not isinstance(parsed, dict):
        raise ValueError("the body must be a JSON object")  # noqa: TRY004 (a bad request, as bad JSON)
    return parsed


def required_text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key!r} is required: a non-empty string")
    return value


def _optional(body: dict[str, Any], key: str) -> str | None:
    return None if body.get(key) is None else required_text(body, key)


def on_app(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Parse the body, find the application named in the path, run `handler`; an error an
    admin can fix becomes the API's error shape, and nothing is changed."""

    async def endpoint(request: Request) -> Response:
        service = _service(request)
        try:
            body = await read_body(request)
        except ValueError as error:
            return bad_body(str(error))
        name = request.path_params["name"]
        async with service.db.read() as conn:
            found = await app_store.find_app(conn, name)
        if found is None:
            return no_such_app(name)
        try:
            return await handler(request, service, found, body)
        except operations.EXPECTED as error:
            return expected_failure(error)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


@requires("write")
async def create_app(request: Request) -> Response:
    """`app create`: a non-gallery application, connected when both Tenant URL and token come.
    ---
    summary: Create an application (`app create`).
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [name]
            properties: {name: {type: string}, tenant_url: {type: string}, secret_token: {type: string}}
    responses:
      "201": {description: The new application.}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    service = _service(request)
    try:
        body = await read_body(request)
        name = required_text(body, "name")
        created = await operations.create_connected(
            service,
            name.strip(),
            _optional(body, "tenant_url"),
            _optional(body, "secret_token"),
        )
    except operations.EXPECTED as error:
        return expected_failure(error)
    return JSONResponse(await app_status.describe(service, created), status_code=201)


async def _connect(_request: Request, service: Service, app: App, body: dict[str, Any]) -> Response:
    """Save the Tenant URL and Secret token after a Test connection that passes.
    ---
    summary: Connect (`app connect`); a failed Test connection saves nothing (422).
    parameters: [{$ref: "#/components/parameters/name"}]
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [tenant_url, secret_token]
            properties: {tenant_url: {type: string}, secret_token: {type: string}}
    responses:
      "200": {description: "Connected: {ok, message}."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    check = await operations.connect(
        service, app, required_text(body, "tenant_url"), required_text(body, "secret_token")
    )
    if not check.ok:
        return api_failure(
            422,
            "ConnectionFailed",
            f"Test connection failed: {check.message}",
            "nothing was saved; fix the Tenant URL or Secret token and retry",
        )
    return JSONResponse({"ok": True, "message": check.message})


async def _test_connection(_request: Request, service: Service, app: App, _body: dict[str, Any]) -> Response:
    """Test connection with the saved Tenant URL and token.
    ---
    summary: Test connection (`app test-connection`) with the saved Tenant URL and token.
    parameters: [{$ref: "#/components/parameters/name"}]
    responses:
      "200": {description: "{ok, code, message}; ok is false when the target refused."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    return JSONResponse(await operations.check_saved_connection(service, app))


async def _set(_request: Request, service: Service, app: App, body: dict[str, Any]) -> Response:
    """Change settings, validated as a whole before anything is saved.
    ---
    summary: Change settings (`app set NAME KEY=VALUE…`), all or nothing.
    parameters: [{$ref: "#/components/parameters/name"}]
    requestBody:
      required: true
      content:
        application/json:
          schema: {type: object, additionalProperties: {type: string}, minProperties: 1}
    responses:
      "200": {description: Every setting after the change.}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    if not body or not all(isinstance(v, str) for v in body.values()):
        raise ValueError('send the settings to change as a JSON object of strings, e.g. {"scope": "all"}')
    updated = await operations.save_settings(service, app, dict(body))
    return JSONResponse(updated.to_json())


def _state(command: str) -> Handler:
    async def change(_request: Request, service: Service, app: App, _body: dict[str, Any]) -> Response:
        return JSONResponse({"state": await operations.change_state(service, app, command)})

    change.__name__ = command
    change.__doc__ = f"""`app {command}`: the new state.
    ---
    summary: "`app {command}`: the application's new state."
    parameters: [{{$ref: "#/components/parameters/name"}}]
    responses:
      "200": {{description: "{{state}}: the new state."}}
      "4XX": {{$ref: "#/components/responses/Error"}}
    """
    return change


async def _on_demand(_request: Request, service: Service, app: App, body: dict[str, Any]) -> Response:
    """Provision one user now and show each step.
    ---
    summary: Provision one user now (`app provision-on-demand --user UPN`), step by step.
    parameters: [{$ref: "#/components/parameters/name"}]
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [user]
            properties: {user: {type: string, description: The user's userPrincipalName.}}
    responses:
      "200": {description: "{action, status, steps}, as the CLI's --json prints."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    upn = required_text(body, "user")
    if not app.connected:
        return _not_connected(app)
    return JSONResponse(await provision_on_demand(service, app, upn))


def _not_connected(app: App) -> Response:
    return api_failure(
        409,
        "NotConnected",
        f"{app.name} is not connected",
        f"POST /api/v1/apps/{app.name}/connect with its tenant_url and secret_token first",
    )


async def _sync(request: Request, service: Service, app: App, _body: dict[str, Any]) -> Response:
    """Start one cycle now in the background: 202 and its status URL.
    ---
    summary: Run one cycle now (`app sync`) as a job.
    parameters: [{$ref: "#/components/parameters/name"}]
    responses:
      "202":
        description: >-
          Started: {job, status, status_url}; Location is the status URL (GET /api/v1/jobs/{job}).
      "4XX": {$ref: "#/components/responses/Error"}
    """
    if not app.connected:
        return _not_connected(app)
    if app.state == "paused":
        return api_failure(
            409, "AppPaused", f"{app.name} is paused", f"POST /api/v1/apps/{app.name}/start first"
        )

    async def cycle() -> dict[str, Any]:
        return (await run_cycle(service, app)).to_json()

    return await accepted(request, service, "app-sync", app.name, cycle)


def routes() -> list[BaseRoute]:
    """The write routes, each declaring the scope it needs."""
    actions: list[tuple[str, Handler]] = [
        ("connect", _connect),
        ("test-connection", _test_connection),
        ("start", _state("start")),
        ("pause", _state("pause")),
        ("restart", _state("restart")),
        ("allow-deletes", _state("allow-deletes")),
        ("sync", _sync),
        ("provision-on-demand", _on_demand),
    ]
    return [
        Route("/api/v1/apps", create_app, methods=["POST"]),
        Route("/api/v1/apps/{name}/settings", requires("write")(on_app(_set)), methods=["PATCH"]),
        *(
            Route(f"/api/v1/apps/{{name}}/{action}", requires("write")(on_app(handler)), methods=["POST"])
            for action, handler in actions
        ),
    ]
