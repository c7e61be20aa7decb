"""`RequestLog`: one `http.request` event per HTTP request, and its request id.

Plain ASGI, placed first among an app's middleware. It takes the request id from `X-Request-Id`
when it is sane (`context.sane_request_id`), makes one otherwise, binds it for everything the
request logs or writes (the sync log, the provisioning log, the SCIM requests of a cycle it
starts), and returns it in the response's `X-Request-Id`. The event names the route's template
(`/scim/v2/{tenant}/Users/{id}`), never the path or its query string, whose values may be a
user's (`filter=userName eq "…"`); the tenant only when the path names one in a slug's shape.
The client address is `scope["client"]`, which uvicorn's proxy-headers middleware has already
set from `X-Forwarded-For` when, and only when, the peer is a trusted proxy (ADR 0013).
"""

from __future__ import annotations

import logging
import re
import time

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from enlist.logs.context import bound, sane_request_id
from enlist.logs.events import event

HEADER = b"x-request-id"
UNMATCHED = "unmatched"
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")  # a tenant slug's shape (lms.domain.tenants)


def route_of(scope: Scope) -> tuple[str, dict[str, object]]:
    """The template and path parameters of the request's route: the one Starlette's router
    matched, else (a middleware answered before the router: the admin guard's redirect, the
    deadline's 503) the first route of the app whose template matches; `unmatched` when none."""
    route = scope.get("route")
    if route is None:
        router = getattr(scope.get("app"), "router", None)
        for candidate in getattr(router, "routes", ()):
            match, child = candidate.matches(scope)
            if match != Match.NONE:
                return getattr(candidate, "path", UNMATCHED), child.get("path_params", {})
        return UNMATCHED, {}
    path = getattr(route, "path", None)
    return (path if isinstance(path, str) else UNMATCHED), scope.get("path_params", {})


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == HEADER), None)
        request_id = sane_request_id(given.decode("latin-1")) if given is not None else None
        with bound(request_id) as rid:
            header = (HEADER, rid.encode("ascii"))
            status = 500  # what the client gets if the application fails before answering
            started = time.perf_counter()

            async def sending(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message = {**message, "headers": [*message.get("headers", []), header]}
                await send(message)

            failed = True
            try:
                await self.app(scope, receive, sending)
                failed = False
            finally:
                self._record(scope, status, time.perf_counter() - started, failed=failed)

    @staticmethod
    def _record(scope: Scope, status: int, seconds: float, *, failed: bool) -> None:
        route, params = route_of(scope)
        tenant = params.get("tenant")
        client = scope.get("client")
        fields: dict[str, object] = {
            "method": scope["method"],
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
            "client": client[0] if client else None,
        }
        if isinstance(tenant, str) and _SLUG.fullmatch(tenant):
            fields["tenant"] = tenant
        level = logging.ERROR if failed or status >= 500 else logging.INFO
        event("http.request", level, **fields)
