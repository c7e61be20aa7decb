"""Tenants: the list an admin starts from, and **New tenant**, which shows the first token once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response

from enlist.lms import operations
from enlist.lms.api.runtime import portal_of
from enlist.lms.domain.tenants import TenantNameError
from enlist.lms.store import tenants as tenant_store
from enlist.lms.store.tenant_overview import TenantOverview, overviews, recent_clients
from enlist.lms.web.common import TenantContext, form_of, site_of
from enlist.lms.web.sync import render_sync
from enlist.web.guard import session_of

GUIDE_TENANTS = 3


async def _tenants(request: Request, *, error: str = "", name: str = "", status_code: int = 200) -> Response:
    admin = session_of(request).admin
    async with portal_of(request).db.read() as conn:
        tenants = [t for t in await tenant_store.list_tenants(conn) if admin.may_see(t.slug)]
        rows = sorted(await overviews(conn, tenants), key=lambda o: (o.tenant.name.casefold(), o.tenant.slug))
        guide = await first_run_guide(conn, rows)
    return site_of(request).render(
        request,
        "tenants.html",
        status_code,
        page_title="Tenants",
        tenants=rows,
        guide=guide,
        may_create=admin.tenant is None,
        error=error,
        name=name,
    )


@dataclass(frozen=True, slots=True)
class Arrival:
    """What SCIM brought into one tenant, for the guide at the top of the portal's home."""

    overview: TenantOverview
    clients: list[str]


async def first_run_guide(conn: AsyncConnection, rows: list[TenantOverview]) -> list[Arrival]:
    """The tenants SCIM changed most recently (at most `GUIDE_TENANTS`), newest first, with the
    clients that changed them: after `make run`, the demo tenant filled by enlist provisioning."""
    dated = sorted(
        ((o.last_change_at, o) for o in rows if o.last_change_at is not None),
        key=lambda p: p[0],
        reverse=True,
    )
    return [Arrival(o, await recent_clients(conn, o.tenant.id)) for _, o in dated[:GUIDE_TENANTS]]


async def tenants_page(request: Request) -> Response:
    return await _tenants(request)


async def create_tenant(request: Request) -> Response:
    """POST: create a tenant and its first Secret token, and show its User synchronization page."""
    admin = session_of(request).admin
    form = await form_of(request)
    name = form.get("name", "").strip()
    if admin.tenant is not None:
        return await _tenants(
            request, error="Your account manages one tenant only and cannot create tenants.", status_code=403
        )
    if not name:
        return await _tenants(request, error="Give the new tenant a name.", status_code=400)
    portal = portal_of(request)
    try:
        async with portal.db.write() as conn:
            minted = await operations.create_tenant(conn, name, portal.peppers.current)
            tenant = minted.tenant
            # The navigation of the new tenant's pages follows the URL's tenant: this answer shows
            # that page without a redirect (a redirect would lose the token, or carry it in a URL).
            request.scope["path_params"] = {**request.path_params, "tenant": tenant.slug}
            ctx = TenantContext(request, site_of(request), portal, admin, tenant, conn)
            return await render_sync(ctx, new_token=minted.token, created=True)
    except (TenantNameError, tenant_store.TenantExistsError) as exc:  # raised before any write
        return await _tenants(request, error=str(exc), name=name, status_code=400)
