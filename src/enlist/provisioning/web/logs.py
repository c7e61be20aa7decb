"""Provisioning logs: newest first, keyset-paged, filtered by date, status, action and identity;
a record's detail (Steps, Troubleshooting & recommendations, Modified properties, Summary); and
Download of the filtered records as JSON or CSV, streamed page by page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import quote

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from enlist.provisioning.api.app import service_of
from enlist.provisioning.logs import filters
from enlist.provisioning.logs import store as log_store
from enlist.provisioning.logs.records import ACTIONS, STATUSES
from enlist.provisioning.web import queries
from enlist.provisioning.web.common import APP, app_of, context, is_htmx, query_params, site_of
from enlist.web import params
from enlist.web.download import Download
from enlist.web.paging import PAGE_SIZE, decode_cursor, page_of
from enlist.web.params import ParameterError

FILTERS = filters.FILTERS
TABS = {
    "steps": "Steps",
    "troubleshooting": "Troubleshooting & recommendations",
    "modified": "Modified properties",
    "summary": "Summary",
}
DOWNLOAD_PAGE = 500
FORMAT = params.Choice(("json", "csv"))
RECORD_ID = params.Integer(1, params.INT64_MAX)


def log_filter(request: Request, limit: int) -> log_store.LogFilter:
    """The page's filters as the log store's; `ParameterError` (a ValueError) names one that is
    not valid and what is allowed."""
    return filters.log_filter(request.query_params, limit=limit)


async def logs_page(request: Request) -> Response:
    app = await app_of(request)
    params = query_params(request, *FILTERS, "after")
    error = ""
    records: list[dict[str, object]] = []
    after = decode_cursor(request.query_params.get("after"))
    try:
        wanted = log_filter(request, PAGE_SIZE + 1)
    except ValueError as exc:
        error = str(exc)
    else:
        before = after[0] if after and isinstance(after[0], int) else None
        async with service_of(request).db.read() as conn:
            records = await log_store.read(conn, app.id, replace(wanted, before_id=before))
    page = page_of(records, PAGE_SIZE, after is None, lambda r: [r["id"]])  # type: ignore[list-item]
    return site_of(request).render(
        request,
        "logs.html",
        status_code=400 if error else 200,
        **context(request, app, page=page, params=params, error=error, statuses=STATUSES, actions=ACTIONS),
    )


async def log_detail(request: Request) -> Response:
    app = await app_of(request)
    try:
        record_id = RECORD_ID.parse("record", str(request.path_params["record"]))
    except ParameterError:
        raise HTTPException(404, "There is no such provisioning log record.") from None
    async with service_of(request).db.read() as conn:
        record = await queries.log_record(conn, app.id, record_id)
    if record is None:
        raise HTTPException(404, "There is no such provisioning log record.")
    tab = request.query_params.get("tab", "steps")
    tab = tab if tab in TABS else "steps"
    values = context(request, app, record=record, tab=tab, tabs=TABS)
    template = "log_detail.html" if is_htmx(request) else "log_page.html"
    return site_of(request).render(request, template, **values)


async def download(request: Request) -> Response:
    """Every record the filters select, newest first, streamed a page at a time."""
    app = await app_of(request)
    fmt = params.read_or(request.query_params, "format", FORMAT, "json")
    wanted = log_filter(request, DOWNLOAD_PAGE)  # a bad filter: the 400 page (web.bad_input)
    db = service_of(request).db

    async def body() -> AsyncIterator[bytes]:
        first = True
        if fmt == "json":
            yield b"["
        async with db.read() as conn:
            async for record in log_store.stream(conn, app.id, wanted):
                if fmt == "csv":
                    lines = log_store.to_csv([record])
                    yield (lines if first else lines.split("\n", 1)[1]).encode()
                else:
                    yield (b"" if first else b",\n") + orjson.dumps(record)
                first = False
        if fmt == "csv" and first:
            yield log_store.to_csv([]).encode()
        if fmt == "json":
            yield b"]\n"

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    filename = f"provisioning-logs-{app.name}-{stamp}.{fmt}"
    return Download(
        body(),
        what=f"provisioning logs download of {app.name}",
        media_type="text/csv; charset=utf-8" if fmt == "csv" else "application/json",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename, safe='')}",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def routes() -> list[BaseRoute]:
    return [
        Route(APP + "/logs", logs_page, methods=["GET"]),
        Route(APP + "/logs/download", download, methods=["GET"]),
        Route(APP + "/logs/{record:int}", log_detail, methods=["GET"]),
    ]
