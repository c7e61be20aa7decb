"""Sync log: every SCIM change newest first, filtered as `enlist lms log` filters, with each
request's detail and an export (CSV or JSON Lines) of exactly what the filters select."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlencode

from starlette.responses import Response

from enlist.lms.api.admin import log_query
from enlist.lms.domain.synclog_export import csv_header, csv_row, jsonl_row
from enlist.lms.store import synclog
from enlist.lms.store.log_views import export_entries, log_entry, log_page, member_ids, user_names
from enlist.lms.web.common import TenantContext, not_found, query_params
from enlist.scim.errors import ScimError
from enlist.web.download import Download
from enlist.web.pages import SECURITY_HEADERS
from enlist.web.paging import Page, decode_cursor
from enlist.web.params import INT64_MAX, Choice, Integer, ParameterError, read_or

FILTERS = ("since", "until", "status", "resource_type", "resource_id", "q")
EXPORTS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
FORMAT = Choice(tuple(EXPORTS))
ENTRY_ID = Integer(1, INT64_MAX)


def _query(params: dict[str, str]) -> synclog.LogQuery:
    """The page's filters through the CLI's and the admin API's parser (same rules, same words)."""
    return log_query({k: v for k, v in params.items() if k in FILTERS})


async def log_list(ctx: TenantContext) -> Response:
    """GET: one page of the sync log, newest first."""
    params = query_params(ctx.request, *FILTERS, "after")
    try:
        query = _query(params)
    except ScimError as exc:
        empty: Page[object] = Page([], None, is_first=True)
        return ctx.render(
            "log.html", 400, page_title="Sync log", page=empty, params=params, error=exc.detail, export=""
        )
    page = await log_page(ctx.conn, ctx.tenant.id, query, decode_cursor(params.get("after")))
    export = urlencode({k: v for k, v in params.items() if k in FILTERS})
    return ctx.render("log.html", page_title="Sync log", page=page, params=params, error="", export=export)


async def log_detail(ctx: TenantContext) -> Response:
    """GET: one request: method, path, status, duration, error and every attribute change."""
    try:
        entry_id = ENTRY_ID.parse("entry", str(ctx.request.path_params["entry_id"]))
    except ParameterError:
        return not_found(ctx.request, "This sync log entry")
    entry = await log_entry(ctx.conn, ctx.tenant.id, entry_id)
    if entry is None:
        return not_found(ctx.request, "This sync log entry")
    people = await user_names(ctx.conn, ctx.tenant.id, member_ids([entry]))
    return ctx.render(
        "log_entry.html", page_title=f"Sync log entry {entry['id']}", entry=entry, people=people
    )


async def log_export(ctx: TenantContext) -> Response:
    """GET: the filtered log as a download, streamed (a million entries never sit in memory)."""
    params = query_params(ctx.request, *FILTERS, "format")
    kind = read_or(ctx.request.query_params, "format", FORMAT, "csv")
    try:
        query = _query(params)
    except ScimError as exc:
        return Response(exc.detail, status_code=400, headers=SECURITY_HEADERS)
    db, tenant_id = ctx.portal.db, ctx.tenant.id

    async def lines() -> AsyncIterator[str]:
        if kind == "csv":
            yield csv_header()
        async with db.read() as conn:
            async for entry in export_entries(conn, tenant_id, query):
                yield csv_row(entry) if kind == "csv" else jsonl_row(entry)

    filename = f"{ctx.tenant.slug}-sync-log.{kind}"
    return Download(
        lines(),
        media_type=EXPORTS[kind],
        headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'},
        what=f"sync log export of {ctx.tenant.slug}",
    )
