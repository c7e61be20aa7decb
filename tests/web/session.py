"""Signing in to an admin site the way a browser does, for in-process page tests."""

from __future__ import annotations

import html
import re

import httpx2

from enlist.db.database import Database
from enlist.web import accounts

PASSWORD = "correct horse battery staple"
_LOGIN_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_SESSION_CSRF = re.compile(r'hx-headers=\'\{"X-CSRF-Token": "([^"]+)"\}\'')


async def make_admin(db: Database, email: str = "ann@example.com", tenant: str | None = None) -> None:
    async with db.write() as conn:
        await accounts.create_admin(conn, email, PASSWORD, tenant)


async def sign_in(
    client: httpx2.AsyncClient, email: str = "ann@example.com", password: str = PASSWORD
) -> httpx2.Response:
    form = await client.get("/admin/login")
    token = _LOGIN_CSRF.search(form.text)
    assert token, form.text
    return await client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": html.unescape(token.group(1))},
    )


def csrf_of(page: httpx2.Response) -> str:
    """The session's CSRF token, as a signed-in page carries it for htmx."""
    found = _SESSION_CSRF.search(page.text)
    assert found, "the page carries no CSRF token: is the admin signed in?"
    return html.unescape(found.group(1))
