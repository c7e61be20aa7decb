"""The provisioning service's ASGI application: health, a JSON API, and the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client.metrics_core import Metric
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from enlist.api_tokens.door import requires
from enlist.logs.middleware import RequestLog
from enlist.metrics import gauges
from enlist.metrics.exposition import metrics_route
from enlist.metrics.middleware import layers as metrics_layers
from enlist.provisioning import api_tokens
from enlist.provisioning.api import (
    app_config,
    app_writes,
    assignments,
    job_routes,
    jobs,
    more_writes,
    preview_routes,
    source_adds,
)
from enlist.provisioning.api import sources as source_writes
from enlist.provisioning.api import token_routes as api_token_routes
from enlist.provisioning.api.errors import (
    ApiUnstorablePaths,
    bad_parameter_error,
    deadline_answer,
    http_error,
    no_such_app,
    too_large_error,
)
from enlist.provisioning.api.openapi import openapi_json
from enlist.provisioning.engine import status as app_status
from enlist.provisioning.engine.scheduler import scheduler_loop
from enlist.provisioning.gauges import provisioning_state
from enlist.provisioning.logs import filters
from enlist.provisioning.logs import store as log_store
from enlist.provisioning.service import Service, open_service
from enlist.provisioning.sources.push import routes as push_routes
from enlist.provisioning.sources.push import worker as push_worker
from enlist.provisioning.store import apps as app_store
from enlist.settings import Settings
from enlist.web.bad_input import BodyTooLargeError, UnstorablePaths
from enlist.web.deadline import RequestDeadline
from enlist.web.guard import AdminGuard
from enlist.web.pages import ADMIN_PREFIX, LOGIN_PATH
from enlist.web.params import ParameterError


def service_of(request: Request) -> Service:
    service = request.app.state.service
    assert isinstance(service, Service)
    return service


async def healthz(request: Request) -> Response:
    async with service_of(request).db.read() as conn:
        await app_store.list_apps(conn)
    return JSONResponse({"status": "ok"})


@requires("read")
async def apps(request: Request) -> Response:
    """---
    summary: Every application, as `app list --json` shows it.
    responses:
      "200": {description: A list of applications.}
    """
    service = service_of(request)
    async with service.db.read() as conn:
        found = await app_store.list_apps(conn)
    return JSONResponse([await app_status.describe(service, a) for a in found])


@requires("read")
async def app_detail(request: Request) -> Response:
    """---
    summary: One application's status, as `app status NAME --json` shows it.
    parameters: [{$ref: "#/components/parameters/name"}]
    responses:
      "200": {description: The application's status.}
      "404": {$ref: "#/components/responses/Error"}
    """
    service = service_of(request)
    async with service.db.read() as conn:
        found = await app_store.find_app(conn, request.path_params["name"])
    if found is None:
        return no_such_app(request.path_params["name"])
    return JSONResponse(await app_status.status(service, found))


@requires("read")
async def app_logs(request: Request) -> Response:
    """---
    summary: The provisioning log, filtered as `logs show` filters it (query parameters).
    parameters: [{$ref: "#/components/parameters/name"}]
    responses:
      "200": {description: The matching log records.}
      "400": {description: A query parameter that cannot be used.}
      "404": {$ref: "#/components/responses/Error"}
    """
    service = service_of(request)
    wanted = filters.log_filter(request.query_params)  # a bad parameter: 400 (web.bad_input)
    async with service.db.read() as conn:
        found = await app_store.find_app(conn, request.path_params["name"])
        if found is None:
            return no_such_app(request.path_params["name"])
        records = await log_store.read(conn, found.id, wanted)
    return JSONResponse(records)


async def provisioning_gauges(request: Request) -> list[Metric]:
    """What `/metrics` reads from the database when scraped."""
    db = service_of(request).db
    return gauges.pool_use(db) + await provisioning_state(db)


def app_from_environment() -> Starlette:
    """The factory `enlist provisioning serve --workers N` hands to uvicorn: each worker reads the
    settings itself and runs a scheduler (the leases keep to one run of each cycle and read)."""
    from enlist.settings import load_settings  # noqa: PLC0415

    return create_app(load_settings())


def app_without_scheduler_from_environment() -> Starlette:
    """The factory of `serve --workers N --no-scheduler`."""
    from enlist.settings import load_settings  # noqa: PLC0415

    return create_app(load_settings(), scheduler=False)


def create_app(settings: Settings, *, scheduler: bool = True, service: Service | None = None) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = service is None
        running = service or await open_service(settings)
        app.state.service = running
        task = (
            asyncio.create_task(scheduler_loop(running, settings.scheduler_poll_seconds))
            if scheduler
            else None
        )
        # Push sources' bulk uploads are applied in the background, scheduler or not.
        app.state.push_wake = asyncio.Event()
        bulk_worker = asyncio.create_task(
            push_worker.run(running, app.state.push_wake, settings.scheduler_poll_seconds)
        )
        try:
            yield
        finally:
            bulk_worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await bulk_worker
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await jobs.stop_all(getattr(app.state, "job_tasks", set()))  # each marked interrupted
            await admin_pages.stop_source_reads(app)  # Sync now's reads still running here
            if own:
                await running.db.dispose()

    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/api/v1/apps", apps),
        Route("/api/v1/apps/{name}", app_detail),
        Route("/api/v1/apps/{name}/logs", app_logs),
        *api_token_routes.routes(),
        *app_writes.routes(),
        *assignments.routes(),
        *source_writes.routes(),
        *source_adds.routes(),
        *app_config.routes(),
        *more_writes.routes(),
        *job_routes.routes(),
        *preview_routes.routes(),
        Route("/api/openapi.json", openapi_json),
        *push_routes.routes(),
        metrics_route(provisioning_gauges),
    ]
    from enlist.provisioning.web import site as admin_pages  # noqa: PLC0415 (it imports this module)

    site = admin_pages.build_site()
    routes += admin_pages.routes(site)
    guard = Middleware(
        AdminGuard,
        db_of=lambda scope: scope["app"].state.service.db,
        protected=(ADMIN_PREFIX, "/api"),
        public=(LOGIN_PATH,),
        login_path=LOGIN_PATH,
        max_body_bytes=settings.max_body_bytes,
        session_cookie=site.session_cookie,
        token_paths=("/api",),
    )
    measure, probe = metrics_layers("provisioning")
    deadline = Middleware(
        RequestDeadline,
        seconds=settings.request_timeout_seconds,
        # push clients read SCIM errors; API clients the API's error shape
        answers=(("/scim/", push_routes.deadline_answer), ("/api/", deadline_answer)),
    )
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(RequestLog),
            measure,
            deadline,
            Middleware(ApiUnstorablePaths),
            Middleware(UnstorablePaths),
            guard,
            probe,
        ],
        exception_handlers={
            ParameterError: bad_parameter_error,
            BodyTooLargeError: too_large_error,
            HTTPException: http_error,
        },
    )
    app.state.site = site
    app.state.api_door = api_tokens.door(settings)
    if service is not None:
        app.state.service = service
    return app
