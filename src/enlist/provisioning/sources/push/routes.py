"""The push endpoint's routes: `/scim/v2/sources/{source}/…` on the provisioning service.

Every request is authenticated against the source named in its path with that source's own
bearer token (`tokens`): a missing or wrong token, another source's, or a source that is not a
push source is a 401 with a SCIM error body that touches nothing. Errors are SCIM Error bodies
(`enlist.scim.errors`), built in one place (`_endpoint`). Writes to a paused source are refused
(403) until `source resume`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from enlist.db.rows import now
from enlist.provisioning.service import Service
from enlist.provisioning.sources import store as source_store
from enlist.provisioning.sources.push import bulk, groups, listing, tokens, users
from enlist.provisioning.sources.push.discovery import config, resource_types, schemas
from enlist.provisioning.sources.push.writes import Push, named
from enlist.scim.errors import (
    ScimError,
    forbidden,
    invalid_syntax,
    method_not_allowed,
    not_found,
    payload_too_large,
    unauthorized,
    unsupported_media_type,
)
from enlist.scim.listing import parse_list_query
from enlist.web.scim_responses import ScimResponse, scim_error_response

logger = logging.getLogger(__name__)
ROOT = "/scim/v2/sources/{source}"
Handler = Callable[[Request, Service, Push], Awaitable[Response]]


def deadline_answer(detail: str) -> Response:
    """The request deadline's 503 on push routes: a SCIM error, as every answer here."""
    return scim_error_response(ScimError(503, detail))


def base_url(service: Service, name: str) -> str:
    return f"{service.public_url}/scim/v2/sources/{name}"


async def authenticate(request: Request, service: Service) -> Push:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    async with service.db.read() as conn:
        source = await source_store.find_source(conn, request.path_params["source"])
    if (
        source is None
        or source.kind != "scim-push"
        or not source.sealed_secrets
        or scheme.lower() != "bearer"
    ):
        raise unauthorized(
            "A valid bearer token of this push source is required (Authorization: Bearer <token>)."
        )
    sealed = json.loads(service.secrets.open(source.sealed_secrets))
    if not tokens.verify(sealed, token.strip(), now()):
        raise unauthorized(
            "A valid bearer token of this push source is required (Authorization: Bearer <token>)."
        )
    return Push(source, base_url(service, source.name))


def _writable(request: Request, push: Push) -> None:
    if request.method != "GET" and push.source.state == "paused":
        raise forbidden(f"the source {push.source.name} is paused: `enlist provisioning source resume` it")


def _endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        service = request.app.state.service
        try:
            push = await authenticate(request, service)
        except ScimError as error:
            return scim_error_response(error)
        try:
            _writable(request, push)
            return await handler(request, service, push)
        except ScimError as error:
            # Name the operation first: `PATCH /Users/…: Operations[0].path …`.
            where = request.url.path.removeprefix(f"/scim/v2/sources/{request.path_params['source']}")
            return scim_error_response(named(error, f"{request.method} {where}"))
        except Exception:
            logger.exception("push request failed: %s %s", request.method, request.url.path)
            return scim_error_response(
                ScimError(500, "the request could not be completed; it has been logged")
            )

    return endpoint


async def read_json(request: Request, push: Push) -> object:
    """The body as JSON within the source's payload limit; 413 past it, 415 if not JSON."""
    limit = bulk.Limits.of(push.source.settings).max_payload_bytes
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and not content_type.endswith(("/json", "+json")):
        raise unsupported_media_type(f"send application/scim+json, not {content_type}")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise payload_too_large(f"the body is {declared} bytes; the limit is {limit} (bulk.maxPayloadSize)")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise payload_too_large(
                f"the body is larger than the limit of {limit} bytes (bulk.maxPayloadSize)"
            )
    if not body:
        raise invalid_syntax("the request needs a JSON body")
    try:
        return orjson.loads(bytes(body))
    except orjson.JSONDecodeError as exc:
        raise invalid_syntax(f"the body is not valid JSON: {exc}") from None


def _resource(resource: dict[str, Any], status: int = 200) -> Response:
    headers = {"Location": resource["meta"]["location"]} if status == 201 else {}
    return ScimResponse(resource, status_code=status, headers=headers)


