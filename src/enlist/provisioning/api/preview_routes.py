"""`POST /api/v1/apps/{name}/preview`: what the next cycle would do, nothing sent nor kept.

The route calls the operation `enlist provisioning app preview` calls (ADR 0038), so both show the
same plan. It needs a write token: a preview holds the application's lease while it plans (a
cycle waits for it), and it reads the target with the application's Secret token.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from enlist.api_tokens.door import requires
from enlist.provisioning import operations
from enlist.provisioning.api.app_writes import on_app
from enlist.provisioning.api.errors import api_failure
from enlist.provisioning.service import Service
from enlist.provisioning.store.apps import App


async def _preview(_request: Request, service: Service, app: App, body: dict[str, Any]) -> Response:
    """Preview the next cycle: its counts and planned changes, sending nothing.
    ---
    summary: Preview the next cycle (`app preview --json`); no write reaches the target.
    parameters: [{$ref: "#/components/parameters/name"}]
    requestBody:
      required: false
      content:
        application/json:
          schema:
            type: object
            properties:
              initial: {type: boolean, description: "Preview an initial cycle (as after Restart)."}
    responses:
      "200": {description: "`app sync --json`'s counts, reads_target and items, as the CLI's --json prints."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    initial = body.get("initial", False)
    if not isinstance(initial, bool):
        raise ValueError("'initial' must be true or false")  # noqa: TRY004 (a bad request: 400)
    if not app.connected:
        return api_failure(
            409,
            "NotConnected",
            f"{app.name} is not connected",
            f"POST /api/v1/apps/{app.name}/connect with its tenant_url and secret_token first",
        )
    return JSONResponse(await operations.preview(service, app.name, initial=initial))


def routes() -> list[BaseRoute]:
    return [Route("/api/v1/apps/{name}/preview", requires("write")(on_app(_preview)), methods=["POST"])]
