"""The peer: python-scim's `scim2-server` (PyPI) as an ASGI app over its in-memory storage.

`scim2-server`'s own command serves WSGI with a thread per request; here its
`ASGIApplication` runs under the same uvicorn as the portal, so the comparison is of the SCIM
servers, not of their HTTP servers. RFC 7643 schemas and resource types, one static bearer
token from `BENCH_PEER_TOKEN`. SCIM root: `http://host:port/v2`.

`uvicorn bench.apps.peer:create_app --factory`; `GET /healthz` answers 200.
"""

from __future__ import annotations

import os
from typing import Any

from scim2_models import ScimProvider, UnauthorizedException
from scim2_server.applications.asgi import ASGIApplication, Receive, Scope, Send
from scim2_server.memory import AsyncInMemoryStorage
from scim2_server.requests import ScimRequest
from scim2_server.service import ScimService
from scim2_server.testserver.application import BEARER_TOKEN_SCHEME
from scim2_server.utils import (
    load_default_resource_types,
    load_default_schemas,
    load_default_service_provider_config,
)


class BearerPeer(ASGIApplication):
    """scim2-server's ASGI app with one bearer token and a health check."""

    def __init__(self, token: str) -> None:
        config = load_default_service_provider_config()
        config.authentication_schemes = [*(config.authentication_schemes or []), BEARER_TOKEN_SCHEME]
        provider = ScimProvider.from_discovery(
            load_default_schemas().values(), load_default_resource_types().values(), config=config
        )
        super().__init__(AsyncInMemoryStorage(), provider, ScimService(provider, secret="bench"))
        self.token = token

    def check_auth(self, request: ScimRequest) -> None:
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or token != self.token:
            raise UnauthorizedException

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/healthz":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        await super().__call__(scope, receive, send)


def create_app() -> Any:
    return BearerPeer(os.environ.get("BENCH_PEER_TOKEN", "bench-peer-token"))
