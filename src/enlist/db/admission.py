"""Who is asking and until when, and how many turns one tenant may hold at once.

The web layer's request deadline sets the two context variables for each request: `TENANT`, the
tenant its path names ("" for what no single tenant owns: health checks, the CLI, the engine),
and `DEADLINE`, the `time.monotonic()` at which the request is cancelled. The database reads
them: a statement stops at the deadline, and a tenant takes turns.

`TenantTurns` is a per-tenant concurrency cap: at most `per_tenant` holders per tenant, the
rest wait (their wait is cancelled with their request). Work no tenant owns is never capped. A
turn taken while the same task already holds one of the same `TenantTurns` is free, so one
request's nested transactions cannot wait for each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

TENANT: ContextVar[str] = ContextVar("enlist_tenant", default="")
DEADLINE: ContextVar[float | None] = ContextVar("enlist_deadline", default=None)


class TenantTurns:
    """At most `per_tenant` concurrent turns for each tenant."""

    def __init__(self, per_tenant: int, name: str) -> None:
        self.per_tenant = per_tenant
        self._holding: ContextVar[bool] = ContextVar(f"enlist_turn_{name}", default=False)
        self._tenants: dict[str, tuple[asyncio.Semaphore, int]] = {}

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        tenant = TENANT.get()
        if not tenant or self._holding.get():
            yield
            return
        turns, users = self._tenants.get(tenant, (asyncio.Semaphore(self.per_tenant), 0))
        self._tenants[tenant] = (turns, users + 1)
        try:
            async with turns:
                token = self._holding.set(True)
                try:
                    yield
                finally:
                    try:
                        self._holding.reset(token)
                    except ValueError:
                        # Closed from another context: an async generator abandoned mid-read
                        # (a cycle that stopped) is finalised later by the event loop, in a
                        # context of its own, where the flag is that context's to drop.
                        self._holding.set(False)
        finally:
            turns, users = self._tenants[tenant]
            if users == 1:
                del self._tenants[tenant]
            else:
                self._tenants[tenant] = (turns, users - 1)
