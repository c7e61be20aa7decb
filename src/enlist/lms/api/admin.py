"""The portal's admin JSON API (read side of the sync log for now).

`GET /api/v1/tenants/{tenant}/sync-log` answers the tenant's sync log, newest first, filtered by
`since`, `until` (ISO 8601), `status` (`success`, `failure` or an HTTP status), `resource_type`,
`resource_id`, `q` (text), paged by `limit` and `before` (an entry id); `format=csv|jsonl`
streams the whole filtered log as an export. It takes the tenant's Secret token, like SCIM,
through the same door (`throttle.authenticated_tenant`: 401, then 429 past the failed-token limit).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from enlist.lms.api.responses import scim_error_response
from enlist.lms.api.runtime import portal_of
from enlist.lms.api.throttle import authenticated_tenant
from enlist.lms.domain.synclog_export import csv_header, csv_row, jsonl_row
from enlist.lms.store import synclog
from enlist.scim.errors import ScimError, invalid_value
from enlist.web.download import Download

MAX_PAGE = 1000


def parse_time(text: str | None, name: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise invalid_value(f"{name} must be an ISO 8601 date-time, not {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def log_query(params: dict[str, str]) -> synclog.LogQuery:
    status = params.get("status")
    if status and status not in ("success", "failure") and not status.isdigit():
        raise invalid_value("status must be success, failure or an HTTP status code")
    try:
        limit = min(MAX_PAGE, max(1, int(params.get("limit") or 100)))
        before = int(params["before"]) if params.get("before") else None
    except ValueError:
        raise invalid_value("limit and before must be integers") from None
    if len(params.get("q") or "") > synclog.MAX_TEXT_LENGTH:
        raise invalid_value(f"q is longer than {synclog.MAX_TEXT_LENGTH} characters")
    return synclog.LogQuery(
        since=parse_time(params.get("since"), "since"),
        until=parse_time(params.get("until"), "until"),
        status=status,
        resource_type=params.get("resource_type"),
        resource_id=params.get("resource_id"),
        text=params.get("q"),
        limit=limit,
        before_id=before,
    )


async def sync_log(request: Request) -> Response:
    portal = portal_of(request)
    try:
        tenant = await authenticated_tenant(portal, request)
        query = log_query(dict(request.query_params))
    except ScimError as error:
        return scim_error_response(error)
    export = request.query_params.get("format")
    if export in ("csv", "jsonl"):

        async def lines() -> AsyncIterator[str]:
            if export == "csv":
                yield csv_header()
            async with portal.db.read() as conn:
                async for entry in synclog.stream(conn, tenant.id, query):
                    yield csv_row(entry) if export == "csv" else jsonl_row(entry)

        media = "text/csv" if export == "csv" else "application/x-ndjson"
        filename = f"{tenant.slug}-sync-log.{export}"
        return Download(
            lines(),
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            what=f"sync log export of {tenant.slug}",
        )
    async with portal.db.read() as conn:
        entries = await synclog.read(conn, tenant.id, query)
    next_before = entries[-1]["id"] if len(entries) == query.limit else None
    return JSONResponse({"entries": entries, "next_before": next_before})


def routes() -> list[Route]:
    return [Route("/api/v1/tenants/{tenant}/sync-log", sync_log)]
