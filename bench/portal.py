"""The targets the scenarios use: the portal, the peer and the null target, each a served process
with its SCIM root and a bearer token."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import procs
from bench.client import Connection

PEER_TOKEN = "bench-peer-token"


@dataclass
class Target:
    """A SCIM service under test: its SCIM root, a bearer token, its process."""

    name: str
    scim_base: str
    token: str
    server: procs.Server
    data_dir: Path | None = None
    database_url: str | None = None


@asynccontextmanager
async def portal(
    ws: procs.Workspace, label: str, database_url: str | None = None, workers: int = 1
) -> AsyncIterator[Target]:
    """`enlist lms serve` with one tenant `bench`, on SQLite (default) or `database_url`."""
    data = ws.dir(label)
    port = procs.free_port()
    extra = {"ENLIST_LMS_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    if database_url:
        extra["ENLIST_LMS_DATABASE_URL"] = database_url
    env = ws.env(data, **extra)
    created = await procs.enlist(env, "lms", "tenant", "create", "bench")
    argv = [procs.ENLIST, "lms", "serve", "--port", str(port), "--workers", str(workers)]
    async with procs.serve(f"portal ({label})", argv, env, data / "serve.log", port) as server:
        yield Target(
            f"portal ({label})", created["tenant_url"], created["secret_token"], server, data, database_url
        )


@asynccontextmanager
async def peer(ws: procs.Workspace, label: str = "peer") -> AsyncIterator[Target]:
    """python-scim's scim2-server 0.8.3, in memory, under uvicorn."""
    data = ws.dir(label)
    port = procs.free_port()
    env = ws.env(data, BENCH_PEER_TOKEN=PEER_TOKEN)
    argv = procs.uvicorn_argv("bench.apps.peer:create_app", port)
    async with procs.serve("scim2-server", argv, env, data / "serve.log", port) as server:
        yield Target("scim2-server 0.8.3", f"{server.url}/v2", PEER_TOKEN, server)


NULL_TOKEN = "bench-null-token"


@asynccontextmanager
async def null_target(ws: procs.Workspace, label: str = "null-target") -> AsyncIterator[Target]:
    """`bench.apps.null_target`: answers every request correctly and keeps nothing."""
    data = ws.dir(label)
    port = procs.free_port()
    argv = [sys.executable, "-m", "bench.apps.null_target", str(port), NULL_TOKEN]
    async with procs.serve("null target", argv, ws.env(data), data / "serve.log", port) as server:
        yield Target("null target", server.url, NULL_TOKEN, server)


async def requests_answered(target: Target) -> dict[str, int]:
    """The SCIM requests the null target answered so far, by method."""
    conn = Connection(target.server.url)
    try:
        answer = await conn.request("GET", "/_counts")
    finally:
        await conn.close()
    if answer.status != 200:
        raise procs.BenchError(f"the null target's counts: {answer.status} {answer.body[:200]!r}")
    counts: dict[str, int] = json.loads(answer.body)
    return counts
