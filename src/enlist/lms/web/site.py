"""The portal's admin site: its title, navigation and routes."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from enlist.lms.api.runtime import portal_of
from enlist.lms.store.tenants import list_tenants
from enlist.web.guard import session_of
from enlist.web.pages import ADMIN_PREFIX, NavItem, Site

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _nav(request: Request) -> list[NavItem]:
    tenant = request.path_params.get("tenant")
    items = [NavItem("Tenants", ADMIN_PREFIX + "/tenants")]
    if tenant:
        base = f"{ADMIN_PREFIX}/tenants/{tenant}"
        items += [
            NavItem("User synchronization", base + "/sync"),
            NavItem("Users", base + "/users"),
            NavItem("Departments", base + "/departments"),
            NavItem("Groups", base + "/groups"),
            NavItem("Sync log", base + "/log"),
        ]
    return items


def build_site() -> Site:
    return Site(
        title="enlist learning portal",
        templates_dir=TEMPLATES,
        db_of=lambda request: portal_of(request).db,
        nav=_nav,
        home=ADMIN_PREFIX + "/tenants",
        admin_command="enlist lms admin create EMAIL",
    )


async def tenants_page(request: Request) -> Response:
    site: Site = request.app.state.site
    admin = session_of(request).admin
    async with portal_of(request).db.read() as conn:
        tenants = [t for t in await list_tenants(conn) if admin.may_see(t.slug)]
    return site.render(request, "tenants.html", page_title="Tenants", tenants=tenants)


def routes(site: Site) -> list[BaseRoute]:
    return [
        *site.routes(),
        Route(ADMIN_PREFIX, site.to_home, methods=["GET"]),
        Route(ADMIN_PREFIX + "/tenants", tenants_page, methods=["GET"]),
    ]
