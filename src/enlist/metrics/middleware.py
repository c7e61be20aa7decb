"""`RequestMetrics`: counts and times every HTTP request by its route template and status.

Plain ASGI, outermost, so it sees every answer (a 503 of the deadline, a 413 of the guard);
`RouteProbe`, innermost, tells it which route answered (a middleware in between may hand the
router a copy of the scope, so the router's `scope["route"]` is passed back through the request's
state, which every copy shares). `layers(service)` gives the pair in that order. The route label
is the matched route's template (`/scim/v2/{tenant}/Users/{id}`), never the raw path: a path no
route matches counts as `unmatched`. A SCIM request whose Secret token was accepted
also counts in `enlist_scim_operations_total` under its tenant's slug (`throttle` puts the
accepted tenant in the request's state; a refused request has no tenant to name).
"""

from __future__ import annotations

import time

from starlette.middleware import Middleware
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from enlist.metrics.instruments import HTTP_LATENCY, HTTP_REQUESTS, SCIM_OPERATIONS, WORKERS, outcome_of

UNMATCHED = "unmatched"
ROUTE_KEY = "metrics_route"
"""Where `RouteProbe` leaves the matched route in `scope["state"]`."""
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
SCIM_PREFIX = "/scim/v2/{tenant}/"
SCIM_TENANT_KEY = "scim_tenant_slug"
"""Where the Secret token check leaves the accepted tenant's slug in `scope["state"]`."""


def route_template(scope: Scope) -> str:
    """The template of the route that answered, or `unmatched`."""
    route = scope.get("state", {}).get(ROUTE_KEY)
    return route.path if isinstance(route, Route) else UNMATCHED


def layers(service: str) -> tuple[Middleware, Middleware]:
    """(outermost, innermost) middleware of a service's application. Building them counts this
    process as one of the service's workers (`enlist_worker_processes`): each worker builds its
    own application."""
    WORKERS.labels(service).set(1)
    return Middleware(RequestMetrics, service=service), Middleware(RouteProbe)


class RouteProbe:
    """Passes the route the router matched back to `RequestMetrics` (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            if scope["type"] == "http" and "route" in scope:
                scope.setdefault("state", {})[ROUTE_KEY] = scope["route"]


def scim_resource(template: str) -> str:
    """`Users`, `Groups`, `Schemas`, … : the template's first segment after the tenant."""
    return template[len(SCIM_PREFIX) :].split("/", 1)[0] or "root"


class RequestMetrics:
    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})  # shared with every copy of the scope further in
        started = time.perf_counter()
        status = 500  # what the client gets if the application fails before answering

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        template = route_template(scope)
        method = scope["method"] if scope["method"] in METHODS else "other"
        HTTP_REQUESTS.labels(self.service, template, method, str(status)).inc()
        HTTP_LATENCY.labels(self.service, template, method).observe(seconds)
        tenant = scope.get("state", {}).get(SCIM_TENANT_KEY)
        if isinstance(tenant, str) and template.startswith(SCIM_PREFIX):
            SCIM_OPERATIONS.labels(tenant, scim_resource(template), method, outcome_of(status)).inc()
