"""S4: the provisioning engine's initial cycle, into the portal and alone.

**S4 time**, end to end: a fresh portal (SQLite) and a fresh provisioning database; a directory
of `s4_users` users, `s4_groups` groups and `s4_memberships` memberships is imported, the
application is created against the portal's tenant with scope "all users and groups" (Entra's
*Sync all*), and one `enlist provisioning app sync` runs the initial cycle within `s4_budget_s`.
Past it the cycle is stopped, and the row says how far it got.

**S4 engine alone** and **S4 memory**: the same commands against the null target
(`bench/apps/null_target.py`, which answers every request correctly at once and keeps nothing),
for a directory of each of `s4_alone_users` users (users only: see `Sizes`), each cycle within
its share of `s4_alone_budget_s`. The engine process's peak RSS is read from `wait4` when it ends
(`bench.measure`), and from `VmHWM` every second while it runs, with the users the target has
created by then; a cycle stopped at its budget reports the peak up to there and how far it got.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench import procs
from bench.context import Context
from bench.engine import Cycle, Engine, directory
from bench.portal import null_target, portal, requests_answered
from bench.replay import Workload
from bench.report import Row, unfinished

MS_MIN_PER_OBJECT = 0.01  # Microsoft's best case: 0.01 minutes per user, group and membership
MB_PER_MIB = 1.048576


async def run(ctx: Context) -> list[Row]:
    if ctx.quick:
        # A smoke run's figures mean nothing: run everything at once, to be done sooner.
        time_row, alone_rows = await asyncio.gather(_end_to_end(ctx), _alone(ctx))
        return [time_row, *alone_rows]
    return [await _end_to_end(ctx), *await _alone(ctx)]


# -- S4 time: into the portal --------------------------------------------------------------------


async def _end_to_end(ctx: Context) -> Row:
    s = ctx.sizes
    w = Workload(s.s4_users, s.s4_groups, s.s4_memberships)
    shape = f"{s.s4_users:,} users, {s.s4_groups:,} groups, {s.s4_memberships:,} memberships"
    budget = s.s4_budget_s * ctx.budget_scale
    async with portal(ctx.ws, "s4-portal") as target:
        engine = Engine.create(ctx.ws, "s4-engine")
        import_s = await engine.import_directory(directory(w))
        await engine.connect(target)
        cycle = await engine.sync(budget)
        if not cycle.finished:
            status = await engine.status()
            why = (
                f"did not finish in {budget:.0f} s: by then it had linked {status.get('users_linked')} "
                f"users and {status.get('groups_linked')} groups"
            )
            row = unfinished("S4 time", f"engine initial cycle, {shape}", "< 60 s", why)
            row.details = {"import_s": round(import_s, 2), "initial": cycle.details(), "status": status}
            return row
    measured = cycle.watched.measured
    assert measured is not None
    microsoft = (s.s4_users + s.s4_groups + s.s4_memberships) * MS_MIN_PER_OBJECT * 60
    return Row(
        "S4 time",
        f"engine initial cycle, {shape}, vs Microsoft's best estimate",
        measured.wall_s,
        microsoft,
        "s",
        microsoft / measured.wall_s,
        "< 60 s",
        measured.wall_s < 60,
        note="ratio = how many times faster than 0.01 min per object",
        details={"import_s": round(import_s, 2), "initial": cycle.details()},
    )


# -- S4 engine alone, S4 memory: against the null target -----------------------------------------


async def _alone(ctx: Context) -> list[Row]:
    s = ctx.sizes
    small_n, large_n = s.s4_alone_users
    small_s, large_s = (ctx.engine_budget_s or b * ctx.budget_scale for b in s.s4_alone_budget_s)
    if ctx.quick:
        small, large = await asyncio.gather(
            _alone_cycle(ctx, small_n, small_s), _alone_cycle(ctx, large_n, large_s)
        )
    else:
        small = await _alone_cycle(ctx, small_n, small_s)
        large = await _alone_cycle(ctx, large_n, large_s) if small.finished else small
    if not small.finished:
        why = f"did not finish in {small_s:.0f} s: the target had created {small.watched.progress} users"
        return [
            unfinished(
                "S4 engine alone",
                f"engine initial cycle, {small_n:,} users, null target",
                "(informative)",
                why,
            ),
            unfinished("S4 memory", "engine peak RSS", "< 300 MB", f"not run: {why}"),
        ]
    return [_alone_row(small_n, small), _memory_row(small_n, small, large_n, large, large_s)]


async def _alone_cycle(ctx: Context, users: int, seconds: float) -> Cycle:
    async with null_target(ctx.ws, f"s4-null-{users}") as target:
        engine = Engine.create(ctx.ws, f"s4-alone-{users}")
        await engine.import_directory(directory(Workload(users, 1, 0), groups=False))
        await engine.connect(target)

        async def created() -> int:
            return (await requests_answered(target)).get("POST", 0)

        cycle = await engine.sync(seconds, progress=created)
        if cycle.finished:
            answered = await requests_answered(target)
            assert cycle.summary is not None
            if answered.get("POST") != users or cycle.summary.get("created") != users:
                raise procs.BenchError(f"{users} users, but {answered} requests and {cycle.summary}")
            cycle.summary["requests"] = answered
    return cycle


def _alone_row(users: int, cycle: Cycle) -> Row:
    measured = cycle.watched.measured
    assert measured is not None
    microsoft = users * MS_MIN_PER_OBJECT * 60
    return Row(
        "S4 engine alone",
        f"engine initial cycle, {users:,} users (no groups), null target, vs Microsoft's best estimate",
        measured.wall_s,
        microsoft,
        "s",
        microsoft / measured.wall_s,
        "(informative)",
        None,
        note=(
            f"ratio = how many times faster than 0.01 min per object; the engine's CPU: "
            f"{measured.cpu_s:.0f} s, the cycle alone {cycle.summary and cycle.summary.get('duration_s')} s"
        ),
        details=cycle.details(),
    )


def _memory_row(small_n: int, small: Cycle, large_n: int, large: Cycle, large_s: float) -> Row:
    growth = large.watched.peak_rss_mib / small.watched.peak_rss_mib
    peak_mb = large.watched.peak_rss_mib * MB_PER_MIB
    details: dict[str, Any] = {"small": small.details(), "large": large.details()}
    if not large.finished:
        done = large.watched.progress or 0
        return Row(
            "S4 memory",
            f"engine peak RSS, first {done:,} of {large_n:,} users (stopped) vs {small_n:,} users",
            large.watched.peak_rss_mib,
            small.watched.peak_rss_mib,
            "MiB",
            growth,
            f"< 300 MB, ratio < {large_n // small_n}",
            None,
            note=(
                f"the {large_n:,}-user cycle did not finish in {large_s:.0f} s (it had created {done:,} "
                f"users): its peak so far, not the cycle's; `--engine-budget` gives it longer"
            ),
            details=details,
        )
    return Row(
        "S4 memory",
        f"engine peak RSS, {large_n:,} vs {small_n:,} users (no groups), null target",
        large.watched.peak_rss_mib,
        small.watched.peak_rss_mib,
        "MiB",
        growth,
        f"< 300 MB, ratio < {large_n // small_n}",
        peak_mb < 300 and growth < large_n / small_n,
        note=f"{peak_mb:.0f} MB at {large_n:,} users",
        details=details,
    )
