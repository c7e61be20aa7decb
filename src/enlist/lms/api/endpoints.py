"""How every route of the portal's JSON API starts: `api_endpoint(scope)` wraps a handler so it
runs only for an API token that may (`api_tokens.door`: scope, revoked, expired, another
tenant), with the tenant at `{tenant}` found, the JSON body read within the portal's body
limit, and one database transaction open (a write route's commits only when the handler
returns). An error an admin can fix (`operations.EXPECTED`) rolls the transaction back and is
answered in the API's one error shape (`errors.expected_failure`).

Only an API token opens these routes: the door lets other bearer tokens through to the sync
log's Secret token check, so a request that reaches a handler here without an API token is
refused here, in the door's words.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response

from enlist.api_tokens.door import api_token_of, requires
from enlist.api_tokens.model import Scope
from enlist.lms import operations
from enlist.lms.api.errors import bad_body, expected_failure, no_such_tenant, refused
from enlist.lms.api.runtime import Portal, portal_of
from enlist.lms.domain.tenants import Tenant
from enlist.lms.store.tenants import find_tenant
from enlist.metrics.instruments import TOKEN_FAILURES
from enlist.web.api_errors import api_failure
from enlist.web.bad_input import limited_request
from enlist.web.params import ParameterError, storable

Endpoint = Callable[[Request], Awaitable[Response]]
WITH_BODY = frozenset({"POST", "PUT", "PATCH"})

NO_API_TOKEN = "this route takes an API token; create one with `enlist lms api-token create NAME`"  # noqa: S105 (a message, not a password)
MISSING = "send an API token: Authorization: Bearer <token>"


@dataclass(frozen=True, slots=True)
class Call:
    """One admitted request: its portal, its open transaction, the tenant at `{tenant}` (None
    on a portal-wide route) and its JSON body (`{}` when it has none)."""

    request: Request
    portal: Portal
    conn: AsyncConnection
    tenant: Tenant | None
    body: dict[str, Any]

    @property
    def the_tenant(self) -> Tenant:
        """The tenant of a per-tenant route (every such route has one)."""
        assert self.tenant is not None
        return self.tenant


Handler = Callable[[Call], Awaitable[Response]]


def parse_object(raw: bytes) -> dict[str, Any]:
    """A request body as a JSON object; an empty body is `{}`. ValueError for anything else."""
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError as error:
        raise ValueError(f"the body is not JSON: {error}") from None
    except RecursionError:  # thousands of `[`: a bad request, never a 500
        raise ValueError("the body is nested too deeply to be an API request") from None
    if not isinstance(parsed, dict):
        raise ValueError("the body must be a JSON object")  # noqa: TRY004 (a bad request, as bad JSON)
    return parsed


def text_field(body: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    """`body[key]` as a non-empty string; ValueError naming the key otherwise (None when absent
    and not `required`)."""
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or not storable(value):
        raise ParameterError(key, "a non-empty string", str(value))
    return value


def _no_api_token(request: Request) -> Response:
    presented = request.headers.get("authorization", "").partition(" ")[2].strip()
    TOKEN_FAILURES.labels("lms", "api", "unknown" if presented else "missing").inc()
    return refused(401, NO_API_TOKEN if presented else MISSING)


def api_endpoint(
    scope: Scope, *, per_tenant: bool = True, new_tenant: bool = False, reads_only: bool = False
) -> Callable[[Handler], Endpoint]:
    """The route for `handler`: `requires(scope)`, then the checks of the module docstring.
    `per_tenant`: the path has `{tenant}` (else the route is the whole portal's, and the door
    refuses a token limited to one tenant); an unknown tenant is a 404 unless `new_tenant`
    (the route may create it: `Call.tenant` is then None). `reads_only`: the call's transaction
    only reads, whatever the scope, because the operation the handler calls opens its own
    write transactions (the notification operations, shared with the CLI, do)."""

    def wrap(handler: Handler) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            if api_token_of(request) is None:
                return _no_api_token(request)
            if not all(storable(str(v)) for v in request.path_params.values()):
                return api_failure(404, "NotFound", "no name holds NUL or a lone surrogate", "check the path")
            portal = portal_of(request)
            try:
                raw = await limited_request(request, portal.settings.max_body_bytes).body()
                body = parse_object(raw) if request.method in WITH_BODY else {}
            except ValueError as error:
                return bad_body(str(error))
            try:
                writes = scope == "write" and not reads_only
                async with portal.db.write() if writes else portal.db.read() as conn:
                    tenant = None
                    if per_tenant:
                        slug = request.path_params["tenant"]
                        tenant = await find_tenant(conn, slug)
                        if tenant is not None and tenant.slug != slug:
                            tenant = None  # found by its display name: the API names tenants by slug
                        if tenant is None and not new_tenant:
                            return no_such_tenant(slug)
                    return await handler(Call(request, portal, conn, tenant, body))
            except ParameterError as error:
                return bad_body(str(error))
            except operations.EXPECTED as error:
                return expected_failure(error)

        endpoint.__name__ = handler.__name__
        endpoint.__qualname__ = handler.__qualname__
        endpoint.__doc__ = handler.__doc__
        return requires(scope)(endpoint)

    return wrap
