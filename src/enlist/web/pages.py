"""The page shell both admin UIs share: templates, rendering, security headers, sign-in/out.

Each service builds one `Site` with its own templates folder (searched before the shared one),
its title and its navigation, and adds `site.routes()` to its application behind `AdminGuard`.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from enlist.db.database import Database
from enlist.web.accounts import SESSION_LIFETIME, check_credentials, close_session, open_session
from enlist.web.guard import CSRF_FIELD, cookie_value
from enlist.web.paths import ADMIN_PREFIX as ADMIN_PREFIX  # noqa: PLC0414 (re-exported for the sites)
from enlist.web.signin_throttle import SignInThrottle

HERE = Path(__file__).resolve().parent
LOGIN_PATH = ADMIN_PREFIX + "/login"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    href: str


@dataclass
class Site:
    """One admin UI: its name, navigation, templates and database."""

    title: str
    templates_dir: Path
    db_of: Callable[[Request], Database]
    nav: Callable[[Request], list[NavItem]]
    home: str = ADMIN_PREFIX
    admin_command: str = "enlist … admin create EMAIL"
    # Cookies are per site: on one host (the demo: two ports of 127.0.0.1) a browser shares
    # cookies across ports, and one site's sign-in must not end the other's session.
    cookie_prefix: str = "enlist"
    throttle: SignInThrottle = field(default_factory=SignInThrottle)
    env: jinja2.Environment = field(init=False)

    def __post_init__(self) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(self.templates_dir), str(HERE / "templates")]),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            enable_async=False,
        )
        self.env.globals["site_title"] = self.title
        self.env.globals["admin_command"] = self.admin_command

    @property
    def session_cookie(self) -> str:
        return f"{self.cookie_prefix}_session"

    @property
    def login_csrf_cookie(self) -> str:
        return f"{self.cookie_prefix}_login_csrf"

    def render(
        self,
        request: Request,
        template: str,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        session = getattr(request.state, "session", None)
        nav = self.nav(request) if session else []
        page = self.env.get_template(template).render(
            request=request,
            session=session,
            csrf_token=session.csrf_token if session else "",
            nav=nav,
            current_href=_current(nav, quote(request.url.path)),
            path=quote(request.url.path),  # as nav hrefs spell it (quoted), for aria-current
            **context,
        )
        return HTMLResponse(page, status_code=status_code, headers={**SECURITY_HEADERS, **(headers or {})})

    def routes(self) -> list[BaseRoute]:
        return [
            Route(LOGIN_PATH, self.login_form, methods=["GET"]),
            Route(LOGIN_PATH, self.login, methods=["POST"]),
            Route(ADMIN_PREFIX + "/logout", self.logout, methods=["POST"]),
            Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
            Route("/", self.to_home, methods=["GET"]),
        ]

    async def to_home(self, _request: Request) -> Response:
        return RedirectResponse(self.home, status_code=303)

    def _login_page(
        self,
        request: Request,
        *,
        error: str = "",
        email: str = "",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        token = secrets.token_urlsafe(24)
        response = self.render(
            request,
            "login.html",
            status_code=status,
            headers=headers,
            login_csrf=token,
            error=error,
            email=email,
            next=_safe_next(request.query_params.get("next", "")),
        )
        response.set_cookie(
            self.login_csrf_cookie,
            token,
            httponly=True,
            samesite="strict",
            secure=_secure(request),
            path=LOGIN_PATH,
            max_age=3600,
        )
        return response

    async def login_form(self, request: Request) -> Response:
        return self._login_page(request)

    async def login(self, request: Request) -> Response:
        # The client is the connection's peer, or what a trusted proxy says it is
        # (settings.trusted_proxies, applied by the server before any request reaches here).
        client = request.client.host if request.client else "?"
        async with request.form(max_files=0, max_fields=10) as form:
            email, password = str(form.get("email", "")), str(form.get("password", ""))
            presented, next_url = str(form.get(CSRF_FIELD, "")), str(form.get("next", ""))
        wait = self.throttle.retry_after(client, email)
        if wait:
            return self._login_page(
                request,
                error=f"Too many failed sign-ins from this address. Try again in {wait} seconds.",
                email=email,
                status=429,
                headers={"Retry-After": str(wait)},
            )
        expected = cookie_value(request.headers, self.login_csrf_cookie)
        if not expected or not hmac.compare_digest(presented.encode(), expected.encode()):
            return self._login_page(
                request, error="The sign-in form expired. Please sign in again.", email=email, status=403
            )
        db = self.db_of(request)
        async with db.read() as conn:
            admin = await check_credentials(conn, email, password)
        if admin is None:
            self.throttle.failed(client, email)
            return self._login_page(
                request, error="The email or password is not right.", email=email, status=401
            )
        self.throttle.succeeded(client, email)
        async with db.write() as conn:
            cookie, _session = await open_session(conn, admin)
        response = RedirectResponse(_safe_next(next_url) or self.home, status_code=303)
        response.set_cookie(
            self.session_cookie,
            cookie,
            httponly=True,
            samesite="lax",
            secure=_secure(request),
            path="/",
            max_age=int(SESSION_LIFETIME.total_seconds()),
        )
        response.delete_cookie(self.login_csrf_cookie, path=LOGIN_PATH)
        return response

    async def logout(self, request: Request) -> Response:
        async with self.db_of(request).write() as conn:
            await close_session(conn, cookie_value(request.headers, self.session_cookie))
        response = RedirectResponse(LOGIN_PATH, status_code=303)
        response.delete_cookie(self.session_cookie, path="/")
        return response


def _current(nav: list[NavItem], path: str) -> str:
    """The navigation entry a page belongs to: the longest one its path starts with."""
    matching = [item.href for item in nav if path == item.href or path.startswith(item.href + "/")]
    return max(matching, key=len, default="")


def _secure(request: Request) -> bool:
    """Cookies are Secure whenever the page came over HTTPS (directly or via a proxy that says so)."""
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def _safe_next(target: str) -> str:
    """Only a path inside the admin pages: never another site (open redirect)."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith(ADMIN_PREFIX) or target.startswith("//"):
        return ""
    if "\\" in target:
        return ""
    return target
