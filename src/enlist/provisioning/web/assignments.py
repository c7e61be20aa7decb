"""Users and groups: the application's assignments (paged), Add user/group → None Selected → a
searchable list with check boxes → Select → Assign, and Remove for the checked rows."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from enlist.provisioning import operations
from enlist.provisioning.api.app import service_of
from enlist.provisioning.operations import EXPECTED
from enlist.provisioning.web import queries
from enlist.provisioning.web.common import (
    APP,
    app_of,
    app_url,
    context,
    form_of,
    message_of,
    query_params,
    query_text,
    site_of,
)
from enlist.web.paging import PAGE_SIZE, decode_cursor

PAGE = "users-and-groups"


async def assignments_page(request: Request, *, error: str = "", status_code: int = 200) -> Response:
    app = await app_of(request)
    async with service_of(request).db.read() as conn:
        page = await queries.assignments_page(
            conn, app.id, decode_cursor(request.query_params.get("after")), PAGE_SIZE
        )
    return site_of(request).render(
        request,
        "assignments.html",
        status_code=status_code,
        **context(request, app, page=page, params=query_params(request, "after"), error=error),
    )


async def add_page(request: Request, *, error: str = "", status_code: int = 200) -> Response:
    app = await app_of(request)
    return site_of(request).render(
        request, "assign.html", status_code=status_code, **context(request, app, error=error)
    )


async def picker(request: Request) -> Response:
    """The searchable list inside the dialog: directory groups and users whose name starts with q."""
    app = await app_of(request)
    search = query_text(request, "q")
    async with service_of(request).db.read() as conn:
        found = await queries.pick(conn, search)
    return site_of(request).render(
        request, "picker.html", **context(request, app, found=found, search=search, limit=queries.PICKER_SIZE)
    )


def _items(values: list[str]) -> list[tuple[str, str]]:
    items = []
    for value in values:
        kind, _, source_id = value.partition(":")
        if kind not in ("user", "group") or not source_id:
            raise ValueError(f"{value!r} is not a user or group of the directory")
        items.append((kind, source_id))
    return items


async def _change(request: Request, *, assign: bool) -> Response:
    app = await app_of(request)
    async with form_of(request) as form:
        values = [v for v in form.getlist("item") if isinstance(v, str)]
    retry = add_page if assign else assignments_page
    if not values:
        what = "Select at least one user or group" if assign else "Check the users and groups to remove"
        return await retry(request, error=what + ", then try again.", status_code=400)
    try:
        await operations.change_assignments(service_of(request), app, _items(values), assign=assign)
    except EXPECTED as exc:
        return await retry(request, error=message_of(exc), status_code=400)
    return RedirectResponse(
        app_url(app, f"{PAGE}?done={'assigned' if assign else 'removed'}"), status_code=303
    )


async def assign(request: Request) -> Response:
    return await _change(request, assign=True)


async def remove(request: Request) -> Response:
    return await _change(request, assign=False)


def routes() -> list[BaseRoute]:
    return [
        Route(f"{APP}/{PAGE}", assignments_page, methods=["GET"]),
        Route(f"{APP}/{PAGE}/add", add_page, methods=["GET"]),
        Route(f"{APP}/{PAGE}/picker", picker, methods=["GET"]),
        Route(f"{APP}/{PAGE}/assign", assign, methods=["POST"]),
        Route(f"{APP}/{PAGE}/remove", remove, methods=["POST"]),
    ]
