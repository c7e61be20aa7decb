"""The API's source writes: set, pause, resume and remove, each calling the function of
`sources.operations` that the `enlist provisioning source …` command calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from enlist.api_tokens.door import requires
from enlist.provisioning.api.app_writes import read_body
from enlist.provisioning.api.errors import bad_body, expected_failure
from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations

SourceHandler = Callable[[Service, str, dict[str, Any]], Awaitable[Any]]

_SOURCE = (
    '[{name: source, in: path, required: true, description: "The source\'s name.", schema: {type: string}}]'
)


def _on_source(handler: SourceHandler) -> Callable[[Request], Awaitable[Response]]:
    """Parse the body and run `handler` on the source named in the path; an unknown source or a
    bad value is the API's error shape and nothing is changed."""

    async def endpoint(request: Request) -> Response:
        service = request.app.state.service
        assert isinstance(service, Service)
        try:
            body = await read_body(request)
        except ValueError as error:
            return bad_body(str(error))
        try:
            return JSONResponse(await handler(service, request.path_params["source"], body))
        except (LookupError, ValueError) as error:
            return expected_failure(error)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


async def _set(service: Service, name: str, body: dict[str, Any]) -> dict[str, Any]:
    if not body or not all(isinstance(v, str) for v in body.values()):
        raise ValueError(
            'send the settings to change as a JSON object of strings, e.g. {"interval_minutes": "30"}'
        )
    return (await operations.configure(service, name, dict(body))).to_json()


_set.__doc__ = f"""`source set NAME KEY=VALUE…`.
    ---
    summary: Change a source's settings (`source set`), all checked before anything is saved.
    description: >-
      The keys `source set` takes for the source's kind; an LDAP source's custom attributes are
      `attributes.NAME` keys (`{{"attributes.costType": "employeeType"}}`, `""` removes one).
      A key the kind does not take is refused (400, naming the valid keys).
    parameters: {_SOURCE}
    requestBody:
      required: true
      content:
        application/json:
          schema: {{type: object, additionalProperties: {{type: string}}, minProperties: 1}}
    responses:
      "200": {{description: The source after the change (never its secrets).}}
      "4XX": {{$ref: "#/components/responses/Error"}}
    """


def _state(command: str) -> SourceHandler:
    async def change(service: Service, name: str, _body: dict[str, Any]) -> dict[str, Any]:
        return {"state": await operations.change_state(service, name, command)}

    change.__name__ = f"source_{command}"
    change.__doc__ = f"""`source {command}`.
    ---
    summary: "`source {command}`: the source's new state."
    parameters: {_SOURCE}
    responses:
      "200": {{description: "{{state}}"}}
      "4XX": {{$ref: "#/components/responses/Error"}}
    """
    return change


async def _remove(service: Service, name: str, _body: dict[str, Any]) -> dict[str, Any]:
    return {"handed_over": await operations.remove(service, name)}


_remove.__doc__ = f"""`source remove`.
    ---
    summary: Remove a source (`source remove`); its users and groups stay in the directory.
    parameters: {_SOURCE}
    responses:
      "200": {{description: "{{handed_over}}: how many directory objects the built-in owner keeps."}}
      "4XX": {{$ref: "#/components/responses/Error"}}
    """


def routes() -> list[BaseRoute]:
    """Source writes, each declaring the write scope."""
    base = "/api/v1/sources/{source}"
    return [
        Route(base + "/settings", requires("write")(_on_source(_set)), methods=["PATCH"]),
        Route(base + "/pause", requires("write")(_on_source(_state("pause"))), methods=["POST"]),
        Route(base + "/resume", requires("write")(_on_source(_state("resume"))), methods=["POST"]),
        Route(base, requires("write")(_on_source(_remove)), methods=["DELETE"]),
    ]
