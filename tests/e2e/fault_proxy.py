"""A SCIM target that misbehaves on cue: the portal behind a proxy that injects faults by script.

`FaultProxy(portal_app)` is a Starlette ASGI app that forwards every request to the portal's ASGI
app (in process) and, when a rule of its script matches the request, answers with a fault
instead: a status (500, 503, 429 with or without `Retry-After`), a response slower than the
client's timeout, a 2xx body that is not JSON, a 201 whose resource has a wrong or no `id`, or a
connection closed without an answer. A rule says whether the portal sees the request first
(`forward=True`: the portal acted, only its answer is lost or spoilt) or not at all.

The engine reaches it with `ScimTarget(…, transport=httpx2.ASGITransport(app=proxy))`. Over an
ASGI transport there is no socket to close, so "connection closed" is the exception httpx raises
when a real server hangs up without answering (`httpx2.RemoteProtocolError`), raised by the app
and passed through by the transport.

`RecordingSleep` is the fake `sleep` to give the target: it records every wait (retries,
`Retry-After`, pauses) and returns at once.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx2
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

UPSTREAM = "http://portal.test"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
_FILTER_VALUE = re.compile(r'\beq\s+"((?:[^"\\]|\\.)*)"', re.IGNORECASE)
_PASSED_HEADERS = ("content-type", "location", "etag", "retry-after")


@dataclass(frozen=True)
class Call:
    """One request as the proxy sees it."""

    method: str
    path: str  # without the tenant prefix: `/Users`, `/Groups/abc`
    query: str
    body: Any

    @property
    def resource(self) -> str:
        """`Users` or `Groups` (or the first path segment)."""
        return self.path.strip("/").split("/", 1)[0]

    @property
    def name(self) -> str | None:
        """The userName / displayName the request is about: from a POST body, or a filter query."""
        if isinstance(self.body, dict):
            value = self.body.get("userName") or self.body.get("displayName")
            if isinstance(value, str):
                return value
        filters = parse_qs(self.query).get("filter")
        if filters:
            found = _FILTER_VALUE.search(filters[0])
            if found:
                return found.group(1)
        return None


Match = Callable[[Call], bool]


def creating(resource: str, *names: str) -> Match:
    """`POST /Users` (or `/Groups`) of one of `names`."""
    wanted = set(names)
    return lambda c: c.method == "POST" and c.resource == resource and c.name in wanted


def querying(resource: str, *names: str) -> Match:
    """`GET /Users?filter=… eq "name"` (the matching query) for one of `names`."""
    wanted = set(names)
    return lambda c: c.method == "GET" and c.resource == resource and c.query != "" and c.name in wanted


def patching(resource: str, *target_ids: str) -> Match:
    """`PATCH /Users/{id}` (or `/Groups/{id}`) of one of `target_ids`."""
    wanted = set(target_ids)
    return lambda c: c.method == "PATCH" and c.resource == resource and c.path.rsplit("/", 1)[-1] in wanted


@dataclass
class Rule:
    """When `match` holds, answer with `fault`; `times` times in all (None: every time).

    Faults: `status` (with `status` and `retry_after`), `slow` (the real answer after
    `delay_s`), `bad_json` (the real status, a body that is not JSON), `wrong_id` (the real
    resource with an `id` that is not a string), `no_id` (the real resource without `id`),
    `close` (no answer: the connection is closed).
    """

    match: Match
    fault: str
    forward: bool = False
    status: int = 500
    retry_after: str | None = None
    delay_s: float = 0.0
    times: int | None = None
    hits: int = 0

    def active(self) -> bool:
        return self.times is None or self.hits < self.times


@dataclass(frozen=True)
class Injected:
    """A fault the proxy injected, for the test to compare with the provisioning log."""

    fault: str
    method: str
    path: str
    name: str | None
    status: int | None


@dataclass
class FaultProxy:
    upstream: Any  # the portal's ASGI app
    tenant_prefix: str = "/scim/v2/acme"
    rules: list[Rule] = field(default_factory=list)
    injected: list[Injected] = field(default_factory=list)
    forwarded: list[Call] = field(default_factory=list)
    enabled: bool = True

    def __post_init__(self) -> None:
        self.app = Starlette(
            routes=[
                Route("/{path:path}", self._handle, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])
            ]
        )
        self._client = httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=self.upstream), base_url=UPSTREAM
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    def add(self, match: Match, fault: str, **options: Any) -> Rule:
        rule = Rule(match, fault, **options)
        self.rules.append(rule)
        return rule

    def off(self) -> None:
        """Stop injecting: every request goes through untouched."""
        self.enabled = False

    async def aclose(self) -> None:
        await self._client.aclose()

    def injected_for(self, fault: str) -> list[Injected]:
        return [i for i in self.injected if i.fault == fault]

    # -- one request ------------------------------------------------------------------------

    async def _handle(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            body = None
        path = request.url.path
        inner = path.removeprefix(self.tenant_prefix) or "/"
        call = Call(request.method, inner, request.url.query, body)
        rule = next((r for r in self.rules if r.active() and r.match(call)), None) if self.enabled else None
        if rule is None:
            return await self._forward(request, raw, call)
        rule.hits += 1
        upstream: Response | None = None
        if rule.forward or rule.fault in ("slow", "bad_json", "wrong_id", "no_id"):
            upstream = await self._forward(request, raw, call)
        self.injected.append(
            Injected(
                rule.fault,
                call.method,
                call.path,
                call.name,
                upstream.status_code if upstream is not None else None,
            )
        )
        return await self._fault(rule, upstream)

    async def _forward(self, request: Request, raw: bytes, call: Call) -> Response:
        self.forwarded.append(call)
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() in ("authorization", "content-type", "accept")
        }
        url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        answer = await self._client.request(request.method, url, content=raw or None, headers=headers)
        passed = {k: v for k, v in answer.headers.items() if k.lower() in _PASSED_HEADERS}
        return Response(answer.content, status_code=answer.status_code, headers=passed)

    async def _fault(self, rule: Rule, upstream: Response | None) -> Response:
        if rule.fault == "status":
            headers = {"Retry-After": rule.retry_after} if rule.retry_after is not None else {}
            body = {
                "schemas": [ERROR_SCHEMA],
                "status": str(rule.status),
                "detail": f"injected {rule.status}",
            }
            return Response(
                orjson.dumps(body),
                status_code=rule.status,
                headers=headers,
                media_type="application/scim+json",
            )
        if rule.fault == "close":
            raise httpx2.RemoteProtocolError("Server disconnected without sending a response.")
        assert upstream is not None
        if rule.fault == "slow":
            await asyncio.sleep(rule.delay_s)
            return upstream
        if rule.fault == "bad_json":
            return Response(
                b"<html><body>Service temporarily unavailable</body>",
                status_code=upstream.status_code,
                media_type="application/scim+json",
            )
        if rule.fault in ("wrong_id", "no_id"):
            resource = orjson.loads(upstream.body)
            if rule.fault == "wrong_id":
                resource["id"] = 12345
            else:
                resource.pop("id", None)
            headers = {k: v for k, v in upstream.headers.items() if k.lower() in ("location", "etag")}
            return Response(
                orjson.dumps(resource),
                status_code=upstream.status_code,
                headers=headers,
                media_type="application/scim+json",
            )
        raise AssertionError(f"unknown fault {rule.fault!r}")


@dataclass
class RecordingSleep:
    """A fake `sleep` for `ScimTarget`: records each wait and returns at once."""

    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)
