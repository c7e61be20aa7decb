"""`ScimTarget`: the SCIM client the provisioning engine talks to an application with.

It sends the requests Entra's provisioning service sends (entra-scim.md §1 to §3) to one Tenant
URL with one Secret token, and holds the policy around them: the PATCH dialect, retries with
backoff and `Retry-After`, a timeout per attempt, a rate and a concurrency limit. A transport
(httpx2's `ASGITransport`, `MockTransport`, or the network by default: `wire.WireTransport`,
connecting only to addresses the operator's `network.TargetNetworks` allows) does one request.

Rules a caller relies on:

- The Tenant URL's query string (`?aadOptscim062020`) is kept on every request. Without an
  explicit `dialect`, that flag selects `"rfc"`, and its absence Entra's default `"entra"`.
- Every failure is a `TargetError` (see `errors`). `TransientError`s are retried up to
  `max_attempts` in all, waiting 0.5 s, 1 s, 2 s… (at most 30 s) or what `Retry-After` asks (which
  also holds back every other request of this client). A `Retry-After` over 120 s is not waited
  for: the error is raised at once with `retry_after` set, for the engine to escrow. A POST is only
  sent again when the target cannot have acted on it (429, 503, or no connection was made), so a
  retried create never meets its own 409. Other errors are raised at once.
- The Secret token is sent as `Authorization: Bearer …` and appears in no log line, error or repr.
  One with a CR, LF or NUL inside is refused (`UnsafeHeaderError`, a `ValueError`): it would add
  header lines of its own to every request.
- The current request id (`enlist.logs.context`: a scheduler's cycle's own, or the request's that
  started the work) is sent as `X-Request-Id`, so the target's log of each request shows it.
- `requests_sent` counts every attempt sent, `retries` the attempts that were retries, and
  `requests_by_method` the attempts per HTTP method.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import quote, urlencode

import httpx2
import orjson

from enlist.logs.context import current_request_id
from enlist.provisioning.target.connection import ConnectionCheck, failed_check, passed_check
from enlist.provisioning.target.dialect import (
    AttributeChange,
    Dialect,
    filter_query,
    group_patch_body,
    member_patch_bodies,
    user_patch_body,
)
from enlist.provisioning.target.errors import (
    MULTIPLE_ENTRIES,
    NotFoundError,
    TargetError,
    TransientError,
    classify,
    incompatible,
    media_type,
)
from enlist.provisioning.target.headers import UnsafeHeaderError, check_header_value
from enlist.provisioning.target.limits import Clock, Limits, Sleep
from enlist.provisioning.target.network import TargetNetworks, guarded_transport
from enlist.provisioning.target.wire import Answer, Origin, WireTransport, origin_of
from enlist.scim.filter import matches, parse_filter

__all__ = ["COMPLIANCE_FLAG", "ResourceType", "ScimTarget", "backoff"]

logger = logging.getLogger(__name__)

ResourceType = Literal["User", "Group"]

COMPLIANCE_FLAG = "aadOptscim062020"
BACKOFF_FIRST_S = 0.5
BACKOFF_CAP_S = 30.0
RETRY_AFTER_CAP_S = 120.0
SCIM_MEDIA_TYPE = "application/scim+json"
_ENDPOINTS: dict[str, str] = {"User": "/Users", "Group": "/Groups"}
_RESEND_SAFE_STATUSES = frozenset({429, 503})

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def backoff(attempt: int) -> float:
    """The wait after failed attempt number `attempt` (1-based): 0.5 s doubling, at most 30 s."""
    return min(BACKOFF_FIRST_S * 2.0 ** (attempt - 1), BACKOFF_CAP_S)


class ScimTarget:
    """A SCIM application at `tenant_url`, reached with `secret_token`; use as `async with`."""

    def __init__(
        self,
        tenant_url: str,
        secret_token: str,
        *,
        dialect: Dialect | None = None,
        max_concurrency: int = 4,
        max_requests_per_second: float = 0,
        timeout_s: float = 30.0,
        max_attempts: int = 4,
        member_chunk: int = 50,
        transport: httpx2.AsyncBaseTransport | None = None,
        networks: TargetNetworks | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        try:
            url = httpx2.URL(tenant_url.strip())
        except httpx2.InvalidURL as exc:  # a NUL or a control character (found by the route fuzzer)
            raise ValueError(f"the Tenant URL is not a valid URL: {exc}") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("the Tenant URL must be an absolute http:// or https:// URL")
        token = secret_token.strip()
        if not token:
            raise ValueError("the Secret token is empty")
        try:
            check_header_value("Authorization", token)
        except UnsafeHeaderError:
            raise UnsafeHeaderError(
                "the Secret token contains a line break or NUL character, which would add header "
                "lines to every request: copy the token again, on one line"
            ) from None
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self.tenant_url = str(url)
        self._base = str(url.copy_with(query=None, fragment=None)).rstrip("/")
        self._origin: Origin = origin_of(url)
        self._base_path = url.raw_path.split(b"?", 1)[0].decode("ascii").rstrip("/")
        self._flags = url.query.decode("ascii")
        flag_names = {part.split("=", 1)[0].lower() for part in self._flags.split("&")}
        self.dialect: Dialect = dialect or ("rfc" if COMPLIANCE_FLAG.lower() in flag_names else "entra")
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.member_chunk = member_chunk
        self.limits = Limits(max_concurrency, max_requests_per_second, clock=clock, sleep=sleep)
        self._token = token
        self._transport = transport
        # Without a transport of the caller's, every connection is checked against the
        # operator's target networks (link-local and metadata addresses refused by default).
        self._networks = networks or TargetNetworks()
        self._sleep = sleep
        self._http: httpx2.AsyncBaseTransport | None = None
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Accept": f"{SCIM_MEDIA_TYPE}, application/json",
            "User-Agent": "enlist-provisioning",
        }
        self.requests_sent = 0
        self.retries = 0
        self.requests_by_method: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"ScimTarget({self.tenant_url!r}, dialect={self.dialect!r})"

    async def __aenter__(self) -> Self:
        # No httpx2.AsyncClient: the engine sends its requests straight to the transport, whose
        # own cost is what a cycle of tens of thousands of requests pays for (wire.py).
        self._http = self._transport or guarded_transport(httpx2.URL(self._base), self._networks)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # -- Entra's requests -------------------------------------------------------------------------

    async def test_connection(
        self, *, matching_attribute: str = "userName", groups: bool = False
    ) -> ConnectionCheck:
        """Entra's Test connection: a query for a random uuid4 must find nothing (one attempt each).

        `GET /Users?filter=<matching_attribute> eq "<uuid4>"`, and with `groups` also
        `GET /Groups?excludedAttributes=members&filter=displayName eq "<uuid4>"`. Never raises a
        `TargetError`: the failure is the check's `code` and `message`.
        """
        probes = [("/Users", {"filter": filter_query(matching_attribute, str(uuid.uuid4()))})]
        if groups:
            group_filter = filter_query("displayName", str(uuid.uuid4()))
            probes.append(("/Groups", {"excludedAttributes": "members", "filter": group_filter}))
        for endpoint, params in probes:
            try:
                found = await self._query(endpoint, params, attempts=1)
            except TargetError as error:
                return failed_check(error, self._base, endpoint)
            if found:
                what = f"the query for a random id returned {len(found)} resource(s)"
                ignored = incompatible(f"GET {endpoint}", what, code=MULTIPLE_ENTRIES)
                return failed_check(ignored, self._base, endpoint)
        return passed_check(self.tenant_url)

    async def find_users(self, attribute: str, value: str) -> list[dict[str, Any]]:
        """The users whose `attribute` equals `value` (`GET /Users?filter=attribute eq "value"`).

        Every resource returned must match the filter and have an `id`, or `IncompatibleError`
        (`…MultipleEntriesInResponse` for a target that ignores the filter).
        """
        return await self._query("/Users", {"filter": filter_query(attribute, value)})

    async def find_groups(self, display_name: str) -> list[dict[str, Any]]:
        """`GET /Groups?excludedAttributes=members&filter=displayName eq "…"`, checked as `find_users`."""
        params = {"excludedAttributes": "members", "filter": filter_query("displayName", display_name)}
        return await self._query("/Groups", params)

    async def create(self, resource_type: ResourceType, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST the resource; the created resource, which must carry an `id`."""
        path = _endpoint(resource_type)
        response = await self._send("POST", path, body=body)
        return _resource(response, f"POST {path}", "the created resource")

    async def get(
        self, resource_type: ResourceType, resource_id: str, excluded: str | None = None
    ) -> dict[str, Any] | None:
        """`GET /Users/{id}` (`excludedAttributes=excluded`); None when the target answers 404."""
        path = _item(resource_type, resource_id)
        params = {"excludedAttributes": excluded} if excluded else None
        try:
            response = await self._send("GET", path, params=params)
        except NotFoundError:
            return None
        return _resource(response, f"GET {path}", "the resource")

    async def patch_user(self, resource_id: str, changes: Sequence[AttributeChange]) -> None:
        """One PATCH with every change, in this target's dialect; nothing is sent for no change."""
        if changes:
            await self._send("PATCH", _item("User", resource_id), body=user_patch_body(changes, self.dialect))

    async def patch_group(self, resource_id: str, changes: Sequence[AttributeChange]) -> None:
        """One PATCH of the group's own attributes; nothing is sent for no change."""
        if changes:
            body = group_patch_body(changes, self.dialect)
            await self._send("PATCH", _item("Group", resource_id), body=body)

    async def patch_members(self, group_id: str, add: Sequence[str], remove: Sequence[str]) -> int:
        """Add and remove members (target ids), `member_chunk` a request; the requests sent.

        The requests go one after another; when one fails, the error is raised and the earlier
        ones stay applied.
        """
        bodies = member_patch_bodies(add, remove, self.dialect, self.member_chunk)
        for body in bodies:
            await self._send("PATCH", _item("Group", group_id), body=body)
        return len(bodies)

    async def delete(self, resource_type: ResourceType, resource_id: str) -> None:
        """DELETE the resource; a 404 means it is already gone, which is what was asked."""
        try:
            await self._send("DELETE", _item(resource_type, resource_id))
        except NotFoundError:
            logger.info("%s %s was already gone from %s", resource_type, resource_id, self._base)

    # -- one request, with its retries ------------------------------------------------------------

    async def _query(
        self, endpoint: str, params: dict[str, str], *, attempts: int | None = None
    ) -> list[dict[str, Any]]:
        response = await self._send("GET", endpoint, params=params, attempts=attempts)
        action = f"GET {endpoint}"
        resources = _list_resources(response, action)
        condition = parse_filter(params["filter"])
        for resource in resources:
            if not matches(condition, resource):
                what = f"{params['filter']} returned resource {resource['id']}, which it does not match"
                raise incompatible(action, what, code=MULTIPLE_ENTRIES)
        return resources

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        attempts: int | None = None,
    ) -> httpx2.Response | Answer:
        """The 2xx answer to `method path`, after the retries the policy allows; else a TargetError."""
        http = self._http
        if http is None:
            raise RuntimeError("use the target inside `async with ScimTarget(...)`")
        query = self._query_string(params)
        action = f"{method} {path}"
        content = orjson.dumps(body) if body is not None else None
        headers = self._headers if content is None else {**self._headers, "Content-Type": SCIM_MEDIA_TYPE}
        request_id = current_request_id()  # the cycle's or request's: the target logs the same id
        if request_id is not None:
            headers = {**headers, "X-Request-Id": request_id}
        limit = attempts or self.max_attempts
        attempt = 0
        honour_pause = True
        response: httpx2.Response | Answer
        while True:
            attempt += 1
            resend_safe = False
            try:
                async with self.limits.slot(honour_pause=honour_pause):
                    self.requests_sent += 1
                    self.requests_by_method[method] += 1
                    async with asyncio.timeout(self.timeout_s):
                        if isinstance(http, WireTransport):
                            target = f"{self._base_path}{path}{query}"
                            response = await http.exchange(self._origin, method, target, headers, content)
                        else:
                            url = f"{self._base}{path}{query}"
                            request = httpx2.Request(method, url, headers=headers, content=content)
                            response = await _exchange(http, request)
            except (httpx2.TransportError, TimeoutError) as exc:
                error = classify(exc, action, secret=self._token, timeout_s=self.timeout_s)
                error.__cause__ = exc
                resend_safe = isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout)
            else:
                logger.debug("%s → %s", action, response.status_code)
                if response.is_success:
                    return response
                error = classify(response, action, secret=self._token)
                resend_safe = response.status_code in _RESEND_SAFE_STATUSES
            wait = self._retry_wait(error, attempt, limit, resend_safe or method != "POST")
            if wait is None:
                raise error
            logger.info("%s failed (%s); attempt %d in %.1f s", action, error.code, attempt + 1, wait)
            if error.retry_after is not None:
                # The target asked every request to wait, not only this one.
                self.limits.pause(wait)
            self.retries += 1
            await self._sleep(wait)
            # Having slept its own Retry-After, this request does not wait for that pause again.
            honour_pause = error.retry_after is None

    def _retry_wait(self, error: TargetError, attempt: int, limit: int, may_resend: bool) -> float | None:
        """How long to wait before sending again; None when `error` is to be raised now."""
        if not isinstance(error, TransientError) or not may_resend or attempt >= limit:
            return None
        if error.retry_after is None:
            return backoff(attempt)
        if error.retry_after > RETRY_AFTER_CAP_S:
            return None
        return error.retry_after

    def _query_string(self, params: Mapping[str, str] | None) -> str:
        # Built by hand: the flag has no `=` and must stay as written, and `quote_plus` writes the
        # filter as Entra does (`filter=userName+eq+%22…%22`).
        query = "&".join(part for part in (self._flags, urlencode(params or {})) if part)
        return f"?{query}" if query else ""


