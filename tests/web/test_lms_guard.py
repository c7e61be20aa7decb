"""No portal page without a session, no portal form without the session's CSRF token, and no
tenant page for an admin limited to another tenant. The routes come from the site itself, so a
page added later is covered without touching this file."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from starlette.routing import Route

from enlist.lms.api.runtime import Portal
from enlist.lms.api_tokens import api_tokens
from enlist.lms.store.tables import departments, secret_tokens, tenants
from enlist.lms.web.site import build_site, routes
from enlist.web.pages import LOGIN_PATH
from enlist.web.tables import admin_sessions
from tests.helpers import make_tenant
from tests.web.conftest import Site
from tests.web.session import csrf_of, make_admin, sign_in


def _admin_routes(method: str) -> list[str]:
    found = [
        r.path
        for r in routes(build_site())
        if isinstance(r, Route) and r.methods and method in r.methods and r.path.startswith("/admin")
    ]
    return sorted({p for p in found if p != LOGIN_PATH})


POSTS = _admin_routes("POST")
PAGES = _admin_routes("GET")
# A sample value for every path parameter: the page is refused before it is looked up.
SAMPLE = {"tenant": "acme", "user_id": "u1", "group_id": "g1", "entry_id": "1", "token_id": "1"}


def concrete(path: str) -> str:
    for name, value in SAMPLE.items():
        path = path.replace("{" + name + "}", value).replace("{" + name + ":int}", value)
    assert "{" not in path, path
    return path


FORMS: dict[str, dict[str, Any]] = {
    "/admin/tenants": {"name": "Forged"},
    "/admin/tenants/acme/sync/token": {"overlap_hours": "0"},
    "/admin/tenants/acme/sync/settings": {"seat_limit": "1", "group_mode": "groups"},
    "/admin/tenants/acme/departments": {"name": "Forged"},
}


async def snapshot(site: Site) -> list[Any]:
    """Everything a portal form can change."""
    async with site.db.read() as conn:
        return [
            (await conn.execute(sa.select(table).order_by(*table.primary_key.columns))).all()
            for table in (tenants, secret_tokens, departments, admin_sessions, api_tokens)
        ]


def test_the_site_has_the_forms_this_file_expects() -> None:
    assert len(POSTS) >= 7
    assert "/admin/tenants/{tenant}/sync/token" in POSTS


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_sends_a_visitor_without_a_session_to_sign_in(portal_site: Site, path: str) -> None:
    answer = await portal_site.client.get(concrete(path))
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/admin/login?next=")


@pytest.mark.parametrize("path", POSTS)
async def test_every_form_is_refused_without_a_session_and_changes_nothing(
    portal_site: Site, portal: Portal, path: str
) -> None:
    await make_tenant(portal, portal_site.client, "acme")
    before = await snapshot(portal_site)
    answer = await portal_site.client.post(
        concrete(path), data={**FORMS.get(concrete(path), {}), "csrf_token": "x"}
    )
    assert answer.status_code == 401
    assert await snapshot(portal_site) == before


@pytest.mark.parametrize("token", [None, "", "forged-token"])
@pytest.mark.parametrize("path", POSTS)
async def test_every_form_is_refused_without_the_sessions_csrf_token_and_changes_nothing(
    portal_site: Site, portal: Portal, path: str, token: str | None
) -> None:
    await make_tenant(portal, portal_site.client, "acme")
    await make_admin(portal_site.db)
    await sign_in(portal_site.client)
    before = await snapshot(portal_site)
    data = {**FORMS.get(concrete(path), {})}
    if token is not None:
        data["csrf_token"] = token
    answer = await portal_site.client.post(concrete(path), data=data)
    assert answer.status_code == 403
    assert await snapshot(portal_site) == before


async def test_an_admin_limited_to_one_tenant_sees_only_that_one(portal_site: Site, portal: Portal) -> None:
    await make_tenant(portal, portal_site.client, "acme")
    await make_tenant(portal, portal_site.client, "other")
    await make_admin(portal_site.db, "lim@example.com", tenant="acme")
    await sign_in(portal_site.client, "lim@example.com")
    listing = await portal_site.client.get("/admin/tenants")
    assert "/admin/tenants/acme/sync" in listing.text
    assert "/admin/tenants/other" not in listing.text
    assert "New tenant" not in listing.text
    assert (await portal_site.client.get("/admin/tenants/acme/users")).status_code == 200
    for path in PAGES:
        if "{tenant}" in path:
            page = await portal_site.client.get(
                concrete(path).replace("/acme", "/other"), follow_redirects=True
            )
            assert page.status_code == 404, path
    token = csrf_of(listing)  # the limited admin's forms for another tenant are 404s too
    before = await snapshot(portal_site)
    revoke = await portal_site.client.post("/admin/tenants/other/sync/revoke", data={"csrf_token": token})
    assert revoke.status_code == 404
    create = await portal_site.client.post("/admin/tenants", data={"name": "Mine", "csrf_token": token})
    assert create.status_code == 403
    assert await snapshot(portal_site) == before


async def test_an_unknown_tenant_is_a_404(portal_site: Site) -> None:
    await make_admin(portal_site.db)
    await sign_in(portal_site.client)
    page = await portal_site.client.get("/admin/tenants/nobody/sync")
    assert page.status_code == 404
    assert "does not exist, or your account may not see it" in page.text
