"""The provisioning service's admin site: its title, navigation and routes.

The pages follow the setup guide's path and words (Enterprise applications → New application →
Create your own application; per application Overview, Users and groups, Provisioning,
Provisioning logs); each concept has its module here, and every action calls the function the
matching `enlist provisioning …` command calls.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from enlist.api_tokens.pages import TokenPages
from enlist.provisioning.api.app import service_of
from enlist.provisioning.web import apps, assignments, directory, logs, overview, provisioning, sources, words
from enlist.provisioning.web.common import app_url
from enlist.web.pages import ADMIN_PREFIX, NavItem, Site

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _nav(request: Request) -> list[NavItem]:
    items = [
        NavItem("Enterprise applications", ADMIN_PREFIX + "/apps"),
        NavItem("Directory", ADMIN_PREFIX + "/directory"),
        NavItem("Sources", ADMIN_PREFIX + "/sources"),
        NavItem("API tokens", ADMIN_PREFIX + "/api-tokens"),
    ]
    name = request.path_params.get("app")
    if name:
        items += [
            NavItem("Overview", app_url(name, "overview")),
            NavItem("Users and groups", app_url(name, "users-and-groups")),
            NavItem("Provisioning", app_url(name, "provisioning")),
            NavItem("Provisioning logs", app_url(name, "logs")),
        ]
    return items


def build_site() -> Site:
    site = Site(
        title="enlist provisioning",
        templates_dir=TEMPLATES,
        db_of=lambda request: service_of(request).db,
        nav=_nav,
        home=ADMIN_PREFIX + "/apps",
        admin_command="enlist provisioning admin create EMAIL",
        cookie_prefix="enlist_provisioning",
    )
    site.env.filters.update(words.FILTERS)
    site.env.globals.update(words.GLOBALS)
    return site


stop_source_reads = sources.stop_reads


def routes(site: Site) -> list[BaseRoute]:
    from enlist.provisioning.api_tokens import api_tokens  # noqa: PLC0415 (keeps this module's imports light)

    return [
        *site.routes(),
        *TokenPages(api_tokens, "enlist provisioning api-token").routes(),
        Route(ADMIN_PREFIX, site.to_home, methods=["GET"]),
        *apps.routes(),
        *overview.routes(),
        *assignments.routes(),
        *provisioning.routes(),
        *logs.routes(),
        *directory.routes(),
        *sources.routes(),
    ]
