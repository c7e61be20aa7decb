"""The S2 ceiling: a bare Starlette endpoint that reads one user row from the portal's SQLite file.

The same stack as the portal (uvicorn, Starlette, SQLAlchemy Core async over aiosqlite, the
portal's own `Database` with its pragmas), minus everything the portal does per request:
no token check, no filter parsing, no tenant lookup, no rendering. What the portal's filter
query reaches as a fraction of this is what its own work costs.

Served by uvicorn as a factory: `BENCH_SQLITE=<file> uvicorn bench.apps.ceiling:create_app --factory`.
`GET /user?name=<userName>` answers the row's stored document, or 404.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from enlist.db.database import Database

QUERY = sa.text("SELECT doc FROM users WHERE user_name_ci = :name LIMIT 1")


def create_app() -> Starlette:
    db = Database(f"sqlite+aiosqlite:///{os.environ['BENCH_SQLITE']}")

    async def user(request: Request) -> Response:
        async with db.read() as conn:
            doc = (await conn.execute(QUERY, {"name": request.query_params["name"].lower()})).scalar()
        if doc is None:
            return Response(b'{"status":"404"}', status_code=404, media_type="application/json")
        body = doc if isinstance(doc, (str, bytes)) else orjson.dumps(doc)
        return Response(body, media_type="application/scim+json")

    async def healthz(_request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await db.dispose()

    return Starlette(routes=[Route("/user", user), Route("/healthz", healthz)], lifespan=lifespan)
