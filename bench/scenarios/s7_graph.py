"""S7: the Graph reader's initial read and a 100-change delta round, at two tenant sizes.

The fake Graph (`bench.apps.fake_graph`, its own process, delta pages of 200 objects) holds
`s7_users` users; the reader runs in this process with no request-rate limit, and its pages are
read and dropped, as the framework does once a page is staged. Measured per size: the requests
the reader sent, the time, and the peak of Python memory the reader allocated during the read
(tracemalloc: the fake is another process, so only the reader is counted). Then
`s7_changes` changes (department updates, and a membership moved for every tenth) and one delta
round: its requests must be the same at both sizes.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from typing import Any

from bench import procs
from bench.client import Connection
from bench.context import Context
from bench.report import Row
from bench.scenarios.reader_rows import reader_rows
from enlist.provisioning.sources.graph import GraphSettings, graph_reader
from enlist.provisioning.sources.model import SourceReader

CLIENT_ID = "bench-graph-client"
SECRET = "bench-graph-secret"


async def run(ctx: Context) -> list[Row]:
    small_n, large_n = ctx.sizes.s7_users
    small = await _tenant(ctx, small_n)
    large = await _tenant(ctx, large_n)
    return reader_rows(
        "S7",
        "Graph reader",
        f"delta round, {ctx.sizes.s7_changes} changes",
        ("requests", "requests"),
        (small_n, large_n),
        small,
        large,
    )


async def _read(reader: SourceReader, cursor: str | None) -> tuple[str | None, int, int]:
    graph_round = await reader.start_round(cursor)
    users = groups = 0
    async for page in graph_round.pages():
        users += len(page.users)
        groups += len(page.groups)
    return graph_round.cursor, users, groups


async def _tenant(ctx: Context, users: int) -> dict[str, Any]:
    data = ctx.ws.dir(f"graph-{users}")
    auth_port, graph_port = procs.free_port(), procs.free_port()
    argv = [
        sys.executable,
        "-m",
        "bench.apps.fake_graph",
        str(auth_port),
        str(graph_port),
        str(users),
        CLIENT_ID,
        SECRET,
    ]
    async with procs.serve("fake Graph", argv, ctx.ws.env(data), data / "serve.log", graph_port) as server:
        settings = GraphSettings(
            tenant_id="contoso.onmicrosoft.com",
            client_id=CLIENT_ID,
            client_secret=SECRET,
            graph_url=server.url,
            login_url=f"http://127.0.0.1:{auth_port}",
            requests_per_second=0,
        )
        reader = graph_reader(settings)
        checked = await reader.check()  # the token, and every module loaded, before measuring
        if not checked.ok:
            raise procs.BenchError(f"the reader's check failed: {checked.message}")
        tracemalloc.start()
        started = time.perf_counter()
        cursor, read_users, read_groups = await _read(reader, None)
        initial_s = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        if read_users != users or cursor is None:
            raise procs.BenchError(f"the initial read listed {read_users} of {users} users")
        initial_requests = reader.last_client.sent if reader.last_client else 0
        conn = Connection(server.url)
        try:
            answer = await conn.request("POST", f"/_bench/changes?n={ctx.sizes.s7_changes}")
        finally:
            await conn.close()
        if answer.status != 200:
            raise procs.BenchError(f"the fake Graph did not make the changes: {answer.status}")
        started = time.perf_counter()
        cursor, changed_users, changed_groups = await _read(reader, cursor)
        delta_s = time.perf_counter() - started
        return {
            "users": users,
            "groups": read_groups,
            "initial_s": initial_s,
            "initial_requests": initial_requests,
            "initial_peak_mib": peak / 2**20,
            "delta_s": delta_s,
            "delta_requests": reader.last_client.sent if reader.last_client else 0,
            "delta_users": changed_users,
            "delta_groups": changed_groups,
        }
