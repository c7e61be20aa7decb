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
from enlist.provisioning.logs import store as log_store
from enlist.provisioning.logs.records import ACTIONS, STATUSES
from enlist.provisioning.web import queries
from enlist.provisioning.web.common import APP, app_of, context, is_htmx, query_params, site_of
from enlist.web.download import Download
from enlist.web.paging import PAGE_SIZE, decode_cursor, page_of

FILTERS = ("since", "until", "status", "action", "identity", "cycle")
TABS = {
    "steps": "Steps",
    "troubleshooting": "Troubleshooting & recommendations",
    "modified": "Modified properties",
    "summary": "Summary",
}
DOWNLOAD_PAGE = 500


def _moment(text: str, name: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a date and time, for example 2026-11-27T09:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def log_filter(request: Request, limit: int) -> log_store.LogFilter:
    """The page's filters as the log store's; ValueError names a filter that is not valid."""
    q = request.query_params
    status, action = q.get("status", ""), q.get("action", "")
    if status and status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    if action and action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
    return log_store.LogFilter(
        since=_moment(q.get("since", "").strip(), "From"),
        until=_moment(q.get("until", "").strip(), "To"),
        status=status or None,
        action=action or None,
        identity=q.get("identity", "").strip() or None,
        cycle_id=q.get("cycle", "").strip() or None,
        limit=limit,
    )


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
        record_id = int(request.path_params["record"])
    except ValueError:
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
    fmt = request.query_params.get("format", "json")
    if fmt not in ("json", "csv"):
        raise HTTPException(400, "format must be json or csv")
    try:
        wanted = log_filter(request, DOWNLOAD_PAGE)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
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
