"""The portal served over real HTTP on loopback, two tenants (acme, globex) with a Secret
token each, and API tokens of every kind the door tells apart, minted through the store
function `enlist lms api-token create` calls (no route mints one)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx2
import pytest
from starlette.routing import Route

from enlist.api_tokens import store as token_store
from enlist.api_tokens.model import Scope
from enlist.db.rows import now
from enlist.lms import operations
from enlist.lms.api.app import create_app
from enlist.lms.api.runtime import Portal
from enlist.lms.api_tokens import api_tokens
from enlist.lms.domain.tenants import Tenant
from tests.live import portal_on_loopback

PATH_VALUES = {
    "tenant": "acme",
    "name": "no-such-token",
    "department": "acme",
    "rule": "1",
    "user": "no-such-user",
}
"""A value for each path parameter of the portal's /api routes (a test fails on a new one)."""


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def concrete(path: str, **values: str) -> str:
    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: {**PATH_VALUES, **values}[m[1]], path)


@dataclass
class PortalApi:
    """A client on the portal's real HTTP port, its tenants and Secret tokens, and `tokens`:
    API tokens by what they are (`portal-write`, `acme-read`, …)."""

    portal: Portal
    http: httpx2.AsyncClient
    routes: list[Route]
    tenants: dict[str, Tenant] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    async def mint(self, name: str, scope: Scope, tenant: str | None = None) -> str:
        async with self.portal.db.write() as conn:
            minted = await token_store.create(
                conn,
                api_tokens,
                self.portal.peppers.current,
                name=name,
                scope=scope,
                expires_at=None,
                tenant_id=self.tenants[tenant].id if tenant else None,
            )
        return minted.token

    async def call(self, method: str, path: str, token: str, **kwargs: Any) -> httpx2.Response:
        return await self.http.request(method, path, headers=bearer(token), **kwargs)


async def expire(portal: Portal, name: str) -> None:
    """Move a token's expiry into the past (a test cannot wait 90 days)."""
    async with portal.db.write() as conn:
        await conn.execute(
            api_tokens.update()
            .where(api_tokens.c.name == name)
            .values(expires_at=now() - timedelta(seconds=1))
        )


@pytest.fixture
async def api(portal: Portal) -> AsyncIterator[PortalApi]:
    app = create_app(portal.settings, portal)
    routes = [r for r in app.routes if isinstance(r, Route) and r.path.startswith("/api/")]
    async with portal_on_loopback(portal) as base_url, httpx2.AsyncClient(base_url=base_url) as http:
        made = PortalApi(portal, http, routes)
        async with portal.db.write() as conn:
            for name in ("acme", "globex"):
                minted = await operations.create_tenant(conn, name, portal.peppers.current)
                made.tenants[name], made.secrets[name] = minted.tenant, minted.token
        for name, scope, tenant in (
            ("portal-write", "write", None),
            ("portal-read", "read", None),
            ("acme-write", "write", "acme"),
            ("acme-read", "read", "acme"),
            ("globex-write", "write", "globex"),
            ("revoked", "write", None),
            ("expired", "write", None),
        ):
            made.tokens[name] = await made.mint(name, scope, tenant)  # type: ignore[arg-type]
        async with portal.db.write() as conn:
            await operations.revoke_api_token(conn, None, "revoked")
        await expire(portal, "expired")
        yield made
