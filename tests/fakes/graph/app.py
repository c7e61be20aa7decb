"""The fake Microsoft Graph (graph-source.md §8): an ASGI app answering both the login host
(token endpoint, OIDC discovery) and the Graph host, told apart by the port they are served on.

It refuses what the real Graph refuses: a missing or expired bearer token (401), a call outside
the token's permissions (403 Authorization_RequestDenied), unknown `$select` properties, unknown
query options, `$top` outside 1-999, `$skip`, `$expand` on delta, `$select` beside a skiptoken,
more than 20 requests in a `$batch`. Every request is recorded (`requests`) for tests to check.
"""

from __future__ import annotations

import base64
import email.utils
import random
import re
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import orjson
from starlette.requests import Request
from starlette.responses import Response

from tests.fakes.graph import delta
from tests.fakes.graph.faults import Fault, Faults, Recorded
from tests.fakes.graph.rules import READ_APPS, READ_MEMBERS, READ_USERS, GraphError, Reply
from tests.fakes.graph.tenant import Tenant
from tests.fakes.graph.tokens import TokenIssuer, aad_error


@dataclass
class _Pages:
    route: str
    items: list[dict[str, Any]]
    top: int
    context: str
    pos: int = 0
    # delta only
    kind: Literal["user", "group"] | None = None
    select: frozenset[str] | None = None
    record_seq: int = 0
    after: int = 0
    owe_empty: bool = False


@dataclass
class _DeltaLink:
    kind: Literal["user", "group"]
    select: frozenset[str] | None
    seq: int
    after: int
    created: float


