"""S4 and S5: the provisioning engine's initial and incremental cycles, end to end.

For each directory size (`s4_users`, then `s4_large_users`, both with `s4_groups` groups and
`s4_memberships` memberships) a fresh portal (SQLite) and a fresh provisioning database: the
directory file is generated and imported (`enlist provisioning directory import`), an
application is created against the portal's tenant with scope "all users and groups"
(Entra's *Sync all*), and `enlist provisioning app sync` runs the initial cycle. Then
`s5_changes` users get a new job title (re-imported) and `app sync` runs the incremental cycle.

Each `app sync` runs under `bench.measure`: wall time of the whole command (start-up included)
and the engine process's own peak RSS (`ru_maxrss`). The cycle's own `duration_s` is reported
beside it. S4 and S5 share these runs: `python -m bench S5` runs them too.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

from bench import procs
from bench.context import Context
from bench.portal import portal
from bench.replay import Workload
from bench.report import Row, unfinished

APP = "Bench"
SETUP_S = 180  # the most a setup command (an import) may take; not part of any target
MS_MIN_PER_OBJECT = 0.01  # Microsoft's best case: 0.01 minutes per user, group and membership


@dataclass
class EngineRun:
    users: int
    import_s: float
    initial: procs.Measured
    initial_summary: dict[str, Any]
    change_import_s: float
    incremental: procs.Measured
    incremental_summary: dict[str, Any]


def directory(w: Workload, changed: int = 0) -> dict[str, Any]:
    """The directory of `w`; with `changed`, only the first `changed` users, with a new title."""
    users = [
        {
            "userPrincipalName": w.user_name(i),
            "givenName": "Bench",
            "surname": f"User {i}",
            "displayName": f"Bench User {i}",
            "mail": w.user_name(i),
            "jobTitle": "Senior engineer" if changed else "Engineer",
            "department": f"Dept {i % 50}",
        }
        for i in range(changed or w.users)
    ]
    if changed:
        return {"users": users}
    groups = [
        {"displayName": w.group_name(g), "members": [w.user_name(u) for u in w.members_of(g)]}
        for g in range(w.groups)
    ]
    return {"users": users, "groups": groups}


async def engine_run(ctx: Context, users: int, cycle_s: float) -> EngineRun:
    """Set up, import, and run both cycles of one directory size; each cycle gets `cycle_s`."""
    s = ctx.sizes
    w = Workload(users, s.s4_groups, s.s4_memberships)
    label = f"s4-{users}"
    async with portal(ctx.ws, f"{label}-portal") as target:
        data = ctx.ws.dir(f"{label}-engine")
        env = ctx.ws.env(data)
        file = data / "directory.json"
        file.write_text(json.dumps(directory(w)))
        started = time.perf_counter()
        await procs.enlist(env, "provisioning", "directory", "import", str(file), limit_s=SETUP_S)
        import_s = time.perf_counter() - started
        await procs.enlist(
            env, "provisioning", "app", "create", APP, "--tenant-url", target.scim_base,
            "--secret-token", target.token,
        )  # fmt: skip
        await procs.run([procs.ENLIST, "provisioning", "app", "set", APP, "scope=all"], env)
        initial = await _sync(env, cycle_s)
        changes = data / "changes.json"
        changes.write_text(json.dumps(directory(w, s.s5_changes)))
        started = time.perf_counter()
        await procs.enlist(env, "provisioning", "directory", "import", str(changes), limit_s=SETUP_S)
        change_import_s = time.perf_counter() - started
        incremental = await _sync(env, cycle_s)
    return EngineRun(users, import_s, initial[0], initial[1], change_import_s, incremental[0], incremental[1])


async def _sync(env: dict[str, str], seconds: float) -> tuple[procs.Measured, dict[str, Any]]:
    """One `app sync` within `seconds`; past them, how far the cycle got is in the error."""
    argv = [procs.ENLIST, "provisioning", "app", "sync", APP, "--json"]
    try:
        measured = await procs.measured(argv, env, limit_s=max(seconds, 1))
    except TimeoutError:
        status = await procs.enlist(env, "provisioning", "app", "status", APP, limit_s=60)
        raise procs.BenchError(
            f"did not finish in {seconds:.0f} s: by then it had linked {status.get('users_linked')} "
            f"users and {status.get('groups_linked')} groups"
        ) from None
    summary = json.loads(measured.stdout)
    if summary.get("status") != "succeeded" or summary.get("failed"):
        raise procs.BenchError(f"the {summary.get('kind')} cycle did not succeed: {summary}")
    return measured, summary


async def _runs(ctx: Context) -> dict[int, EngineRun | str]:
    """Both sizes, each within its own budget; a size that overruns or fails is a reason string.

    Kept in the context, so that S5 reports from S4's runs (and runs them itself when alone).
    """
    runs: dict[int, EngineRun | str] = ctx.cache.setdefault("engine", {})
    s = ctx.sizes
    scale = ctx.budget_scale
    sizes = ((s.s4_users, s.s4_budget_s * scale), (s.s4_large_users, s.s4_large_budget_s * scale))
    if ctx.quick:
        # A smoke run's figures mean nothing: run both sizes at once, to be done sooner.
        await asyncio.gather(*(_size(ctx, runs, users, budget) for users, budget in sizes))
        return runs
    for users, budget in sizes:
        if any(isinstance(r, str) for r in runs.values()) and users not in runs:
            runs[users] = "not run: the smaller directory did not complete"
        await _size(ctx, runs, users, budget)
    return runs


async def _size(ctx: Context, runs: dict[int, EngineRun | str], users: int, budget: float) -> None:
    if users in runs:
        return
    runs[users] = f"did not finish in {budget:.0f} s"  # until it does
    try:
        # The cycle's budget stops the cycle; the outer one leaves time for the set-up (portal,
        # import, app) and for asking how far a stopped cycle got.
        runs[users] = await asyncio.wait_for(engine_run(ctx, users, budget), budget + 150)
    except TimeoutError:
        pass
    except procs.BenchError as exc:
        runs[users] = str(exc)[:300] if str(exc).startswith("did not") else f"failed: {exc}"[:300]


def _shape(ctx: Context, users: int) -> str:
    return f"{users:,} users, {ctx.sizes.s4_groups:,} groups, {ctx.sizes.s4_memberships:,} memberships"


def _details(run: EngineRun) -> dict[str, Any]:
    return {
        "import_s": round(run.import_s, 2),
        "initial": {
            "wall_s": round(run.initial.wall_s, 2),
            "peak_rss_mib": round(run.initial.peak_rss_mib, 1),
            "cpu_s": round(run.initial.cpu_s, 2),
            "summary": run.initial_summary,
        },
        "incremental": {
            "wall_s": round(run.incremental.wall_s, 2),
            "peak_rss_mib": round(run.incremental.peak_rss_mib, 1),
            "summary": run.incremental_summary,
        },
    }


async def run_s4(ctx: Context) -> list[Row]:
    s = ctx.sizes
    runs = await _runs(ctx)
    small, large = runs[s.s4_users], runs[s.s4_large_users]
    rows = []
    objects = s.s4_users + s.s4_groups + s.s4_memberships
    if isinstance(small, EngineRun):
        microsoft = objects * MS_MIN_PER_OBJECT * 60
        took = small.initial.wall_s
        rows.append(
            Row(
                "S4 time",
                f"engine initial cycle, {_shape(ctx, s.s4_users)}, vs Microsoft's best estimate",
                took,
                microsoft,
                "s",
                microsoft / took,
                "< 60 s",
                took < 60,
                note="ratio = how many times faster than 0.01 min per object",
                details=_details(small),
            )
        )
    else:
        rows.append(
            unfinished("S4 time", f"engine initial cycle, {_shape(ctx, s.s4_users)}", "< 60 s", small)
        )
    if isinstance(small, EngineRun) and isinstance(large, EngineRun):
        growth = large.initial.peak_rss_mib / small.initial.peak_rss_mib
        rows.append(
            Row(
                "S4 memory",
                f"engine peak RSS, {large.users:,} vs {small.users:,} users",
                large.initial.peak_rss_mib,
                small.initial.peak_rss_mib,
                "MiB",
                growth,
                "< 300 MB, ratio < users ratio",
                large.initial.peak_rss_mib * 1.048576 < 300 and growth < large.users / small.users,
                details=_details(large),
            )
        )
    else:
        reason = large if isinstance(large, str) else str(small)
        rows.append(unfinished("S4 memory", "engine peak RSS, large vs small directory", "< 300 MB", reason))
    return rows


async def run_s5(ctx: Context) -> list[Row]:
    s = ctx.sizes
    runs = await _runs(ctx)
    small, large = runs[s.s4_users], runs[s.s4_large_users]
    compared = (
        f"engine incremental cycle, {s.s5_changes} changed users, "
        f"{s.s4_large_users:,} vs {s.s4_users:,} users"
    )
    if not (isinstance(small, EngineRun) and isinstance(large, EngineRun)):
        return [unfinished("S5", compared, "<= 2x", large if isinstance(large, str) else str(small))]
    ratio = large.incremental.wall_s / small.incremental.wall_s
    return [
        Row(
            "S5",
            compared,
            large.incremental.wall_s,
            small.incremental.wall_s,
            "s",
            ratio,
            "<= 2x",
            ratio <= 2,
            note=(
                f"cycle alone: {large.incremental_summary.get('duration_s')} s vs "
                f"{small.incremental_summary.get('duration_s')} s"
            ),
        )
    ]
