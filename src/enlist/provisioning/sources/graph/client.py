"""HTTP to Graph: bearer tokens, retries, throttling, a request rate (graph-source.md §1.6, §6).

Policy, in one place:
- 429, 503, 504 and a dropped connection are retried, at most `max_retries` times: after
  `Retry-After` when the answer has one (seconds, fractional seconds or an HTTP-date), else after
  an exponential backoff with jitter. A wait longer than `max_retry_wait` stops the round.
- 401 drops the cached token and retries once; a second 401 stops the round.
- 403 names the permission the call needs. Any other 4xx/5xx stops the round with Graph's code.
- A link (nextLink, deltaLink) is followed verbatim, but only on the configured Graph origin:
  the bearer token is never sent anywhere else.
- Every request carries a fresh `client-request-id` and `x-ms-throttle-priority: low` (a
  background sync yields to interactive traffic, §6.3). Once Graph says the app used 80 % of
  its quota (`x-ms-throttle-limit-percentage` >= 0.8), the rest of the round goes at half the
  configured rate (or `SLOWED_RATE` requests a second when there is no limit).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Self

import httpx2

from enlist.provisioning.sources.graph.auth import TokenProvider
from enlist.provisioning.sources.graph.errors import GraphHTTPError, PermissionMissingError, UnreachableError
from enlist.provisioning.sources.graph.settings import GraphSettings
from enlist.provisioning.sources.model import SourceUnavailableError

RETRIED = frozenset({429, 503, 504})
SLOWED_RATE = 5.0
Sleep = Callable[[float], Awaitable[None]]


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a `Retry-After` header: an integer, a fraction (`2.128`) or a date."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now)


def backoff(attempt: int) -> float:
    """0.5 s, 1 s, 2 s, … capped at 30 s, plus up to 0.5 s of jitter (Graph's SDKs do alike)."""
    return float(min(30.0, 0.5 * 2**attempt)) + random.uniform(0, 0.5)  # noqa: S311 - jitter, not secrets


def _error_code(response: httpx2.Response) -> tuple[str, str]:
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return "", response.text[:200]
    return str(error.get("code") or ""), str(error.get("message") or "")


class GraphClient:
    """The reader's one door to Graph. `sent` counts requests (retries included), `waits`
    lists every wait (seconds) before a retry, for the tests and the benchmark."""

    def __init__(
        self,
        settings: GraphSettings,
        connect: Callable[[], httpx2.AsyncClient],
        tokens: TokenProvider,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        reconnect: bool = True,
    ) -> None:
        self._settings = settings
        self._connect = connect
        self._http: httpx2.AsyncClient | None = None
        self._reconnect = reconnect
        self._tokens = tokens
        self._sleep = sleep
        self._clock = clock
        self._next_slot = 0.0
        self.slowed = False
        self.sent = 0
        self.waits: list[float] = []

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _connection(self) -> httpx2.AsyncClient:
        if self._http is None:
            self._http = self._connect()
        return self._http

    async def _fresh_connection(self) -> None:
        """After a 503, a 504 or a dropped connection the retry goes over a new connection
        (graph-source.md §6.4): the pool, one connection for a sequential reader, is dropped."""
        if self._reconnect:
            await self.aclose()

    async def token(self) -> str:
        return await self._tokens.token(self._connection())

    def url(self, path_or_link: str) -> str:
        base = self._settings.graph
        if path_or_link.startswith("/"):
            return f"{base}/v1.0{path_or_link}"
        if not (path_or_link == base or path_or_link.startswith(base + "/")):
            raise SourceUnavailableError(
                f"Graph returned a link outside {base}; refusing to send the token there"
            )
        return path_or_link

    async def _pace(self) -> None:
        rate = self._settings.requests_per_second
        if self.slowed:
            rate = rate / 2 if rate > 0 else SLOWED_RATE
        if rate <= 0:
            return
        now = self._clock()
        if self._next_slot > now:
            await self._sleep(self._next_slot - now)
            now = self._next_slot
        self._next_slot = now + 1.0 / rate

    def _note_quota(self, used: str | None) -> None:
        if used is None:
            return
        with contextlib.suppress(ValueError):
            self.slowed = self.slowed or float(used) >= 0.8

    async def pause(self, seconds: float, why: str) -> None:
        """Wait before a retry the caller makes itself (a `$batch`'s throttled sub-requests)."""
        await self._wait(seconds, why)

    async def _wait(self, seconds: float, why: str) -> None:
        if seconds > self._settings.max_retry_wait:
            raise SourceUnavailableError(
                f"Graph asked to wait {seconds:.0f} s ({why}), longer than the "
                f"{self._settings.max_retry_wait:.0f} s "
                "this source accepts; the next round tries again"
            )
        self.waits.append(seconds)
        await self._sleep(seconds)

    async def get(
        self, path_or_link: str, *, permission: str, headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """GET a path (`/users/delta?…`, relative to /v1.0) or a link Graph returned; the JSON body.
        `permission` is the application permission the call needs, named when Graph answers 403."""
        response = await self.send("GET", self.url(path_or_link), permission=permission, headers=headers)
        body = response.json()
        if not isinstance(body, dict):
            raise GraphHTTPError(f"Graph answered {path_or_link} with a body that is not an object", 200, "")
        return body

    async def send(
        self,
        method: str,
        url: str,
        *,
        permission: str,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        allow: frozenset[int] = frozenset(),
    ) -> httpx2.Response:
        """Send with the retry policy of the module docstring; statuses in `allow` are returned."""
        refreshed = False
        attempt = 0
        while True:
            await self._pace()
            try:
                token = await self.token()
            except UnreachableError:
                # The login endpoint down or busy is as transient as Graph's 503 (MSAL retries too).
                if attempt >= self._settings.max_retries:
                    raise
                await self._wait(backoff(attempt), "the login endpoint did not answer")
                attempt += 1
                continue
            request_headers = {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "client-request-id": str(uuid.uuid4()),
                "x-ms-throttle-priority": "low",
                **(headers or {}),
            }
            self.sent += 1
            try:
                response = await self._connection().request(method, url, headers=request_headers, json=json)
            except httpx2.TransportError as error:
                await self._fresh_connection()
                if attempt >= self._settings.max_retries:
                    raise UnreachableError(
                        f"cannot reach Graph at {self._settings.graph} after {attempt + 1} tries: {error!r}"
                    ) from error
                await self._wait(backoff(attempt), f"connection failed: {error!r}")
                attempt += 1
                continue
            status = response.status_code
            self._note_quota(response.headers.get("x-ms-throttle-limit-percentage"))
            if status < 400 or status in allow:
                return response
            if status == 401 and not refreshed:
                self._tokens.invalidate()
                refreshed = True
                continue
            code, message = _error_code(response)
            if status in RETRIED and attempt < self._settings.max_retries:
                if status != 429:
                    await self._fresh_connection()
                wait = retry_after(response.headers.get("Retry-After"), time.time())
                await self._wait(backoff(attempt) if wait is None else wait, f"HTTP {status}")
                attempt += 1
                continue
            if status == 403:
                raise PermissionMissingError(
                    f"Graph refused {method} {httpx2.URL(url).path} (403 {code}: {message}): "
                    "the app needs the "
                    f"application permission {permission}, with admin consent",
                    permission,
                )
            if status in RETRIED:
                raise GraphHTTPError(
                    f"Graph still answered {status} after {attempt} retries ({code}: {message})", status, code
                )
            raise GraphHTTPError(
                f"Graph answered {status} {code} to {method} {httpx2.URL(url).path}: {message}", status, code
            )