async def _exchange(transport: httpx2.AsyncBaseTransport, request: httpx2.Request) -> httpx2.Response:
    """The whole answer to `request`, read and closed."""
    response = await transport.handle_async_request(request)
    try:
        await response.aread()
    finally:
        await response.aclose()
    return response


def _endpoint(resource_type: str) -> str:
    try:
        return _ENDPOINTS[resource_type]
    except KeyError:
        raise ValueError(f"the resource type is User or Group, not {resource_type!r}") from None


def _item(resource_type: str, resource_id: str) -> str:
    if not resource_id:
        raise ValueError("the resource id is empty")
    return f"{_endpoint(resource_type)}/{quote(resource_id, safe='')}"


def _json(response: httpx2.Response | Answer, action: str) -> Any:
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        said = f"the server answered {response.status_code} with {media_type(response)}, not a SCIM response"
        raise incompatible(action, said) from None


def _resource(response: httpx2.Response | Answer, action: str, what: str) -> dict[str, Any]:
    body = _json(response, action)
    if not isinstance(body, dict):
        raise incompatible(action, f"{what} is not a JSON object")
    if not isinstance(body.get("id"), str) or not body["id"]:
        raise incompatible(action, f"{what} has no id")
    return body


def _list_resources(response: httpx2.Response | Answer, action: str) -> list[dict[str, Any]]:
    """The `Resources` of a ListResponse, each an object with an `id`; a missing list is empty.

    An object counts as a ListResponse when it names the ListResponse schema or carries
    `totalResults` or `Resources` (some servers omit `schemas`); any other JSON object, such as a
    status page's `{"status": "ok"}`, is not a SCIM answer and fails Test connection."""
    body = _json(response, action)
    if not isinstance(body, dict):
        raise incompatible(action, "the answer is not a ListResponse object")
    keys = {key.lower(): key for key in body}
    schemas = body.get(keys.get("schemas", "schemas"))
    names_list_response = isinstance(schemas, list) and LIST_RESPONSE in schemas
    if not names_list_response and "totalresults" not in keys and "resources" not in keys:
        raise incompatible(action, "the answer is a JSON object but not a SCIM ListResponse")
    resources = body.get(keys.get("resources", "Resources"))
    total = body.get(keys.get("totalresults", "totalResults"))
    if resources is None:
        if total not in (None, 0):
            raise incompatible(action, f"the ListResponse has totalResults {total!r} but no Resources")
        return []
    if not isinstance(resources, list):
        raise incompatible(action, "the ListResponse's Resources is not a list")
    for resource in resources:
        if not isinstance(resource, dict) or not isinstance(resource.get("id"), str) or not resource["id"]:
            raise incompatible(action, "a resource of the ListResponse has no id")
    return resources
