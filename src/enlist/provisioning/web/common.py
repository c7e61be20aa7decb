"""What every provisioning page shares: the site, the application in the URL, forms, errors.

Errors a page shows are the ones the CLI prints (`enlist.provisioning.operations.EXPECTED`): the
same exceptions from the same functions, so a page and a command say the same thing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

from enlist.provisioning.api.app import service_of
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store.apps import App
from enlist.web.bad_input import limited_request, storable_form
from enlist.web.pages import ADMIN_PREFIX, Site
from enlist.web.params import Text, read

APP = ADMIN_PREFIX + "/apps/{app}"  # every page of one application is under it
MAX_FIELDS = 2000  # the assignment picker posts one field per chosen user or group
QUERY_TEXT = Text(1000)  # a search prefix, a filter word, an id or a cursor (<= 1,000)


def site_of(request: Request) -> Site:
    site = request.app.state.site
    assert isinstance(site, Site)
    return site


def app_url(app: App | str, page: str = "") -> str:
    """The path of an application's page; the name is quoted (it may hold blanks)."""
    name = app if isinstance(app, str) else app.name
    return f"{ADMIN_PREFIX}/apps/{quote(name, safe='')}" + (f"/{page}" if page else "")


async def app_of(request: Request) -> App:
    """The application named in the URL, or a 404 page."""
    async with service_of(request).db.read() as conn:
        found = await app_store.find_app(conn, request.path_params["app"])
    if found is None:
        raise HTTPException(404, f"There is no application named {request.path_params['app']!r}.")
    return found


@asynccontextmanager
async def form_of(request: Request) -> AsyncIterator[FormData]:
    """The posted form, for `async with` (the guard has already checked its CSRF token); a body
    past `ENLIST_MAX_BODY_BYTES` raises `BodyTooLargeError` (a 413 page) before it is all read,
    a field with NUL `ParameterError` (a 400 page)."""
    limited = limited_request(request, service_of(request).settings.max_body_bytes)
    async with limited.form(max_files=1, max_fields=MAX_FIELDS) as form:
        storable_form(form.multi_items())
        yield form


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def query_params(request: Request, *names: str) -> dict[str, str]:
    """The named query parameters that are set, as plain text bounded as `QUERY_TEXT`
    (`ParameterError` otherwise, a 400 page)."""
    found = {n: read(request.query_params, n, QUERY_TEXT) for n in names}
    return {n: v for n, v in found.items() if v}


def query_text(request: Request, name: str) -> str:
    """One query parameter as bounded text, "" when it is missing."""
    return read(request.query_params, name, QUERY_TEXT) or ""


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def message_of(error: BaseException) -> str:
    """The error's own sentence, as the CLI prints it (without the quotes a KeyError adds)."""
    return str(error).strip("'\"")


def context(request: Request, app: App, **values: Any) -> dict[str, Any]:
    """What every page of one application passes to its template."""
    return {
        "app": app,
        "app_base": app_url(app),
        "page_title": app.name,
        "flash": flash_of(request),
        **values,
    }


DONE = {
    "created": "Application created. Next: Provisioning → Connect your application.",
    "connected": "Saved: the Tenant URL and Secret token passed Test connection.",
    "start": "Provisioning started: the first cycle begins within a few seconds.",
    "pause": "Provisioning paused: the running cycle stops at the next object.",
    "restart": "Provisioning restarted: the next cycle is an initial one.",
    "allow-deletes": "The next cycle sends the deletions the threshold held back.",
    "assigned": "Assigned. The next cycle provisions them.",
    "removed": "Removed. The next cycle takes them out of scope.",
    "settings": "Settings saved.",
    "mapping": "Mapping saved. The next cycle re-evaluates every object (initial cycle).",
    "unmapped": "Mapping removed. The next cycle re-evaluates every object (initial cycle).",
    "scoping": "Scoping filters saved. The next cycle re-evaluates every object (initial cycle).",
}


def flash_of(request: Request) -> str:
    """The fixed sentence for `?done=…` after a form's redirect (never text from the URL)."""
    return DONE.get(request.query_params.get("done", ""), "")
