"""The portal's API tokens: per tenant or for the whole portal; their table and the door of the
portal's JSON API (which also still takes a tenant's Secret token, as it always did)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response

from enlist.api_tokens.door import Door
from enlist.api_tokens.model import ApiToken, Refusal
from enlist.api_tokens.tables import define
from enlist.db.database import Database
from enlist.lms.api.errors import refused
from enlist.lms.store.tables import metadata, tenants
from enlist.lms.store.tenants import find_tenant
from enlist.web.tokens import Pepper

api_tokens = define(metadata, tenants=tenants)


def api_error(status: int, message: str) -> Response:
    """The portal API's one error shape (`enlist.lms.api.errors`), which the API's routes answer too."""
    return refused(status, message)


NO_TENANT_DATA = frozenset({"/api/openapi.json"})
"""Routes that show nothing of any tenant: every token of the portal may read them."""


async def same_tenant(conn: AsyncConnection, request: Request, token: ApiToken) -> Refusal | None:
    """A token limited to one tenant opens only that tenant's routes (not the portal's routes,
    which act on every tenant, nor `/metrics`, which shows every tenant), and `NO_TENANT_DATA`."""
    if token.tenant_id is None or request.url.path in NO_TENANT_DATA:
        return None
    slug = request.path_params.get("tenant")
    tenant = await find_tenant(conn, slug) if isinstance(slug, str) else None
    return None if tenant is not None and tenant.id == token.tenant_id else "tenant"


def _runtime_of(request: Request) -> tuple[Database, dict[str, Pepper]]:
    portal = request.app.state.portal
    return portal.db, portal.peppers.known


def door() -> Door:
    """An API token of this portal (its tenant's, or the whole portal's) opens the API; any other
    bearer token goes on to the route's Secret token check."""
    return Door(
        service="lms",
        table=api_tokens,
        runtime_of=_runtime_of,
        refuse=api_error,
        secret_tokens_pass=True,
        tenant_check=same_tenant,
    )
