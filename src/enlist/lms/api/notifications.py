"""The API's notification settings and deliveries, as `enlist lms notify set|show|test|send`
has them (the same `lms.notify.operations` functions): a tenant's email and webhook for its
alerts, a test sent now, and the portal's due notifications delivered now."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from enlist.lms.api.endpoints import Call, api_endpoint
from enlist.lms.notify import operations
from enlist.lms.notify.sending import send_due
from enlist.web.api_errors import api_failure

SET_HINT = "GET /api/v1/tenants/{tenant}/notifications shows every setting"


@api_endpoint("read")
async def show_settings(call: Call) -> Response:
    """---
    summary: The notification settings (`lms notify show --json`); the webhook secret only as set.
    parameters: [{$ref: "#/components/parameters/tenant"}]
    responses:
      "200": {description: "{tenant, email, webhook_url, webhook_secret, quiet_minutes, kinds}."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    return JSONResponse(
        operations.shown(call.the_tenant, await operations.current(call.portal, call.the_tenant))
    )


@api_endpoint("write", reads_only=True)
async def set_settings(call: Call) -> Response:
    """---
    summary: Change notification settings (`lms notify set`); an empty value unsets a channel.
    parameters: [{$ref: "#/components/parameters/tenant"}]
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            description: "Any of email, webhook_url, webhook_secret, quiet_minutes, seat_limit (on|off)."
            additionalProperties: {type: string}
    responses:
      "200": {description: "The settings now, as GET shows them."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    if not call.body or not all(isinstance(v, str) for v in call.body.values()):
        return api_failure(400, "BadRequest", "send the settings to change as strings", SET_HINT)
    try:
        chosen = await operations.configure(call.portal, call.the_tenant, dict(call.body))
    except operations.NotificationSettingError as error:
        return api_failure(400, "BadSetting", str(error), SET_HINT)
    return JSONResponse(operations.shown(call.the_tenant, chosen))


@api_endpoint("write", reads_only=True)
async def send_test(call: Call) -> Response:
    """---
    summary: Send a test notification now to the tenant's email and webhook (`lms notify test`).
    parameters: [{$ref: "#/components/parameters/tenant"}]
    responses:
      "200": {description: "{tenant, deliveries: [{channel, destination, status, detail}]}."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    try:
        outcomes = await operations.send_test(call.portal, call.the_tenant)
    except operations.NotificationSettingError as error:
        return api_failure(400, "NowhereToSend", str(error), SET_HINT)
    return JSONResponse({"tenant": call.the_tenant.slug, "deliveries": [o.to_json() for o in outcomes]})


@api_endpoint("write", per_tenant=False, reads_only=True)
async def send_now(call: Call) -> Response:
    """---
    summary: Deliver every due portal notification now (`lms notify send`; `serve` does it too).
    responses:
      "200": {description: "{deliveries: [{channel, destination, status, detail}]}."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    outcomes = await send_due(call.portal.db, call.portal.settings)
    return JSONResponse({"deliveries": [o.to_json() for o in outcomes]})


def routes() -> list[BaseRoute]:
    base = "/api/v1/tenants/{tenant}/notifications"
    return [
        Route(base, show_settings, methods=["GET"]),
        Route(base, set_settings, methods=["PATCH"]),
        Route(f"{base}/test", send_test, methods=["POST"]),
        Route("/api/v1/notifications/send", send_now, methods=["POST"]),
    ]
