"""Directory: the built-in directory's users and groups (prefix search, keyset-paged), a user's
and a group's detail, and Import of a JSON or CSV file with the importer and the messages of
`enlist provisioning directory import` (a bad file changes nothing)."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from enlist.provisioning.api.app import service_of
from enlist.provisioning.directory import store as directory
from enlist.provisioning.directory.importer import import_directory
from enlist.provisioning.directory.reading import read_directory_file
from enlist.provisioning.operations import EXPECTED
from enlist.provisioning.web import queries
from enlist.provisioning.web.common import form_of, message_of, query_params, query_text, site_of, text
from enlist.web.pages import ADMIN_PREFIX
from enlist.web.paging import PAGE_SIZE, decode_cursor

BASE = ADMIN_PREFIX + "/directory"


async def to_users(_request: Request) -> Response:
    return RedirectResponse(BASE + "/users", status_code=303)


async def list_page(request: Request, *, report: dict[str, int] | None = None, error: str = "") -> Response:
    kind = "groups" if request.url.path.startswith(BASE + "/groups") else "users"
    search = query_text(request, "q")
    after = decode_cursor(request.query_params.get("after"))
    async with service_of(request).db.read() as conn:
        read = queries.groups_page if kind == "groups" else queries.users_page
        page = await read(conn, search, after, PAGE_SIZE)
    return site_of(request).render(
        request,
        "directory.html",
        status_code=400 if error else 200,
        page_title="Directory",
        kind=kind,
        page=page,
        search=search,
        params=query_params(request, "q", "after"),
        report=report,
        error=error,
    )


async def user_page(request: Request) -> Response:
    user_id = request.path_params["id"]
    async with service_of(request).db.read() as conn:
        found = (await directory.get_users(conn, [user_id])).get(user_id)
        if found is None:
            raise HTTPException(404, "There is no such user in the directory.")
        group_ids = (await directory.groups_containing(conn, [user_id])).get(user_id, set())
        groups = await queries.entries(conn, "group", list(group_ids)[: queries.COUNTED])
        manager = (await queries.entries(conn, "user", [found.manager_id])) if found.manager_id else {}
    return site_of(request).render(
        request,
        "directory_user.html",
        page_title=found.upn,
        user=found,
        groups=sorted(groups.values(), key=lambda g: g.name.casefold()),
        manager=manager.get(found.manager_id or ""),
    )


async def group_page(request: Request) -> Response:
    group_id = request.path_params["id"]
    after = decode_cursor(request.query_params.get("after"))
    async with service_of(request).db.read() as conn:
        found = (await queries.entries(conn, "group", [group_id])).get(group_id)
        if found is None:
            raise HTTPException(404, "There is no such group in the directory.")
        members = await queries.group_members_page(conn, group_id, after, PAGE_SIZE)
    return site_of(request).render(
        request,
        "directory_group.html",
        page_title=found.name,
        group=found,
        page=members,
        params=query_params(request, "after"),
    )


async def import_file(request: Request) -> Response:
    """Parse first (a bad file fails before anything is written), then apply in one transaction."""
    async with form_of(request) as form:  # past ENLIST_MAX_BODY_BYTES: a 413 page, unread
        upload = form.get("file")
        replace = bool(text(form, "replace"))
        name = upload.filename or "" if isinstance(upload, UploadFile) else ""
        raw = await upload.read() if isinstance(upload, UploadFile) else b""
    if not raw:
        return await list_page(request, error="Choose a JSON or CSV file to import.")
    try:
        data = read_directory_file(raw, name, max_bytes=service_of(request).settings.max_directory_file_bytes)
        async with service_of(request).db.write() as conn:
            report = await import_directory(conn, data, replace=replace)
    except EXPECTED as exc:
        return await list_page(request, error=f"{name}: nothing was imported.\n{message_of(exc)}")
    return await list_page(request, report=report.to_json())


def routes() -> list[BaseRoute]:
    return [
        Route(BASE, to_users, methods=["GET"]),
        Route(BASE + "/users", list_page, methods=["GET"]),
        Route(BASE + "/groups", list_page, methods=["GET"]),
        Route(BASE + "/users/{id:str}", user_page, methods=["GET"]),
        Route(BASE + "/groups/{id:str}", group_page, methods=["GET"]),
        Route(BASE + "/import", import_file, methods=["POST"]),
    ]
