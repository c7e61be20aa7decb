"""The application's Overview: Start, Pause, Restart provisioning, Provision on demand, the
current state and cycle (polled every 2 s while one runs or is due), the last cycle's counts,
the next cycle's time and the chart of recent cycles."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from enlist.provisioning import operations
from enlist.provisioning.api.app import service_of
from enlist.provisioning.engine import status as app_status
from enlist.provisioning.engine.on_demand import provision_on_demand
from enlist.provisioning.operations import EXPECTED
from enlist.provisioning.store.apps import App
from enlist.provisioning.web import queries
from enlist.provisioning.web.charts import cycle_chart
from enlist.provisioning.web.common import (
    APP,
    app_of,
    app_url,
    context,
    form_of,
    is_htmx,
    message_of,
    query_text,
    site_of,
    text,
)
from enlist.provisioning.web.guide import first_run

COMMANDS = ("start", "pause", "restart", "allow-deletes")
CYCLE_OUTCOMES = {
    "succeeded": "completed",
    "entry_level_errors": "completed with failures on some objects",
    "stopped": "stopped by Pause",
    "failed": "failed",
    "interrupted": "interrupted",
}


async def _status(request: Request, app: App) -> dict[str, Any]:
    found = await app_status.status(service_of(request), app)
    running = found["running_cycle"]
    due = (
        app.state in ("active", "quarantined")
        and app.next_run_at is not None
        and app.next_run_at <= datetime.now(UTC)
    )
    progress = running["progress"] if running else None
    return {
        "status": found,
        "polling": running is not None or due,
        "outcomes": CYCLE_OUTCOMES,
        "progress": progress,
        "chart": cycle_chart([c for c in found["recent_cycles"] if c["status"] != "running"]),
    }


async def overview_page(request: Request) -> Response:
    app = await app_of(request)
    live = await _status(request, app)
    guide = first_run(app, service_of(request).settings.lms_public_url, live["status"]["recent_cycles"])
    return site_of(request).render(
        request, "overview.html", **context(request, app, **live, first_run=guide, error="")
    )


async def status_fragment(request: Request) -> Response:
    """The state block alone: what the page polls while a cycle runs."""
    app = await app_of(request)
    return site_of(request).render(
        request, "overview_status.html", **context(request, app, **await _status(request, app))
    )


async def change_state(request: Request) -> Response:
    command = request.url.path.rsplit("/", 1)[1]
    app = await app_of(request)
    try:
        await operations.change_state(service_of(request), app, command)
    except EXPECTED as exc:
        return site_of(request).render(
            request,
            "overview.html",
            status_code=400,
            **context(request, app, **await _status(request, app), error=message_of(exc)),
        )
    return RedirectResponse(app_url(app, f"overview?done={command}"), status_code=303)


async def on_demand(request: Request) -> Response:
    """Provision one user now; the result's steps replace the form's result area."""
    app = await app_of(request)
    async with form_of(request) as form:
        upn = text(form, "upn").strip()
    result: dict[str, Any] | None = None
    error = ""
    if not upn:
        error = "Enter the userPrincipalName of a directory user to provision."
    elif not app.connected:
        error = f"{app.name} is not connected: Provisioning → Connect your application first."
    else:
        try:
            result = await provision_on_demand(service_of(request), app, upn)
        except EXPECTED as exc:
            error = message_of(exc)
    values = context(request, app, result=result, error=error, upn=upn)
    if is_htmx(request):
        return site_of(request).render(request, "on_demand_result.html", **values)
    values.update(await _status(request, app))
    return site_of(request).render(request, "overview.html", status_code=400 if error else 200, **values)


async def user_options(request: Request) -> Response:
    """<option>s of userPrincipalNames for the on-demand field's suggestions."""
    async with service_of(request).db.read() as conn:
        found = await queries.user_options(conn, query_text(request, "upn"))
    return site_of(request).render(request, "user_options.html", options=found)


def routes() -> list[BaseRoute]:
    return [
        Route(APP + "/overview", overview_page, methods=["GET"]),
        Route(APP + "/overview/status", status_fragment, methods=["GET"]),
        Route(APP + "/overview/users", user_options, methods=["GET"]),
        Route(APP + "/provision-on-demand", on_demand, methods=["POST"]),
        *(Route(APP + f"/{command}", change_state, methods=["POST"]) for command in COMMANDS),
    ]
