"""S2, the ceiling: our filter query against a bare endpoint on the same SQLite file.

First the load client's own ceiling against a static responder, so that every other figure is
known to be the server's and not the client's. Then the portal (SQLite) with `s2_users` users,
and the bare Starlette endpoint of `bench.apps.ceiling` reading the same file: each is hammered
with `GET` of a random existing user for `s2_seconds`, twice, alternating, and the rates averaged.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Sequence

from bench import procs
from bench.client import Connection, hammer, run_workers
from bench.context import Context
from bench.portal import portal
from bench.replay import Workload, eq_filter, user_body
from bench.report import Row


async def _alternate(
    ctx: Context, runs: dict[str, tuple[Sequence[Connection], Callable[[int], str]]]
) -> dict[str, float]:
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for _round in range(2):
        for name, (conns, paths) in runs.items():
            rate, tally = await hammer(conns, paths, ctx.sizes.s2_seconds)
            if tally.errors:
                raise procs.BenchError(f"{name}: {tally.errors} errors, e.g. {tally.first_errors[0]}")
            rates[name].append(rate)
    return {name: sum(r) / len(r) for name, r in rates.items()}


async def run(ctx: Context) -> list[Row]:
    s = ctx.sizes
    static_port = procs.free_port()
    data = ctx.ws.dir("s2-static")
    argv = [sys.executable, "-m", "bench.apps.static", str(static_port)]
    async with procs.serve("static responder", argv, ctx.ws.env(data), data / "serve.log", static_port) as st:
        conns = [Connection(st.url) for _ in range(s.clients)]
        await hammer(conns, lambda _n: "/healthz", 0.5)
        client_rate, _ = await hammer(conns, lambda _n: "/healthz", s.s2_seconds)
        for c in conns:
            await c.close()

    w = Workload(s.s2_users, 1, 0)
    async with portal(ctx.ws, "s2-portal") as target:
        seed = [Connection(target.scim_base, target.token) for _ in range(s.clients)]
        todo = iter(range(s.s2_users))

        async def create(c: int) -> None:
            for i in todo:
                answer = await seed[c].request("POST", "/Users", user_body(w, i, "entra"))
                if answer.status != 201:
                    raise procs.BenchError(f"seeding user {i}: {answer.status} {answer.body[:200]!r}")

        await run_workers(s.clients, create)
        assert target.data_dir is not None
        port = procs.free_port()
        env = ctx.ws.env(target.data_dir, BENCH_SQLITE=str(target.data_dir / "lms.sqlite3"))
        argv = procs.uvicorn_argv("bench.apps.ceiling:create_app", port)
        log = target.data_dir / "ceiling.log"
        async with procs.serve("bare endpoint", argv, env, log, port) as bare:
            rng = random.Random(2)
            names = [w.user_name(rng.randrange(s.s2_users)) for _ in range(4096)]
            ours = [Connection(target.scim_base, target.token) for _ in range(s.clients)]
            theirs = [Connection(bare.url) for _ in range(s.clients)]

            def query(n: int) -> str:
                return f"/Users?filter={eq_filter('userName', names[n % 4096])}"

            def row(n: int) -> str:
                return f"/user?name={names[n % 4096]}"

            await hammer(ours, query, 0.5)
            await hammer(theirs, row, 0.5)
            rates = await _alternate(ctx, {"portal": (ours, query), "bare": (theirs, row)})
            for c in [*seed, *ours, *theirs]:
                await c.close()

    ratio = rates["portal"] / rates["bare"]
    client_ratio = client_rate / rates["bare"]
    return [
        Row(
            "S2 client",
            "load client ceiling (static responder) vs the bare endpoint",
            client_rate,
            rates["bare"],
            "req/s",
            client_ratio,
            ">= 3x",
            client_ratio >= 3,
            details={"clients": s.clients},
        ),
        Row(
            "S2",
            "portal filter query vs bare Starlette row read, same SQLite file",
            rates["portal"],
            rates["bare"],
            "req/s",
            ratio,
            ">= 0.50",
            ratio >= 0.5,
            details={"users": s.s2_users, "clients": s.clients, "seconds_each": 2 * s.s2_seconds},
        ),
    ]