class FakeGraph:
    """The app. `tenant` is the directory, `knobs` the delta anomalies, `faults` the injected
    failures, `requests` what every client sent. `auth_base`/`graph_base` are set by the server."""

    def __init__(self, tenant: Tenant | None = None, *, knobs: delta.Knobs | None = None) -> None:
        self.tenant = tenant or Tenant()
        self.knobs = knobs or delta.Knobs()
        self.faults = Faults()
        self.issuer = TokenIssuer(self.tenant)
        self.requests: list[Recorded] = []
        self.cursor_ttl = 7 * 86400.0
        self.auth_port = 0
        self.auth_base = "https://login.microsoftonline.com"
        self.graph_base = "https://graph.microsoft.com"
        self.reset_connection: Callable[[Any], None] = lambda _client: None
        self._pages: dict[str, _Pages] = {}
        self._links: dict[str, _DeltaLink] = {}

    def graph_requests(self, route: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if r.route != "token" and (route is None or r.route == route)]

    # -- ASGI -----------------------------------------------------------------------------

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        on_auth_host = scope["server"][1] == self.auth_port
        path = request.url.path
        route = "token" if on_auth_host else self.route_of(request.method, path.removeprefix("/v1.0"))
        headers = dict(request.headers)
        peer = tuple(scope["client"]) if scope.get("client") else None
        self.requests.append(
            Recorded(route, request.method, str(request.url), request.url.netloc, headers, peer)
        )
        fault = self.faults.next_for(route)
        if fault is not None and fault.kind == "reset":
            self.reset_connection(scope.get("client"))
            return
        if on_auth_host and fault is not None and fault.kind == "status":
            status, error = aad_error(fault.status, "temporarily_unavailable", 50196, "The service is busy.")
            reply = Reply(status, error, {"Retry-After": fault.retry_after} if fault.retry_after else {})
        elif on_auth_host:
            reply = await self._auth(request, path)
        else:
            body = await request.body()
            reply = self._guarded(request.method, path, str(request.url.query), headers, body, fault)
        await self._send(reply, headers, scope, receive, send)

    async def _send(
        self, reply: Reply, headers: Mapping[str, str], scope: Any, receive: Any, send: Any
    ) -> None:
        out = {
            "request-id": str(uuid.uuid4()),
            "client-request-id": headers.get("client-request-id", str(uuid.uuid4())),
            "Date": email.utils.formatdate(usegmt=True),
            "x-ms-resource-unit": "1",
            **reply.headers,
        }
        if reply.body is None:
            response = Response(status_code=reply.status, headers=out)
        elif isinstance(reply.body, str):
            response = Response(reply.body, reply.status, out, media_type="text/plain")
        else:
            media = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
            response = Response(orjson.dumps(reply.body), reply.status, out, media_type=media)
        await response(scope, receive, send)

    # -- login host -----------------------------------------------------------------------

    async def _auth(self, request: Request, path: str) -> Reply:
        tenant = self.tenant.tenant_id
        if path == f"/{tenant}/v2.0/.well-known/openid-configuration" and request.method == "GET":
            base = f"{self.auth_base}/{tenant}"
            return Reply(
                200,
                {
                    "issuer": f"{base}/v2.0",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                },
            )
        if path != f"/{tenant}/oauth2/v2.0/token" or request.method != "POST":
            status, body = aad_error(400, "invalid_request", 90002, f"Tenant or path '{path}' not found.")
            return Reply(status, body)
        if request.headers.get("authorization", "").lower().startswith("bearer"):
            status, body = aad_error(
                400, "invalid_request", 900144, "A bearer token was sent to the token endpoint."
            )
            return Reply(status, body)
        form = {k: str(v) for k, v in (await request.form()).items()}
        basic = None
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            basic = (user, password)
        status, body = self.issuer.token(form, basic, f"{self.auth_base}/{tenant}/oauth2/v2.0/token")
        return Reply(status, body)

    # -- Graph host -----------------------------------------------------------------------

    @staticmethod
    def route_of(method: str, path: str) -> str:
        if method == "POST" and path == "/$batch":
            return "batch"
        for pattern, name in _ROUTES:
            if pattern.fullmatch(path):
                return name
        return "unknown"

    def _guarded(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes, fault: Fault | None
    ) -> Reply:
        try:
            holder = self.issuer.holder(headers.get("authorization", "").removeprefix("Bearer ").strip())
            if fault is not None and fault.kind == "revoke":
                self.issuer.revoke_all()
                holder = None
            if holder is None:
                raise GraphError(  # noqa: TRY301 - the one place every refusal is turned into a reply
                    401,
                    "InvalidAuthenticationToken",
                    "Access token has expired or is not yet valid.",
                    {"WWW-Authenticate": 'Bearer realm="", client_id="00000003-0000-0000-c000-000000000000"'},
                )
            if fault is not None and fault.kind == "status":
                self._raise_fault(fault)
            reply = self._dispatch(method, path, query, headers, body, holder.permissions, fault)
        except GraphError as error:
            return self._error(error, headers)
        if fault is not None and fault.kind == "headers":
            reply.headers.update(dict(fault.headers))
        return reply

    @staticmethod
    def _raise_fault(fault: Fault) -> None:
        extra = dict(fault.headers)
        if fault.retry_after is not None:
            extra["Retry-After"] = fault.retry_after
        if fault.status == 429:
            extra.setdefault("x-ms-throttle-scope", "Tenant_Application/ReadWrite/app/tenant")
            extra.setdefault("x-ms-throttle-information", "ResourceUnitLimitExceeded")
            raise GraphError(429, "TooManyRequests", "Please retry again later.", extra)
        code = {503: "serviceNotAvailable", 504: "gatewayTimeout"}.get(fault.status, "generalException")
        raise GraphError(fault.status, code, "The service is temporarily unavailable.", extra)

    def _error(self, error: GraphError, headers: Mapping[str, str]) -> Reply:
        inner = {
            "date": email.utils.formatdate(usegmt=True),
            "request-id": str(uuid.uuid4()),
            "client-request-id": headers.get("client-request-id", str(uuid.uuid4())),
        }
        return Reply(
            error.status,
            {"error": {"code": error.code, "message": error.message, "innerError": inner}},
            error.headers,
        )

    def _dispatch(
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        permissions: frozenset[str],
        fault: Fault | None,
    ) -> Reply:
        if not path.startswith("/v1.0/"):
            raise GraphError(400, "BadRequest", f"Invalid version: {path.split('/')[1]}")
        path = path.removeprefix("/v1.0")
        route = self.route_of(method, path)
        options = dict(parse_qsl(query, keep_blank_values=True))
        need = _PERMISSIONS.get(route)
        if need is not None and not permissions & need:
            raise GraphError(
                403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
            )
        if route == "batch":
            return self._batch(body, headers, permissions)
        if method != "GET":
            raise GraphError(405, "Request_BadRequest", f"The HTTP method '{method}' is not allowed.")
        from tests.fakes.graph import routes  # noqa: PLC0415 - routes imports this module

        return routes.handle(self, route, path, options, headers, permissions, fault)

    def _batch(self, body: bytes, headers: Mapping[str, str], permissions: frozenset[str]) -> Reply:
        try:
            document = orjson.loads(body)
            requests = document["requests"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as error:
            raise GraphError(400, "BadRequest", "Invalid batch payload format.") from error
        if len(requests) > 20:
            raise GraphError(400, "BadRequest", "Number of batch request steps exceeds the maximum of 20.")
        ids = [r.get("id") for r in requests]
        if len(set(ids)) != len(ids) or None in ids:
            raise GraphError(400, "BadRequest", "Batch request ids must be unique and present.")
        responses = []
        for sub in requests:
            url = urlsplit(sub["url"])
            sub_path = "/v1.0" + url.path
            sub_route = self.route_of(sub.get("method", "GET"), url.path)
            self.requests.append(
                Recorded(sub_route, sub.get("method", "GET"), sub["url"], "$batch", dict(headers))
            )
            fault = self.faults.next_for(sub_route)
            try:
                if fault is not None and fault.kind == "status":
                    self._raise_fault(fault)
                reply = self._dispatch(
                    sub.get("method", "GET"), sub_path, url.query, headers, b"", permissions, fault
                )
            except GraphError as error:
                reply = self._error(error, headers)
            responses.append(
                {
                    "id": sub["id"],
                    "status": reply.status,
                    "headers": {"Content-Type": "application/json", **reply.headers},
                    "body": reply.body,
                }
            )
        random.shuffle(responses)
        return Reply(200, {"responses": responses})

    # -- paging ---------------------------------------------------------------------------

    def page(self, state: _Pages) -> Reply:
        chunk = state.items[state.pos : state.pos + state.top]
        state.pos += len(chunk)
        document: dict[str, Any] = {"@odata.context": state.context, "value": chunk}
        if state.pos < len(state.items):
            token = secrets.token_urlsafe(24)
            self._pages[token] = state
            document["@odata.nextLink"] = f"{self.graph_base}/v1.0/{state.route}?$skiptoken={token}"
        return Reply(200, document)

    def resume(self, token: str) -> _Pages:
        state = self._pages.get(token)
        if state is None:
            raise GraphError(
                400,
                "Request_BadRequest",
                "The specified page token value has expired and can no longer be used.",
            )
        return state

    def delta_page(self, state: _Pages) -> Reply:
        assert state.kind is not None
        if state.owe_empty:
            chunk: list[dict[str, Any]] = []
            state.owe_empty = False
        else:
            chunk = state.items[state.pos : state.pos + state.top]
            state.pos += len(chunk)
            state.owe_empty = self.knobs.empty_pages and bool(chunk)
        document: dict[str, Any] = {"@odata.context": state.context, "value": chunk}
        if state.pos < len(state.items) or state.owe_empty:
            token = secrets.token_urlsafe(24)
            self._pages[token] = state
            document["@odata.nextLink"] = f"{self.graph_base}/v1.0/{state.route}?$skiptoken={token}"
        else:
            token = secrets.token_urlsafe(32)
            self._links[token] = _DeltaLink(
                state.kind, state.select, state.record_seq, state.after, self.tenant.now()
            )
            document["@odata.deltaLink"] = f"{self.graph_base}/v1.0/{state.route}?$deltatoken={token}"
        return Reply(200, document)

    def delta_link(self, token: str) -> _DeltaLink | None:
        return self._links.get(token)


_ID = r"[^/()]+"
_ROUTES = [
    (re.compile(r"/users"), "users"),
    (re.compile(r"/users/\$count"), "users_count"),
    (re.compile(r"/users/(delta|microsoft\.graph\.delta)(\(\))?"), "users_delta"),
    (re.compile(rf"/users/{_ID}/manager"), "manager"),
    (re.compile(rf"/users/{_ID}"), "user"),
    (re.compile(r"/groups"), "groups"),
    (re.compile(r"/groups/(delta|microsoft\.graph\.delta)(\(\))?"), "groups_delta"),
    (re.compile(rf"/groups/{_ID}/(members|transitiveMembers)(/microsoft\.graph\.(user|group))?"), "members"),
    (re.compile(rf"/groups/{_ID}"), "group"),
    (re.compile(r"/servicePrincipals"), "service_principals"),
    (re.compile(rf"/servicePrincipals(/{_ID}|\(appId='[^']*'\))"), "service_principal"),
    (re.compile(rf"/servicePrincipals(/{_ID}|\(appId='[^']*'\))/appRoleAssignedTo"), "assigned_to"),
    (re.compile(r"/directory/deletedItems(/microsoft\.graph\.(user|group))?"), "deleted_items"),
]
_PERMISSIONS = {
    "users": READ_USERS,
    "users_count": READ_USERS,
    "users_delta": READ_USERS,
    "manager": READ_USERS,
    "user": READ_USERS,
    "groups": READ_MEMBERS,
    "groups_delta": READ_MEMBERS,
    "members": READ_MEMBERS,
    "group": READ_MEMBERS,
    "service_principals": READ_APPS,
    "service_principal": READ_APPS,
    "assigned_to": READ_APPS,
}
