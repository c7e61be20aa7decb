"""The admin page of a service's API tokens: list them (name, scope, created, last used, expiry)
and revoke one. Tokens are created on the command line (`api-token create`), where the token is
printed once; the page never shows one.

In the portal an admin limited to one tenant sees, and may revoke, only that tenant's tokens;
the whole portal's tokens are for admins of every tenant. The guard has checked the session and,
for the revoke form, its CSRF token before the page runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from enlist.api_tokens import store
from enlist.api_tokens.model import ApiToken
from enlist.db.rows import now
from enlist.web.guard import session_of
from enlist.web.pages import ADMIN_PREFIX, Site

PATH = ADMIN_PREFIX + "/api-tokens"


@dataclass(frozen=True, slots=True)
class TokenPages:
    """`command` is the CLI group that creates tokens (shown as a hint); `tenants` (the portal)
    is the tenants table, for the Tenant column and for limited admins."""

    table: sa.Table
    command: str
    tenants: sa.Table | None = None

    def routes(self) -> list[Route]:
        return [
            Route(PATH, self.page, methods=["GET"]),
            Route(PATH + "/{token_id:int}/revoke", self.revoke, methods=["POST"]),
        ]

    async def _visible(self, conn: AsyncConnection, request: Request) -> list[tuple[ApiToken, str | None]]:
        """The tokens this admin may see, each with its tenant's slug (None: the whole service)."""
        query = sa.select(self.table).order_by(self.table.c.created_at.desc(), self.table.c.id.desc())
        slugs: dict[int, str] = {}
        if self.tenants is not None:
            slugs = {
                r.id: r.slug for r in await conn.execute(sa.select(self.tenants.c.id, self.tenants.c.slug))
            }
        limited = session_of(request).admin.tenant
        shown = []
        for row in await conn.execute(query):
            token = store.row_token(row)
            slug = slugs.get(token.tenant_id) if token.tenant_id is not None else None
            if limited is None or slug == limited:
                shown.append((token, slug))
        return shown

    async def page(self, request: Request) -> Response:
        site: Site = request.app.state.site
        async with site.db_of(request).read() as conn:
            tokens = await self._visible(conn, request)
        return site.render(
            request,
            "api_tokens.html",
            page_title="API tokens",
            tokens=tokens,
            tenants=self.tenants is not None,
            command=self.command,
            moment=now(),
            done=request.query_params.get("done", ""),
        )

    async def revoke(self, request: Request) -> Response:
        site: Site = request.app.state.site
        token_id = request.path_params["token_id"]
        async with site.db_of(request).write() as conn:
            visible = {token.id for token, _ in await self._visible(conn, request)}
            if token_id not in visible:
                return PlainTextResponse("There is no such API token.", status_code=404)
            await store.revoke_by_id(conn, self.table, token_id)
        return RedirectResponse(PATH + "?done=revoked", status_code=303)
