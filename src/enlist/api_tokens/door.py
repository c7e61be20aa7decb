"""The API's door: `requires(scope)` on every /api route, `Door.admit` behind it and `/metrics`.

A request is let in by one of:
- an admin session, where the service's `AdminGuard` already checked it (and, for a write, its
  CSRF token): the provisioning service's pages call its API that way;
- an `Authorization: Bearer` API token of this service that is live, not expired and whose scope
  covers the route's (`write` covers `read`);
- in the portal, a bearer token that is no API token at all goes on to the route, which checks it
  as a tenant's Secret token (the sync-log API took those first).

A refusal is answered in the API's own error shape: 401 for a missing, unknown, revoked or
expired token, 403 for a read token on a write and for a portal token limited to another tenant
(it is a valid token that may not do this: the same answer whether that tenant exists or not).
Every refusal counts in `enlist_token_failures_total{kind="api"}`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response

from enlist.api_tokens import store
from enlist.api_tokens.model import LAST_USED_EVERY, ApiToken, Refusal, Scope
from enlist.db.database import Database
from enlist.db.rows import now as current_time
from enlist.metrics.instruments import TOKEN_FAILURES
from enlist.web import tokens as tk

Endpoint = Callable[[Request], Awaitable[Response]]
TenantCheck = Callable[[AsyncConnection, Request, ApiToken], Awaitable[Refusal | None]]
SCOPE_ATTRIBUTE = "api_scope"
"""Set on every endpoint `requires` wraps: the scope it needs (tests walk the routes by it)."""

_MESSAGES: dict[Refusal, str] = {
    "missing": "send an API token: Authorization: Bearer <token>",
    "malformed": "this is not an API token; create one with `api-token create NAME`",
    "unknown": "this API token is not known here; create one with `api-token create NAME`",
    "revoked": "this API token was revoked; create a new one with `api-token create NAME`",
    "expired": "this API token has expired; create a new one with `api-token create NAME`",
    "scope": "this API token may only read; this needs a token created with --scope write",
    "tenant": "this API token is limited to another tenant; use one of this tenant or of the whole portal",
}


@dataclass(frozen=True, slots=True)
class Door:
    """How one service checks API tokens. `runtime_of` gives its database and peppers;
    `refuse(status, message)` answers in its API's error shape; `tenant_check` (the portal)
    refuses a tenant-limited token outside its tenant."""

    service: str
    table: sa.Table
    runtime_of: Callable[[Request], tuple[Database, dict[str, tk.Pepper]]]
    refuse: Callable[[int, str], Response]
    sessions_pass: bool = False
    secret_tokens_pass: bool = False
    tenant_check: TenantCheck | None = None

    async def admit(self, request: Request, needed: Scope, *, token_only: bool = False) -> Response | None:
        """None when the request may go on (`request.state.api_token` is then the token, if one
        was used), else the refusal. `token_only`: only an API token opens (`/metrics`)."""
        if not token_only and self.sessions_pass and "session" in request.scope.get("state", {}):
            return None
        passes_on = self.secret_tokens_pass and not token_only
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        presented = presented.strip()
        if scheme.lower() != "bearer" or not presented:
            return None if passes_on else self._refused("missing")
        parts = tk.split(presented)
        if parts is None:
            return None if passes_on else self._refused("malformed")
        key_id, secret = parts
        db, peppers = self.runtime_of(request)
        async with db.read() as conn:
            found = await store.find(conn, self.table, key_id)
            if found is None and passes_on:
                return None  # a Secret token: the route's own door checks it
            stored = _as_secret_token(found)
            if not tk.verify(peppers, stored, secret) or found is None:
                return self._refused("unknown")
            moment = current_time()
            refusal = found.stored.refusal_at(moment, needed)
            if refusal is None and self.tenant_check is not None:
                refusal = await self.tenant_check(conn, request, found.stored)
        if refusal is not None:
            return self._refused(refusal)
        if found.stored.needs_touch(moment):
            async with db.write() as conn:
                await store.touch(conn, self.table, found.stored.id, moment, moment - LAST_USED_EVERY)
        request.state.api_token = found.stored
        return None

    def _refused(self, reason: Refusal) -> Response:
        TOKEN_FAILURES.labels(self.service, "api", reason).inc()
        return self.refuse(403 if reason in ("scope", "tenant") else 401, _MESSAGES[reason])


def _as_secret_token(found: store.Found | None) -> tk.StoredToken | None:
    """The shape `tokens.verify` checks (it does the same hashing whether or not one was found)."""
    if found is None:
        return None
    return tk.StoredToken(0, "", found.digest, found.pepper_id, None, None)


def door_of(request: Request) -> Door:
    door = request.app.state.api_door
    assert isinstance(door, Door)
    return door


def requires(needed: Scope) -> Callable[[Endpoint], Endpoint]:
    """Wrap an /api endpoint so only a request `Door.admit` lets in with `needed` reaches it."""

    def wrap(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            refusal = await door_of(request).admit(request, needed)
            if refusal is not None:
                return refusal
            return await endpoint(request)

        setattr(guarded, SCOPE_ATTRIBUTE, needed)
        return guarded

    return wrap


def api_token_of(request: Request) -> ApiToken | None:
    """The API token that opened this request, if one did."""
    token = getattr(request.state, "api_token", None)
    return token if isinstance(token, ApiToken) else None
