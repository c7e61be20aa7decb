"""S5: the engine's incremental cycle costs what the changes cost, not what the directory holds.

For each of `s5_users` users (users only): a fresh provisioning database, the directory imported
(`enlist provisioning directory import`), the application created against the null target with
scope "all", then the state an initial cycle leaves written straight into the provisioning
database (`Engine.mark_synced`: a link per user with the values last written, and the watermark),
as `tests/e2e/test_incremental_cost.py` does, since a real initial cycle of 100,000 users takes
longer than the whole run. Then `s5_changes` users get a new job title, re-imported with the real
command, and one `enlist provisioning app sync` runs the incremental cycle, watched like S4's.

The null target counts the requests: the Test connection probe and one PATCH per changed user,
the same at every size. The ratio is the largest directory's cycle time over the smallest's.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench import procs
from bench.context import Context
from bench.engine import Cycle, Engine, directory
from bench.portal import null_target, requests_answered
from bench.replay import Workload
from bench.report import Row, unfinished


async def run(ctx: Context) -> list[Row]:
    s = ctx.sizes
    small_n, large_n = s.s5_users
    compared = f"engine incremental cycle, {s.s5_changes} changed users, {large_n:,} vs {small_n:,} users"
    if ctx.quick:  # a smoke run's figures mean nothing: both sizes at once, to be done sooner
        both = await asyncio.gather(_incremental(ctx, small_n), _incremental(ctx, large_n))
    else:
        both = (await _incremental(ctx, small_n), await _incremental(ctx, large_n))
    runs = dict(zip((small_n, large_n), both, strict=True))
    for users, (cycle, _, _) in runs.items():
        if not cycle.finished:
            why = f"the {users:,}-user cycle did not finish in {s.s5_cycle_s * ctx.budget_scale:.0f} s"
            return [unfinished("S5", compared, "<= 2x", why)]
    (small, small_requests, small_setup), (large, large_requests, large_setup) = runs[small_n], runs[large_n]
    small_s, large_s = _duration(small), _duration(large)
    ratio = large_s / small_s
    same = small_requests == large_requests
    requests = ", ".join(f"{n} {method}" for method, n in sorted(large_requests.items()))
    return [
        Row(
            "S5",
            compared,
            large_s,
            small_s,
            "s",
            ratio,
            "<= 2x",
            ratio <= 2 and same,
            note=(
                f"the cycle's own time (summary duration_s); the whole command {_wall(large):.1f} s vs "
                f"{_wall(small):.1f} s; requests to the null target: {requests}"
                + (" at both sizes" if same else f" (vs {small_requests} at {small_n:,}: NOT the same)")
            ),
            details={
                "small": {**small.details(), "requests": small_requests, **small_setup},
                "large": {**large.details(), "requests": large_requests, **large_setup},
            },
        )
    ]


def _duration(cycle: Cycle) -> float:
    assert cycle.summary is not None
    return float(cycle.summary["duration_s"])


def _wall(cycle: Cycle) -> float:
    assert cycle.watched.measured is not None
    return cycle.watched.measured.wall_s


async def _incremental(ctx: Context, users: int) -> tuple[Cycle, dict[str, int], dict[str, Any]]:
    """A synced directory of `users`, `s5_changes` of them changed, and the incremental cycle:
    the cycle, the requests it sent, and what the set-up took."""
    s = ctx.sizes
    w = Workload(users, 1, 0)
    async with null_target(ctx.ws, f"s5-null-{users}") as target:
        engine = Engine.create(ctx.ws, f"s5-engine-{users}")
        import_s = await engine.import_directory(directory(w, groups=False))
        await engine.connect(target)
        started = time.perf_counter()
        linked = await engine.mark_synced(lambda n: f"synced-{n}")
        link_s = time.perf_counter() - started
        if linked != users:
            raise procs.BenchError(f"{linked} users linked, not {users}")
        change_s = await engine.import_directory(directory(w, s.s5_changes), "changes.json")
        before = await requests_answered(target)
        cycle = await engine.sync(s.s5_cycle_s * ctx.budget_scale)
        after = await requests_answered(target)
    sent = {method: n - before.get(method, 0) for method, n in after.items() if n != before.get(method, 0)}
    if cycle.summary is not None and (
        cycle.summary.get("kind") != "incremental" or cycle.summary.get("updated") != s.s5_changes
    ):
        raise procs.BenchError(
            f"expected an incremental cycle updating {s.s5_changes} users: {cycle.summary}"
        )
    setup = {
        "import_s": round(import_s, 2),
        "link_s": round(link_s, 2),
        "change_import_s": round(change_s, 2),
    }
    return cycle, sent, setup