def _list_query(request: Request) -> Any:
    q = request.query_params
    return parse_list_query(q.get("filter"), q.get("startIndex"), q.get("count"), None, None)


def _collection(kind: str) -> Handler:
    module: Any = users if kind == "user" else groups

    async def handler(request: Request, service: Service, push: Push) -> Response:
        if request.method == "GET":
            async with service.db.read() as conn:
                return ScimResponse(await listing.list_resources(conn, push, kind, _list_query(request)))
        if request.method == "POST":
            body = await read_json(request, push)
            async with service.db.write() as conn:
                return _resource(await module.create(conn, push, body, now()), 201)
        raise method_not_allowed(f"{request.method} is not supported here")

    return handler


def _item(kind: str) -> Handler:
    module: Any = users if kind == "user" else groups

    async def handler(request: Request, service: Service, push: Push) -> Response:
        resource_id = request.path_params["id"]
        if request.method == "GET":
            async with service.db.read() as conn:
                return _resource(await module.get(conn, push, resource_id))
        if request.method in ("PUT", "PATCH"):
            body = await read_json(request, push)
            write = module.replace if request.method == "PUT" else module.patch
            async with service.db.write() as conn:
                return _resource(await write(conn, push, resource_id, body, now()))
        if request.method == "DELETE":
            async with service.db.write() as conn:
                await module.delete(conn, push, resource_id, now())
            return Response(status_code=204)
        raise method_not_allowed(f"{request.method} is not supported here")

    return handler


async def bulk_upload(request: Request, service: Service, push: Push) -> Response:
    if request.method != "POST":
        raise method_not_allowed("/bulkUpload takes POST; read a request's status at /bulkUpload/{id}")
    operations, fail_on_errors = bulk.check_request(
        await read_json(request, push), bulk.Limits.of(push.source.settings)
    )
    async with service.db.write() as conn:
        job = await bulk.enqueue(conn, push.source.id, operations, fail_on_errors)
    wake: asyncio.Event | None = getattr(request.app.state, "push_wake", None)
    if wake is not None:
        wake.set()
    return Response(status_code=202, headers={"Location": f"{push.base_url}/bulkUpload/{job}"})


async def bulk_status(request: Request, service: Service, push: Push) -> Response:
    if request.method != "GET":
        raise method_not_allowed("a bulk upload's status is read with GET")
    async with service.db.read() as conn:
        found = await bulk.status(conn, push.source.id, request.path_params["id"], push.base_url)
    if found is None:
        raise not_found(f"no bulk upload {request.path_params['id']} for this source")
    return ScimResponse(found)


def _discovery(build: Callable[[Push], Any]) -> Handler:
    async def handler(request: Request, _service: Service, push: Push) -> Response:
        if request.method != "GET":
            raise method_not_allowed("discovery endpoints take GET")
        document = build(push)
        wanted = request.path_params.get("id")
        if wanted is None:
            return ScimResponse(document)
        for item in document["Resources"]:
            if item["id"] == wanted:
                return ScimResponse(item)
        raise not_found(f"no {wanted} here")

    return handler


async def unknown(request: Request, _service: Service, _push: Push) -> Response:
    raise not_found(f"{request.url.path} is not an endpoint of this push source")


METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def routes() -> list[Route]:
    table: list[tuple[str, Handler]] = [
        ("/Users", _collection("user")),
        ("/Users/{id}", _item("user")),
        ("/Groups", _collection("group")),
        ("/Groups/{id}", _item("group")),
        ("/bulkUpload", bulk_upload),
        ("/bulkUpload/{id}", bulk_status),
        ("/ServiceProviderConfig", _discovery(config)),
        ("/ResourceTypes", _discovery(resource_types)),
        ("/ResourceTypes/{id}", _discovery(resource_types)),
        ("/Schemas", _discovery(schemas)),
        ("/Schemas/{id}", _discovery(schemas)),
        ("/{rest:path}", unknown),
    ]
    return [Route(ROOT + path, _endpoint(handler), methods=METHODS) for path, handler in table]
