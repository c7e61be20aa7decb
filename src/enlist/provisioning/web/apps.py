"""Enterprise applications: the list, and New application → Create your own application."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from enlist.provisioning import operations
from enlist.provisioning.api.app import service_of
from enlist.provisioning.operations import EXPECTED
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.web.common import app_url, form_of, message_of, site_of, text
from enlist.web.pages import ADMIN_PREFIX

NON_GALLERY = "non-gallery"


async def apps_page(request: Request) -> Response:
    async with service_of(request).db.read() as conn:
        found = await app_store.list_apps(conn)
    return site_of(request).render(
        request, "apps.html", page_title="Enterprise applications", apps=found, app_url=app_url
    )


async def new_app_page(request: Request) -> Response:
    return site_of(request).render(
        request, "new_app.html", page_title="Create your own application", name="", kind="", error=""
    )


async def create_app(request: Request) -> Response:
    async with form_of(request) as form:
        name, kind = text(form, "name"), text(form, "kind")
    error = ""
    if kind != NON_GALLERY:
        error = (
            "Choose “Integrate any other application you don't find in the gallery (Non-gallery)”: "
            "it is the only kind of application this service creates."
        )
    else:
        try:
            created = await operations.create(service_of(request), name)
        except EXPECTED as exc:
            error = message_of(exc)
        else:
            return RedirectResponse(app_url(created, "overview?done=created"), status_code=303)
    return site_of(request).render(
        request,
        "new_app.html",
        status_code=400,
        page_title="Create your own application",
        name=name,
        kind=kind,
        error=error,
    )


def routes() -> list[BaseRoute]:
    return [
        Route(ADMIN_PREFIX + "/apps", apps_page, methods=["GET"]),
        Route(ADMIN_PREFIX + "/apps", create_app, methods=["POST"]),
        Route(ADMIN_PREFIX + "/apps/new", new_app_page, methods=["GET"]),
    ]
