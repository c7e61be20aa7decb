"""The portal's ASGI application: `create_app(settings)` builds it, nothing happens at import."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client.metrics_core import Metric
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from enlist.lms import api_tokens
from enlist.lms.api import admin, departments, notifications, openapi, roles, scim, tenants, tokens
from enlist.lms.api.errors import api_failure_of_status
from enlist.lms.api.responses import scim_error_response
from enlist.lms.api.runtime import Portal, open_portal
from enlist.lms.api.throttle import FailedTokens
from enlist.lms.notify.sending import send_forever
from enlist.lms.store import synclog
from enlist.lms.store.tenants import list_tenants
from enlist.lms.web import site as admin_pages
from enlist.lms.web.site import build_site
from enlist.logs.middleware import RequestLog
from enlist.metrics import gauges
from enlist.metrics.exposition import metrics_route
from enlist.metrics.middleware import layers as metrics_layers
from enlist.scim.errors import ScimError, not_found
from enlist.settings import Settings
from enlist.web.api_errors import is_api_path
from enlist.web.bad_input import BodyTooLargeError, UnstorablePaths, bad_parameter, body_too_large
from enlist.web.deadline import RequestDeadline
from enlist.web.guard import AdminGuard
from enlist.web.pages import ADMIN_PREFIX, LOGIN_PATH
from enlist.web.params import ParameterError

logger = logging.getLogger(__name__)
PRUNE_EVERY_S = 3600


async def healthz(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    async with portal.db.read() as conn:
        await list_tenants(conn)
    return JSONResponse({"status": "ok"})


async def prune_sync_logs(portal: Portal) -> int:
    """Apply every tenant's sync log retention once; returns how many entries went."""
    removed = 0
    async with portal.db.write() as conn:
        for tenant in await list_tenants(conn):
            removed += await synclog.prune(conn, tenant.id, tenant.policy.log_retention_days)
    return removed


async def _prune_forever(portal: Portal) -> None:
    while True:
        try:
            await prune_sync_logs(portal)
        except Exception:
            logger.exception("sync log pruning failed; trying again in an hour")
        await asyncio.sleep(PRUNE_EVERY_S)


async def no_route(request: Request, _exc: Exception) -> Response:
    """A path no route matches: a SCIM error under /scim/ (a client parses it), the API's error
    under /api/, plain text elsewhere."""
    if request.url.path.startswith("/scim/"):
        return scim_error_response(not_found("no SCIM endpoint has this path"))
    if is_api_path(request.url.path):
        return api_failure_of_status(404, "no API route has this path")
    return PlainTextResponse("Not Found", status_code=404)


async def no_method(request: Request, exc: Exception) -> Response:
    """A method the route does not take: the API's error under /api/, Starlette's elsewhere."""
    if is_api_path(request.url.path):
        return api_failure_of_status(405, f"{request.method} is not a method of this route")
    assert isinstance(exc, HTTPException)
    return PlainTextResponse(exc.detail, status_code=405, headers=exc.headers)


async def refused_input(request: Request, exc: Exception) -> Response:
    """A bad query parameter (400) or a body over the limit (413): the API's error under /api/,
    the shared answer (a page, or JSON) elsewhere."""
    if is_api_path(request.url.path):
        return api_failure_of_status(413 if isinstance(exc, BodyTooLargeError) else 400, str(exc))
    return await (body_too_large if isinstance(exc, BodyTooLargeError) else bad_parameter)(request, exc)


async def server_error(request: Request, _exc: Exception) -> Response:
    """An unexpected failure: the API's error under /api/ (the traceback is logged), else text."""
    if is_api_path(request.url.path):
        return api_failure_of_status(500, "the portal failed to answer this request")
    return PlainTextResponse("Internal Server Error", status_code=500)


def scim_unavailable(detail: str) -> Response:
    """The deadline's 503 for SCIM, which answers SCIM errors."""
    return scim_error_response(ScimError(503, detail))


def api_unavailable(detail: str) -> Response:
    """The deadline's 503 for the admin JSON API, in its one error shape."""
    return api_failure_of_status(503, detail)


async def lms_gauges(request: Request) -> list[Metric]:
    """What `/metrics` reads when scraped: the database pool."""
    portal: Portal = request.app.state.portal
    return gauges.pool_use(portal.db)


def app_from_environment() -> Starlette:
    """The factory `enlist lms serve --workers N` hands to uvicorn: each worker reads the
    settings itself."""
    from enlist.settings import load_settings  # noqa: PLC0415

    return create_app(load_settings())


def create_app(settings: Settings, portal: Portal | None = None) -> Starlette:
    """The portal. With `portal` given (tests, the demo) the caller owns its database."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = portal is None
        running = portal or await open_portal(settings)
        app.state.portal = running
        pruner = asyncio.create_task(_prune_forever(running))
        tasks = [pruner]
        if own:  # `enlist lms serve`: deliver the alerts (a test's portal sends when it chooses)
            tasks.append(asyncio.create_task(send_forever(running.db, settings)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if own:
                await running.db.dispose()

    site = build_site()
    routes = [
        Route("/healthz", healthz),
        *openapi.routes(),
        *scim.routes(),
        *admin.routes(),
        *tenants.routes(),
        *departments.routes(),
        *roles.routes(),
        *notifications.routes(),
        *tokens.routes(),
        metrics_route(lms_gauges),
        *admin_pages.routes(site),
    ]
    measure, probe = metrics_layers("lms")
    middleware = [
        Middleware(RequestLog),
        measure,
        Middleware(
            RequestDeadline,
            seconds=settings.request_timeout_seconds,
            answers=(("/scim/", scim_unavailable), ("/api/", api_unavailable)),
        ),
        Middleware(scim.CanonicalEndpoints),
        Middleware(UnstorablePaths, skip=("/scim/", "/api/")),  # both answer their own 404
        Middleware(
            AdminGuard,
            db_of=lambda scope: scope["app"].state.portal.db,
            protected=(ADMIN_PREFIX,),
            public=(LOGIN_PATH,),
            login_path=LOGIN_PATH,
            max_body_bytes=settings.max_body_bytes,
            session_cookie=site.session_cookie,
        ),
        probe,
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=middleware,
        exception_handlers={
            404: no_route,
            405: no_method,
            ParameterError: refused_input,
            BodyTooLargeError: refused_input,
            Exception: server_error,
        },
    )
    app.state.site = site
    app.state.api_door = api_tokens.door()
    app.state.failed_tokens = FailedTokens(settings.failed_token_limit, settings.failed_token_window_seconds)
    if portal is not None:
        app.state.portal = portal  # usable without a lifespan (in-process ASGI clients)
    return app
