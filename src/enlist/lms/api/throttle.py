"""Failed Secret token attempts, counted per client address and tenant, in a sliding window.

`FailedTokens` is pure: it holds timestamps from an injected clock and nothing else. The SCIM
routes ask it after a token check has failed; once a client has had `limit` failures against one
tenant within `window_s` seconds, its further failures are answered 429 with `Retry-After`
instead of 401.

Why only failures, and why a valid token always passes:

- Entra sends every customer's provisioning from one shared set of addresses. Keyed by address
  alone, one customer's misconfigured app (or anyone with an Entra tenant) could lock every
  other customer out. So the key is (client address, tenant slug).
- Even per tenant, another Entra customer can point an app at our Tenant URL with a wrong token,
  from the very addresses the real customer's provisioning uses. If the limit refused valid
  tokens, that would stop the real customer's sync. A token carries 256 random bits, so the
  limit is not what stops guessing; it bounds the work and the log noise a wrong client causes
  and tells it, in HTTP terms, to slow down. Hence a valid token is always checked and always
  accepted, throttled or not.

`authenticated_tenant(portal, request)` is the one door of every route that takes a Secret token
(the SCIM endpoint, the sync-log API): each of them asks it, so each has the same limit.

The window is per process: with `enlist lms serve --workers N` each worker keeps its own, so a
client may see up to `limit x N` failures answered 401 in one window before every worker says 429.
The table is bounded (`max_keys`): past it, the key idle longest is forgotten.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from enlist.lms.store.tenants import authenticate
from enlist.metrics.instruments import TOKEN_FAILURES
from enlist.metrics.middleware import SCIM_TENANT_KEY
from enlist.scim.errors import too_many_requests, unauthorized
from enlist.web.failure_windows import MAX_KEYS, Clock, FailureWindows

if TYPE_CHECKING:
    from starlette.requests import Request

    from enlist.lms.api.runtime import Portal
    from enlist.lms.domain.tenants import Tenant

Key = tuple[str, str]
"""(client address, tenant slug)."""


@dataclass
class FailedTokens:
    """At most `limit` failed token checks per key in any `window_s` seconds answered as such."""

    limit: int
    window_s: float
    clock: Clock = time.monotonic
    max_keys: int = MAX_KEYS
    _failures: FailureWindows = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window_s <= 0 or self.max_keys < 1:
            raise ValueError("limit and max_keys must be at least 1 and the window positive")
        self._failures = FailureWindows(self.window_s, self.clock, self.max_keys)

    def retry_after(self, key: Key) -> int | None:
        """Whole seconds until `key` may fail again without a 429, or None when it may now.

        Asking does not count as a failure."""
        return self._failures.wait(key, self.limit) or None

    def fail(self, key: Key) -> int | None:
        """Record one failed check for `key`. Returns None when it is still within the limit (the
        caller answers 401), else the `Retry-After` seconds (the caller answers 429; a failure
        answered 429 is not recorded, so `Retry-After` stays true)."""
        wait = self.retry_after(key)
        if wait is not None:
            return wait
        self._failures.record(key)
        return None

    def __len__(self) -> int:
        """How many keys are held (for tests of the bound)."""
        return len(self._failures)


async def authenticated_tenant(portal: Portal, request: Request) -> Tenant:
    """The tenant the request's bearer token opens at its `{tenant}`, else a 401 `ScimError`; a
    429 with `Retry-After` once this client has failed too often against this tenant. A valid
    token is always accepted (see the module docstring)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    slug = request.path_params["tenant"]
    tenant = None
    if scheme.lower() == "bearer" and token.strip():
        async with portal.db.read() as conn:
            tenant = await authenticate(conn, slug, token.strip(), portal.peppers.known)
    if tenant is not None:
        setattr(request.state, SCIM_TENANT_KEY, tenant.slug)  # for enlist_scim_operations_total
        return tenant
    failures: FailedTokens = request.app.state.failed_tokens
    client = request.client.host if request.client else ""
    wait = failures.fail((client, slug[:100]))  # a slug is short; bound what a made-up one costs
    reason = "throttled" if wait is not None else ("unknown" if token.strip() else "missing")
    TOKEN_FAILURES.labels("lms", "secret", reason).inc()
    if wait is not None:
        raise too_many_requests(f"too many failed Secret token attempts; retry after {wait} s", wait)
    raise unauthorized()
