"""The portal API's sync log: read, export and prune.

`GET /api/v1/tenants/{tenant}/sync-log` answers the tenant's sync log, newest first, filtered by
`since`, `until` (ISO 8601), `status` (`success`, `failure` or an HTTP status), `resource_type`,
`resource_id`, `q` (text), paged by `limit` and `before` (an entry id); `format=csv|jsonl`
streams the whole filtered log as an export. It takes an API token of the tenant or of the whole
portal (`enlist.api_tokens.door`), or the tenant's Secret token, like SCIM, through the same door
(`throttle.authenticated_tenant`: 401, then 429 past the failed-token limit). Every error is
in the API's one shape (`errors`). `POST …/sync-log/prune` is `enlist lms log NAME --prune`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from enlist.api_tokens.door import api_token_of, requires
from enlist.lms import operations
from enlist.lms.api.endpoints import Call, api_endpoint
from enlist.lms.api.errors import no_such_tenant, scim_failure
from enlist.lms.api.runtime import Portal, portal_of
from enlist.lms.api.throttle import authenticated_tenant
from enlist.lms.domain.synclog_export import csv_header, csv_row, jsonl_row
from enlist.lms.domain.tenants import Tenant
from enlist.lms.store import synclog
from enlist.lms.store.tenants import find_tenant
from enlist.scim.errors import ScimError, invalid_value
from enlist.web import params
from enlist.web.download import Download
from enlist.web.params import INT64_MAX, Choice, Integer, ParameterError, Text, Timestamp

MAX_PAGE = 1000
LIMIT = Integer(1, MAX_PAGE)
BEFORE = Integer(1, INT64_MAX)
HTTP_STATUS = Integer(100, 599)
OUTCOMES = ("success", "failure")
TIME = Timestamp()
WORD = Text(200)  # a resource type or id: short
SEARCH = Text(synclog.MAX_TEXT_LENGTH)  # free text: a LIKE costs its length times each value's
FORMAT = Choice(("csv", "jsonl"))


def parse_time(text: str | None, name: str) -> datetime | None:
    """`text` as an ISO 8601 moment in UTC; None when empty; `ScimError` (400) otherwise."""
    try:
        return params.read({name: text or ""}, name, TIME)
    except ParameterError as exc:
        raise invalid_value(str(exc)) from None


def _status(text: str | None) -> str | None:
    """`success`, `failure` or an HTTP status code (100 to 599), as the log store takes it."""
    if not text or text in OUTCOMES:
        return text or None
    try:
        return str(HTTP_STATUS.parse("status", text))
    except ParameterError:
        raise ParameterError(
            "status", "success, failure or an HTTP status code from 100 to 599", text
        ) from None


def log_query(query: Mapping[str, str]) -> synclog.LogQuery:
    """The sync log's filters, each parsed with its bounds; `ScimError` (400) names the first
    parameter that is not allowed and what is. The CLI, this API and the Sync log page share it."""
    try:
        return synclog.LogQuery(
            since=params.read(query, "since", TIME),
            until=params.read(query, "until", TIME),
            status=_status(query.get("status", "").strip()),
            resource_type=params.read(query, "resource_type", WORD),
            resource_id=params.read(query, "resource_id", WORD),
            text=params.read(query, "q", SEARCH),
            limit=params.read_or(query, "limit", LIMIT, 100),
            before_id=params.read(query, "before", BEFORE),
        )
    except ParameterError as exc:
        raise invalid_value(str(exc)) from None


async def tenant_of(portal: Portal, request: Request) -> Tenant | None:
    """The tenant at `{tenant}` when an API token opened the request (`api_tokens.door` checked
    it may), else the one the bearer token opens as a Secret token; None when no tenant has
    the slug."""
    if api_token_of(request) is None:
        return await authenticated_tenant(portal, request)
    if not params.storable(request.path_params["tenant"]):
        return None  # a NUL or a lone surrogate names no tenant (PostgreSQL cannot even compare it)
    async with portal.db.read() as conn:
        tenant = await find_tenant(conn, request.path_params["tenant"])
    return tenant if tenant is not None and tenant.slug == request.path_params["tenant"] else None


@requires("read")
async def sync_log(request: Request) -> Response:
    """---
    summary: The sync log, newest first (`enlist lms log`), or its export (`format=csv|jsonl`).
    description: Takes an API token of the tenant or of the whole portal, or the tenant's Secret
      token. Page with `before` set to the answer's `next_before`.
    parameters:
      - {$ref: "#/components/parameters/tenant"}
      - {name: since, in: query, schema: {type: string, format: date-time}}
      - {name: until, in: query, schema: {type: string, format: date-time}}
      - {name: status, in: query, schema: {type: string}, description: "success, failure or an HTTP status"}
      - {name: resource_type, in: query, schema: {type: string}}
      - {name: resource_id, in: query, schema: {type: string}}
      - {name: q, in: query, schema: {type: string}, description: "Text in the name, path or error."}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000, default: 100}}
      - {name: before, in: query, schema: {type: integer, minimum: 1}, description: An entry id.}
      - {name: format, in: query, schema: {type: string, enum: [csv, jsonl]}}
    responses:
      "200": {description: "{entries, next_before}, or the whole filtered log as CSV or JSON Lines."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    portal = portal_of(request)
    try:
        found = await tenant_of(portal, request)
        query = log_query(request.query_params)
        export = params.read(request.query_params, "format", FORMAT)
    except ScimError as error:
        return scim_failure(error)
    except ParameterError as exc:
        return scim_failure(invalid_value(str(exc)))
    if found is None:
        return no_such_tenant(request.path_params["tenant"])
    tenant = found
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


@api_endpoint("write")
async def prune_sync_log(call: Call) -> Response:
    """---
    summary: Delete the entries older than the tenant's log_retention_days now (`log --prune`).
    parameters: [{$ref: "#/components/parameters/tenant"}]
    responses:
      "200": {description: "{removed}: how many entries went."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    return JSONResponse({"removed": await operations.prune_sync_log(call.conn, call.the_tenant)})


def routes() -> list[Route]:
    return [
        Route("/api/v1/tenants/{tenant}/sync-log", sync_log, methods=["GET"]),
        Route("/api/v1/tenants/{tenant}/sync-log/prune", prune_sync_log, methods=["POST"]),
    ]
