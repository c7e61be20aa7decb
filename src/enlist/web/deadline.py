"""A time limit on every request of both services: past it the request is cancelled and answered
503, in the format its caller reads (SCIM, JSON or an HTML page).

Cancelling the handler unwinds its `Database.write()` block, which rolls the transaction back, so
a request that ran out of time has changed nothing. A 503 is what a SCIM client (Entra among
them) retries later, which is right for a request that was slow because the database was busy.

The deadline also reaches the statements themselves: it is published in
`enlist.db.admission.DEADLINE` (with the tenant the path names in `TENANT`), so an SQLite
statement running on the event loop is interrupted at the deadline instead of after it, and a
slow statement waiting for or running on the slow lane is counted against its own tenant.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Sequence
from html import escape

from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from enlist.db.admission import DEADLINE, TENANT

logger = logging.getLogger(__name__)
RETRY_AFTER_S = "5"

# The tenant a path names: /scim/v2/{tenant}/…, /api/v1/tenants/{tenant}/…, /admin/tenants/{tenant}/…
_TENANT_PATH = re.compile(r"^/(?:scim/v2|api/v1/tenants|admin/tenants)/([^/]+)")

Answer = Callable[[str], Response]


def tenant_of(path: str) -> str:
    """The tenant a request path is about, or "" for what no single tenant owns."""
    found = _TENANT_PATH.match(path)
    return found.group(1) if found else ""


def json_answer(detail: str) -> Response:
    return JSONResponse({"error": detail}, status_code=503)


def html_answer(detail: str) -> Response:
    page = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Try again</title>"
        f"<h1>This page took too long</h1><p>{escape(detail)}</p></html>"
    )
    return HTMLResponse(page, status_code=503)


class RequestDeadline:
    """ASGI middleware: a request still running after `seconds` gets a 503. `answers` maps a path
    prefix to the answer for it (the first that matches); other paths get JSON when the caller
    asks for JSON and an HTML page otherwise. Once the answer has started it is let finish (its
    body is already on its way: an export may stream for longer than the deadline)."""

    def __init__(self, app: ASGIApp, seconds: float, answers: Sequence[tuple[str, Answer]] = ()) -> None:
        self.app = app
        self.seconds = seconds
        self.answers = tuple(answers)

    def _answer(self, scope: Scope, detail: str) -> Response:
        path: str = scope["path"]
        for prefix, answer in self.answers:
            if path.startswith(prefix):
                return answer(detail)
        accept = Headers(scope=scope).get("accept", "")
        if path.startswith("/api/") or ("json" in accept and "html" not in accept):
            return json_answer(detail)
        return html_answer(detail)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.timeout(self.seconds)
        # Reset when the request ends: an app called in the caller's own task (httpx's
        # ASGITransport, the engine against an in-process portal) must not leave its tenant and
        # deadline on the caller's later statements.
        deadline_token = DEADLINE.set(time.monotonic() + self.seconds)
        tenant_token = TENANT.set(tenant_of(scope["path"]))
        try:
            await self._call(scope, receive, send, deadline)
        finally:
            try:
                TENANT.reset(tenant_token)
                DEADLINE.reset(deadline_token)
            except ValueError:  # the body was streamed from another context
                TENANT.set("")
                DEADLINE.set(None)

    async def _call(self, scope: Scope, receive: Receive, send: Send, deadline: asyncio.Timeout) -> None:
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                deadline.reschedule(None)
                DEADLINE.set(None)  # in the task that streams the body, which may outlive the deadline
            await send(message)

        try:
            async with deadline:
                await self.app(scope, receive, send_tracked)
        except TimeoutError:
            # Expired here, or a statement interrupted at the deadline before the loop could fire it.
            if started or not (deadline.expired() or asyncio.get_running_loop().time() >= _when(deadline)):
                raise
            logger.warning(
                "request cancelled after %.1f s: %s %s", self.seconds, scope["method"], scope["path"]
            )
            detail = f"the request took longer than {self.seconds:g} s and was rolled back; retry it"
            answer = self._answer(scope, detail)
            answer.headers.setdefault("Retry-After", RETRY_AFTER_S)
            await answer(scope, receive, send)


def _when(deadline: asyncio.Timeout) -> float:
    when = deadline.when()
    return float("inf") if when is None else when
