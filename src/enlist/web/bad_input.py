"""Input a route refuses before it does any work: a bad query parameter, a body over the limit.

Both services register `bad_parameter` for `ParameterError` and `body_too_large` for
`BodyTooLargeError`, so a route reads its query parameters with `enlist.web.params` and its
form through `limited_request`, and lets a refusal propagate: an admin page answers an HTML
page that says what is allowed, anything else `{"error": "…"}`. (SCIM routes turn a bad
parameter into a SCIM `Error` themselves: their clients parse that shape.)

Why the form limit is here and not only in `AdminGuard`: the guard buffers a form to find its
CSRF field, but a request that carries the token in `X-CSRF-Token` is passed on unread, and a
page that then parsed it read whatever size arrived (a 200 MiB upload was read whole).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from enlist.web.pages import ADMIN_PREFIX, Site
from enlist.web.params import ParameterError, storable


class BodyTooLargeError(Exception):
    """A request body past its route's limit; `str()` is the sentence to show."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"The request is larger than the limit of {limit:,} bytes; nothing was changed.")


def limited_request(request: Request, limit: int) -> Request:
    """`request` whose body raises `BodyTooLargeError` once more than `limit` bytes arrive (at
    once when `Content-Length` already says so), so a form parsed from it never holds more."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(limit)
    received = 0
    upstream = request.receive

    async def receive() -> Message:
        nonlocal received
        message = await upstream()
        received += len(message.get("body", b""))
        if received > limit:
            raise BodyTooLargeError(limit)
        return message

    limited: Receive = receive
    return Request(request.scope, limited)


def _page(request: Request, status: int, title: str, message: str) -> Response:
    site = getattr(request.app.state, "site", None)
    if request.url.path.startswith(ADMIN_PREFIX) and isinstance(site, Site):
        return site.render(request, "bad_request.html", status, page_title=title, message=message)
    return JSONResponse({"error": message}, status_code=status)


async def bad_parameter(request: Request, exc: Exception) -> Response:
    """400 with the parameter's message: an admin page under /admin, JSON anywhere else."""
    assert isinstance(exc, ParameterError)
    return _page(request, 400, "Not a valid address", str(exc))


async def body_too_large(request: Request, exc: Exception) -> Response:
    """413 with the limit: an admin page under /admin, JSON anywhere else."""
    assert isinstance(exc, BodyTooLargeError)
    return _page(request, 413, "Too large", str(exc))


class UnstorablePaths:
    """ASGI middleware: a path whose text holds NUL or a lone surrogate names nothing either
    database can store, so it is a 404 before any route compares it with a name (PostgreSQL
    refuses the comparison: it was a 500, found by the route fuzzer). Paths under `skip` are
    left to their routes (the SCIM routes answer a SCIM 404 themselves)."""

    def __init__(self, app: ASGIApp, *, skip: tuple[str, ...] = ()) -> None:
        self.app = app
        self.skip = skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and not storable(path) and not (self.skip and path.startswith(self.skip)):
            message = "No page has this address: it holds a character no name can have."
            await _page(Request(scope), 404, "Not found", message)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def storable_form(fields: Iterable[tuple[str, object]]) -> None:
    """Raise `ParameterError` (a 400 page) for a form field whose text neither database can
    store (NUL, a lone surrogate); files are not text and pass."""
    for name, value in fields:
        if isinstance(value, str) and not storable(value):
            raise ParameterError(name, "text without NUL", value)
