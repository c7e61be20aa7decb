"""`GET /openapi.json`: the OpenAPI 3.1 description of a tenant's SCIM API, as shipped.

The description (`openapi.json` beside this module) is written by hand and proven against the
running portal by `tests/security/test_schemathesis.py`. It holds no tenant data, so it is served
without a token; its server URL is the Tenant URL template `/scim/v2/{tenant}`.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

DESCRIPTION = Path(__file__).with_name("openapi.json")


def routes() -> list[Route]:
    document = DESCRIPTION.read_bytes()

    async def openapi(_request: Request) -> Response:
        return Response(document, media_type="application/json")

    return [Route("/openapi.json", openapi, methods=["GET"])]
