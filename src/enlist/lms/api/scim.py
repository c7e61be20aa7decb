"""The SCIM routes of every tenant: `/scim/v2/{tenant}/Users`, `/Groups`, discovery.

Each request is authenticated against the tenant named in its path with its bearer token (a
missing, wrong, revoked or other tenant's token is a 401 that touches nothing), then handed to
the SCIM service. Every write, whether it succeeds or fails, leaves one sync log entry. Unknown
query parameters (Entra's `aadOptscim062020` flag) are ignored; `+` in a query means a space.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from sqlalchemy.exc import DBAPIError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from enlist.db.database import is_disconnect
from enlist.lms.api.responses import ScimResponse, scim_error_response
from enlist.lms.api.runtime import Portal, portal_of
from enlist.lms.api.throttle import authenticated_tenant
from enlist.lms.domain.clients import client_of
from enlist.lms.domain.tenants import Tenant
from enlist.lms.service import groups as group_service
from enlist.lms.service import users as user_service
from enlist.lms.service.context import Request as ScimRequest
from enlist.lms.store import synclog
from enlist.lms.store.synclog import SyncEntry
from enlist.logs.events import event
from enlist.scim import discovery
from enlist.scim.errors import (
    ScimError,
    invalid_syntax,
    method_not_allowed,
    not_found,
    payload_too_large,
    unavailable,
    unsupported_media_type,
)
from enlist.scim.listing import ListQuery, Projection, list_response, parse_list_query

logger = logging.getLogger(__name__)

Handler = Callable[[Request, ScimRequest], Awaitable[Response]]
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def scim_route(path: str, handler: Handler, *, search: bool = False) -> list[Route]:
    """The route at `path` and `path/`, taking every method (unsupported ones get a SCIM 405).
    A path ending in a `:path` parameter already takes the slash (a second route could never
    match, as the route fuzzer found)."""
    endpoint = _endpoint(handler, search=search)
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    if path.endswith(":path}"):
        return [Route(path, endpoint, methods=methods)]
    return [Route(path, endpoint, methods=methods), Route(path + "/", endpoint, methods=methods)]


def _endpoint(handler: Handler, *, search: bool) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        portal = portal_of(request)
        entry = SyncEntry(
            method=request.method, path=request.url.path, client=client_of(request.headers.get("user-agent"))
        )
        tenant: Tenant | None = None
        # A read that lost its database connection is run once more on a new one; a write is
        # retried inside its transaction (Database.transaction).
        retries = 1 if request.method == "GET" or search else 0

        async def serve() -> Response:
            nonlocal tenant
            tenant = await authenticated_tenant(portal, request)
            if any(_unstorable(value) for value in request.path_params.values()):
                raise not_found("no resource has this id")  # NUL: PostgreSQL cannot even compare it
            base = f"{portal.public_url}/scim/v2/{tenant.slug}"
            return await handler(request, ScimRequest(portal.db, tenant, base, entry))

        writes = request.method in WRITES and not search
        try:
            response = await _reconnecting(serve, retries)
        except ScimError as error:
            if tenant is not None and writes:
                await _log_failure(portal, tenant, entry, error)
                _write_event(tenant, entry)
            return scim_error_response(error)
        except Exception as exc:
            if is_disconnect(exc):
                logger.warning("database connection lost: %s %s", request.method, request.url.path)
                failure = unavailable("the portal lost its database connection; send the request again", 1)
            else:
                logger.exception("SCIM request failed: %s %s", request.method, request.url.path)
                failure = ScimError(500, "the portal could not complete the request; it has been logged")
            if tenant is not None and writes:
                await _log_failure(portal, tenant, entry, failure)
                _write_event(tenant, entry)
            return scim_error_response(failure)
        if tenant is not None and writes:
            entry.status = entry.status or response.status_code
            _write_event(tenant, entry)
        return response

    return endpoint


def _write_event(tenant: Tenant, entry: SyncEntry) -> None:
    """The `scim.write` log event: what the sync log entry says, without a name or a value."""
    event(
        "scim.write",
        logging.INFO if entry.status < 500 else logging.ERROR,
        tenant=tenant.slug,
        resource_type=entry.resource_type,
        resource_id=entry.resource_id,
        operation=entry.action,
        status=entry.status,
        duration_ms=round(entry.duration_ms, 3),
    )


def _unstorable(value: object) -> bool:
    return isinstance(value, str) and any(c == "\0" or "\ud800" <= c <= "\udfff" for c in value)


async def _reconnecting(work: Callable[[], Awaitable[Response]], retries: int) -> Response:
    for _ in range(retries):
        try:
            return await work()
        except DBAPIError as exc:
            if not is_disconnect(exc):
                raise
    return await work()


async def _log_failure(portal: Portal, tenant: Tenant, entry: SyncEntry, error: ScimError) -> None:
    entry.status, entry.error, entry.changes = error.status, error.detail, []
    if entry.action in ("other", ""):
        entry.action = {"POST": "create", "PUT": "replace", "PATCH": "update", "DELETE": "delete"}.get(
            entry.method, "other"
        )
    try:
        async with portal.db.write() as conn:
            await synclog.record(conn, tenant.id, entry)
    except Exception:
        logger.exception("could not write the sync log entry of a failed request")


async def read_json(request: Request, limit: int | None = None) -> object:
    """The request body as JSON, within `limit` bytes (the portal's `max_body_bytes` when None);
    415 for a body that is not JSON."""
    portal = portal_of(request)
    limit = limit or portal.settings.max_body_bytes
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and not (content_type.endswith(("/json", "+json"))):
        raise unsupported_media_type(f"send application/scim+json, not {content_type}")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise payload_too_large(f"the body is {declared} bytes; the limit is {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise payload_too_large(f"the body is larger than the limit of {limit} bytes")
    if not body:
        raise invalid_syntax("the request needs a JSON body")
    try:
        return orjson.loads(bytes(body))
    except orjson.JSONDecodeError as exc:
        raise invalid_syntax(f"the body is not valid JSON: {exc}") from None


def _if_match(request: Request) -> str | None:
    """Every `If-Match` header line as one list: several lines mean one comma-joined list (RFC 9110 §5.3)."""
    lines = request.headers.getlist("if-match")
    return ", ".join(lines) if lines else None


def _resource_response(resource: dict[str, Any], status: int = 200) -> ScimResponse:
    meta = resource.get("meta") or {}
    headers = {}
    if meta.get("version"):
        headers["ETag"] = meta["version"]
    if status == 201 and meta.get("location"):
        headers["Location"] = meta["location"]
    return ScimResponse(resource, status_code=status, headers=headers)


def _view(request: Request) -> Projection:
    query = parse_list_query(
        None,
        None,
        None,
        request.query_params.get("attributes"),
        request.query_params.get("excludedAttributes"),
    )
    return Projection(query.attributes, query.excluded)


def _list_query_from(request: Request) -> ListQuery:
    q = request.query_params
    return parse_list_query(
        q.get("filter"), q.get("startIndex"), q.get("count"), q.get("attributes"), q.get("excludedAttributes")
    )


async def _search_query(request: Request) -> ListQuery:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise invalid_syntax("a search request is a JSON object")
    return parse_list_query(
        body.get("filter"),
        body.get("startIndex"),
        body.get("count"),
        body.get("attributes"),
        body.get("excludedAttributes"),
    )


async def users_collection(request: Request, req: ScimRequest) -> Response:
    if request.method == "GET":
        return ScimResponse(await user_service.list_users(req, _list_query_from(request)))
    if request.method == "POST":
        return _resource_response(await user_service.create_user(req, await read_json(request)), 201)
    raise method_not_allowed(f"{request.method} is not supported on /Users")


async def user_item(request: Request, req: ScimRequest) -> Response:
    user_id = request.path_params["id"]
    if_match = _if_match(request)
    if request.method == "GET":
        return _resource_response(await user_service.get_user(req, user_id, _view(request)))
    if request.method == "PUT":
        return _resource_response(
            await user_service.replace_user(req, user_id, await read_json(request), if_match)
        )
    if request.method == "PATCH":
        return _resource_response(
            await user_service.patch_user(req, user_id, await read_json(request), if_match)
        )
    if request.method == "DELETE":
        await user_service.delete_user(req, user_id, if_match)
        return Response(status_code=204)
    raise method_not_allowed(f"{request.method} is not supported on /Users/{{id}}")


async def _group_body(request: Request) -> object:
    """A group body: it may carry a whole member list, so it has a limit of its own."""
    return await read_json(request, portal_of(request).settings.max_group_body_bytes)


async def groups_collection(request: Request, req: ScimRequest) -> Response:
    if request.method == "GET":
        return ScimResponse(await group_service.list_groups(req, _list_query_from(request)))
    if request.method == "POST":
        return _resource_response(await group_service.create_group(req, await _group_body(request)), 201)
    raise method_not_allowed(f"{request.method} is not supported on /Groups")


async def group_item(request: Request, req: ScimRequest) -> Response:
    group_id = request.path_params["id"]
    if_match = _if_match(request)
    if request.method == "GET":
        return _resource_response(await group_service.get_group(req, group_id, _view(request)))
    if request.method == "PUT":
        return _resource_response(
            await group_service.replace_group(req, group_id, await _group_body(request), if_match)
        )
    if request.method == "PATCH":
        # 204 as Entra advises; the full group only when the client asks for attributes (RFC 7644 §3.5.2).
        q = request.query_params
        respond = "attributes" in q or "excludedAttributes" in q
        view = _view(request) if respond else None
        resource = await group_service.patch_group(
            req, group_id, await _group_body(request), if_match, respond=respond, view=view
        )
        return _resource_response(resource) if resource else Response(status_code=204)
    if request.method == "DELETE":
        await group_service.delete_group(req, group_id, if_match)
        return Response(status_code=204)
    raise method_not_allowed(f"{request.method} is not supported on /Groups/{{id}}")


async def users_search(request: Request, req: ScimRequest) -> Response:
    if request.method != "POST":
        raise method_not_allowed("/.search takes POST")
    return ScimResponse(await user_service.list_users(req, await _search_query(request)))


async def groups_search(request: Request, req: ScimRequest) -> Response:
    if request.method != "POST":
        raise method_not_allowed("/.search takes POST")
    return ScimResponse(await group_service.list_groups(req, await _search_query(request)))


async def root_search(request: Request, req: ScimRequest) -> Response:
    """POST /.search across Users and Groups: users first, then groups, paged as one list."""
    if request.method != "POST":
        raise method_not_allowed("/.search takes POST")
    query = await _search_query(request)
    return ScimResponse(await search_everything(req, query))


async def search_everything(req: ScimRequest, query: ListQuery) -> dict[str, Any]:
    """One page over users then groups. A filter attribute only one type has (userName,
    members) makes the other type's part an empty list rather than an error."""
    parts = []
    refused: list[ScimError] = []
    for search in (user_service.list_users, group_service.list_groups):
        try:
            parts.append(await search(req, dataclasses.replace(query, start=1, count=0)))
        except ScimError as error:
            if error.scim_type != "invalidFilter":
                raise
            refused.append(error)
            parts.append(list_response(0, 1, []))
    if len(refused) == 2:  # an attribute neither resource type has
        raise refused[0]
    user_total, group_total = parts[0]["totalResults"], parts[1]["totalResults"]
    resources: list[dict[str, Any]] = []
    start, wanted = query.start, query.count
    if start <= user_total and wanted:
        page = await user_service.list_users(req, dataclasses.replace(query, start=start, count=wanted))
        resources.extend(page["Resources"])
    remaining = wanted - len(resources)
    group_start = max(1, start - user_total)
    if remaining > 0 and group_start <= group_total:
        page = await group_service.list_groups(
            req, dataclasses.replace(query, start=group_start, count=remaining)
        )
        resources.extend(page["Resources"])
    return list_response(user_total + group_total, start, resources)


def _read_only(request: Request) -> None:
    if request.method != "GET":
        raise method_not_allowed(f"{request.method} is not supported on discovery endpoints")


async def service_provider_config(request: Request, req: ScimRequest) -> Response:
    _read_only(request)
    return ScimResponse(
        discovery.service_provider_config(
            req.base_url, max_payload_bytes=portal_of(request).settings.max_group_body_bytes
        )
    )


async def resource_types(request: Request, req: ScimRequest) -> Response:
    _read_only(request)
    items = discovery.resource_types(req.base_url)
    wanted = request.path_params.get("id")
    if wanted is None:
        return ScimResponse(_list(items))
    for item in items:
        if item["id"] == wanted:
            return ScimResponse(item)
    raise not_found(f"no resource type {wanted}")


async def schemas(request: Request, req: ScimRequest) -> Response:
    _read_only(request)
    items = discovery.schemas(req.base_url)
    wanted = request.path_params.get("id")
    if wanted is None:
        return ScimResponse(_list(items))
    for item in items:
        if item["id"] == wanted:
            return ScimResponse(item)
    raise not_found(f"no schema {wanted}")


async def unknown(request: Request, _req: ScimRequest) -> Response:
    raise not_found(f"{request.url.path} is not a SCIM endpoint")


def _list(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": len(items),
        "startIndex": 1,
        "itemsPerPage": len(items),
        "Resources": items,
    }


ENDPOINTS = {
    name.lower(): name
    for name in (
        "Users",
        "Groups",
        "ServiceProviderConfig",
        "serviceConfiguration",
        "ResourceTypes",
        "Schemas",
    )
}


class CanonicalEndpoints:
    """Accept SCIM endpoint names in any case (`/users`, `/GROUPS`): clients are not consistent,
    and Microsoft's reference collection itself asks for `/users`. Rewrites only the endpoint
    segment right after the tenant."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/scim/v2/"):
            parts = scope["path"].split("/")
            if len(parts) > 4 and parts[4].lower() in ENDPOINTS and parts[4] != ENDPOINTS[parts[4].lower()]:
                parts[4] = ENDPOINTS[parts[4].lower()]
                # In place, not a copy: the router's route and path parameters must reach the
                # middleware further out (enlist.logs.middleware logs the route template).
                scope["path"], scope["raw_path"] = "/".join(parts), "/".join(parts).encode()
        await self.app(scope, receive, send)


def routes() -> list[Route]:
    root = "/scim/v2/{tenant}"
    return [
        *scim_route(f"{root}/Users/.search", users_search, search=True),
        *scim_route(f"{root}/Groups/.search", groups_search, search=True),
        *scim_route(f"{root}/.search", root_search, search=True),
        *scim_route(f"{root}/Users", users_collection),
        *scim_route(f"{root}/Users/{{id}}", user_item),
        *scim_route(f"{root}/Groups", groups_collection),
        *scim_route(f"{root}/Groups/{{id}}", group_item),
        *scim_route(f"{root}/ServiceProviderConfig", service_provider_config),
        *scim_route(f"{root}/serviceConfiguration", service_provider_config),
        *scim_route(f"{root}/ResourceTypes", resource_types),
        *scim_route(f"{root}/ResourceTypes/{{id}}", resource_types),
        *scim_route(f"{root}/Schemas", schemas),
        *scim_route(f"{root}/Schemas/{{id:path}}", schemas),
        *scim_route(f"{root}/{{rest:path}}", unknown),
    ]
