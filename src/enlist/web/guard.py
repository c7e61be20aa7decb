"""The door of the admin pages: a valid session for every page, a valid CSRF token for every form.

`AdminGuard` is plain ASGI middleware in front of the whole application. For paths under the
protected prefixes it looks the session cookie up in the database; without a live session a page
request is sent to the sign-in form (303) and anything else gets 401. For every request that can
change something (any method but GET/HEAD/OPTIONS) it also requires the session's CSRF token,
either in the `X-CSRF-Token` header (htmx sends it on every request) or in the `csrf_token` field
of a form. Under `token_paths` (the JSON API), a request with no session goes on to its route,
which asks for an API token (`enlist.api_tokens.door`); it carries no session, so no CSRF token.

The whole body of such a request is read here, before the page runs, and replayed to it
unchanged: a page may open its write transaction before it parses the form, and a client that
sends its headers and then trickles the body must not hold the database's single SQLite writer
(every tenant's SCIM writes) while it does. Reading is bounded by `max_body_bytes` and, in front
of this guard, by the request deadline.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from http.cookies import SimpleCookie
from urllib.parse import quote

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from enlist.db.database import Database
from enlist.web.accounts import Session, find_session

CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def cookie_value(headers: Headers, name: str) -> str:
    jar = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # noqa: BLE001 - a mangled Cookie header is simply no session
        return ""
    morsel = jar.get(name)
    return morsel.value if morsel else ""


def session_of(request: Request) -> Session:
    """The signed-in admin's session; only callable behind `AdminGuard`."""
    session = request.state.session
    assert isinstance(session, Session)
    return session


class AdminGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        db_of: Callable[[Scope], Database],
        protected: tuple[str, ...],
        public: tuple[str, ...],
        login_path: str,
        max_body_bytes: int,
        session_cookie: str,
        token_paths: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.db_of = db_of
        self.protected = protected
        self.public = public
        self.login_path = login_path
        self.max_body_bytes = max_body_bytes
        self.session_cookie = session_cookie
        self.token_paths = token_paths

    def _guards(self, path: str) -> bool:
        if any(path == p or path.startswith(p + "/") for p in self.public):
            return False
        return any(path == p or path.startswith(p + "/") for p in self.protected)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._guards(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        session = await self._session(scope, headers)
        method = scope["method"]
        if session is None and _under(scope["path"], self.token_paths):
            await self.app(scope, receive, send)  # the route checks the API token (api_tokens.door)
            return
        if session is None:
            await self._refuse_anonymous(scope, method, headers)(scope, receive, send)
            return
        scope.setdefault("state", {})["session"] = session
        if method in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read_body(receive)
        except _ClientLeft:
            return  # nobody to answer, and a half-sent form must not reach the page
        if body is None:
            await PlainTextResponse("The form is too large.", status_code=413)(scope, receive, send)
            return
        replay = _replaying(body, receive)
        presented = headers.get(CSRF_HEADER)
        if presented is None and headers.get("content-type", "").startswith(FORM_TYPES):
            presented = await _form_field(scope, body, CSRF_FIELD)
        if not presented or not hmac.compare_digest(presented.encode(), session.csrf_token.encode()):
            refusal = PlainTextResponse(
                "This form has expired or did not come from this site. Reload the page and try again.",
                status_code=403,
            )
            await refusal(scope, receive, send)
            return
        await self.app(scope, replay, send)

    async def _session(self, scope: Scope, headers: Headers) -> Session | None:
        cookie = cookie_value(headers, self.session_cookie)
        if not cookie:
            return None
        async with self.db_of(scope).read() as conn:
            return await find_session(conn, cookie)

    def _refuse_anonymous(self, scope: Scope, method: str, headers: Headers) -> Response:
        if method in SAFE_METHODS and "application/json" not in headers.get("accept", ""):
            target = scope["path"] + (("?" + scope["query_string"].decode()) if scope["query_string"] else "")
            if headers.get("hx-request"):
                # htmx follows HX-Redirect with a full page load, not a swap of the fragment.
                return Response(status_code=204, headers={"HX-Redirect": self.login_path})
            return RedirectResponse(f"{self.login_path}?next={quote(target, safe='')}", status_code=303)
        return PlainTextResponse("Sign in first: this page needs an admin session.", status_code=401)

    async def _read_body(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientLeft
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


class _ClientLeft(Exception):  # noqa: N818 - an event, not an error
    """The client went away before its request body was complete."""


async def _form_field(scope: Scope, body: bytes, name: str) -> str | None:
    request = Request(scope, _replaying(body, _disconnected))
    try:
        form = await request.form()
    except Exception:  # noqa: BLE001 - an unparsable form carries no token
        return None
    try:
        value = form.get(name)
        return value if isinstance(value, str) else None
    finally:
        await form.close()


async def _disconnected() -> Message:
    return {"type": "http.disconnect"}


def _replaying(body: bytes, then: Receive) -> Receive:
    """The body, already read, once; afterwards whatever the connection says next."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await then()

    return receive
