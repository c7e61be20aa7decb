"""The provisioning service's admin site: its title, navigation and routes."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from enlist.provisioning.api.app import service_of
from enlist.provisioning.store import apps as app_store
from enlist.web.pages import ADMIN_PREFIX, NavItem, Site

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _nav(request: Request) -> list[NavItem]:
    items = [
        NavItem("Enterprise applications", ADMIN_PREFIX + "/apps"),
        NavItem("Directory", ADMIN_PREFIX + "/directory"),
    ]
    name = request.path_params.get("app")
    if name:
        base = f"{ADMIN_PREFIX}/apps/{name}"
        items += [
            NavItem("Overview", base + "/overview"),
            NavItem("Users and groups", base + "/users-and-groups"),
            NavItem("Provisioning", base + "/provisioning"),
            NavItem("Provisioning logs", base + "/logs"),
        ]
    return items


def build_site() -> Site:
    return Site(
        title="enlist provisioning",
        templates_dir=TEMPLATES,
        db_of=lambda request: service_of(request).db,
        nav=_nav,
        home=ADMIN_PREFIX + "/apps",
        admin_command="enlist provisioning admin create EMAIL",
    )


async def apps_page(request: Request) -> Response:
    site: Site = request.app.state.site
    async with service_of(request).db.read() as conn:
        found = await app_store.list_apps(conn)
    return site.render(request, "apps.html", page_title="Enterprise applications", apps=found)


def routes(site: Site) -> list[BaseRoute]:
    return [
        *site.routes(),
        Route(ADMIN_PREFIX, site.to_home, methods=["GET"]),
        Route(ADMIN_PREFIX + "/apps", apps_page, methods=["GET"]),
    ]
