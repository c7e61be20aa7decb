"""What every tenant page of the portal shares: finding the tenant the admin may see, forms, 404s.

A tenant page is `async def page(ctx: TenantContext) -> Response`: `tenant_page` looks the
tenant up by its URL segment in the same read transaction the page then uses, and answers 404
for a tenant that does not exist *or* that this admin may not see (the two look the same, so a
limited admin learns nothing about other tenants).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from enlist.lms.api.runtime import Portal, portal_of
from enlist.lms.domain.tenants import Tenant
from enlist.lms.store.tenants import find_tenant
from enlist.web.accounts import Admin
from enlist.web.bad_input import limited_request, storable_form
from enlist.web.guard import session_of
from enlist.web.pages import ADMIN_PREFIX, Site
from enlist.web.params import Text, read

MAX_FORM_FIELDS = 40
QUERY_TEXT = Text(1000)  # a search prefix, a filter word, an id or a cursor (<= 1,000)


@dataclass(frozen=True, slots=True)
class TenantContext:
    """A request for one tenant's page, with the open connection the page reads through."""

    request: Request
    site: Site
    portal: Portal
    admin: Admin
    tenant: Tenant
    conn: AsyncConnection

    @property
    def base(self) -> str:
        """The tenant's pages' URL prefix."""
        return tenant_base(self.tenant.slug)

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return self.site.render(
            self.request, template, status_code, tenant=self.tenant, base=self.base, **context
        )


def tenant_base(slug: str) -> str:
    return f"{ADMIN_PREFIX}/tenants/{slug}"


def site_of(request: Request) -> Site:
    site = request.app.state.site
    assert isinstance(site, Site)
    return site


def not_found(request: Request, what: str = "This page") -> HTMLResponse:
    return site_of(request).render(
        request, "not_found.html", status_code=404, page_title="Not found", what=what
    )


async def visible_tenant(conn: AsyncConnection, request: Request) -> Tenant | None:
    """The tenant named by the URL, if it exists and the signed-in admin may see it."""
    slug = str(request.path_params.get("tenant", ""))
    tenant = await find_tenant(conn, slug)
    if tenant is None or tenant.slug != slug or not session_of(request).admin.may_see(tenant.slug):
        return None
    return tenant


def tenant_page(
    page: Callable[[TenantContext], Awaitable[Response]], *, write: bool = False
) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint running `page` for the URL's tenant, inside one read (or, with
    `write`, one write) transaction."""

    async def endpoint(request: Request) -> Response:
        portal = portal_of(request)
        transaction = portal.db.write() if write else portal.db.read()
        async with transaction as conn:
            tenant = await visible_tenant(conn, request)
            if tenant is None:
                return not_found(request, "This tenant")
            context = TenantContext(
                request, site_of(request), portal, session_of(request).admin, tenant, conn
            )
            return await page(context)

    endpoint.__name__ = page.__name__
    endpoint.__doc__ = page.__doc__
    return endpoint


async def form_of(request: Request) -> ImmutableMultiDict[str, str]:
    """The posted form's text fields, every value of a repeated field kept (check boxes); a body
    past `ENLIST_MAX_BODY_BYTES` raises `BodyTooLargeError` (a 413 page) before it is all read."""
    limited = limited_request(request, portal_of(request).settings.max_body_bytes)
    async with limited.form(max_files=0, max_fields=MAX_FORM_FIELDS) as form:
        storable_form(form.multi_items())
        return ImmutableMultiDict([(k, v) for k, v in form.multi_items() if isinstance(v, str)])


def query_params(request: Request, *names: str) -> dict[str, str]:
    """The named query parameters, stripped, only those given; each bounded as `QUERY_TEXT`
    (`ParameterError` otherwise, a 400 page). Pages parse the words further themselves."""
    found = {name: read(request.query_params, name, QUERY_TEXT) for name in names}
    return {k: v for k, v in found.items() if v}
