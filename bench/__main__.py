"""`python -m bench [SCENARIO…] [--quick]`: run the scenarios of issue 5 and print one table.

Each scenario measures its yardstick (a peer, a bare endpoint, a smaller size) in the same run
and reports the ratio. A scenario that runs past its time budget is stopped and its row says
"did not finish in N s"; one that fails says why; the others still run.

A full run (every scenario, full sizes) writes `bench/results/latest.json` and the results
section of `docs/performance.md`; other runs write JSON only where `--json` says.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path

import uvloop

from bench import docs, procs
from bench.context import FULL, QUICK, TINY, Context, Sizes
from bench.report import Row, table, unfinished, write_json
from bench.scenarios import (
    s1_replay,
    s2_ceiling,
    s3_big_groups,
    s4_engine,
    s5_incremental,
    s6_scale_out,
    s7_graph,
    s8_ldap,
    s9_startup,
    s10_department_tree,
)

Scenario = Callable[[Context], Awaitable[list[Row]]]

# In the order they run: S2 first, since it calibrates the client every other figure relies on.
# A scenario past its budget is stopped and reported as such. The budgets add up to 21 minutes;
# a full run takes 10 to 14 (S2, S3 and S6 end well within theirs). S4 is its end-to-end cycle
# (120 s and the set-up), the engine alone at 10,000 users (90 s) and at 100,000 users (330 s).
SCENARIOS: dict[str, tuple[Scenario, float, list[tuple[str, str, str]]]] = {
    "S2": (
        s2_ceiling.run,
        80,
        [("S2 client", "load client ceiling", ">= 3x"), ("S2", "filter query vs bare", ">= 0.50")],
    ),
    "S1": (s1_replay.run, 170, [("S1", "Entra replay vs scim2-server", ">= 5x SQLite, 3x PostgreSQL")]),
    "S3": (
        s3_big_groups.run,
        240,
        [
            ("S3", "add/remove one member, largest vs smallest group", "<= 2x"),
            ("S3 whole list", "a whole member list with one change vs one-member PATCH", "(informative)"),
        ],
    ),
    "S4": (
        s4_engine.run,
        600,
        [
            ("S4 time", "engine initial cycle", "< 60 s"),
            ("S4 engine alone", "engine initial cycle, null target", "(informative)"),
            ("S4 memory", "engine peak RSS", "< 300 MB"),
        ],
    ),
    "S5": (s5_incremental.run, 150, [("S5", "engine incremental cycle", "<= 2x")]),
    "S6": (s6_scale_out.run, 110, [("S6", "portal on PostgreSQL, N workers vs 1", "grows")]),
    "S7": (
        s7_graph.run,
        240,
        [
            ("S7 initial read", "Graph reader initial read", "linear"),
            ("S7 memory", "Graph reader peak memory", "<= 2x"),
            ("S7 delta", "Graph reader delta round", "<= 2x, the same requests"),
        ],
    ),
    "S8": (
        s8_ldap.run,
        300,
        [
            ("S8 initial read", "LDAP reader initial read (slapd)", "linear"),
            ("S8 memory", "LDAP reader peak memory", "<= 2x"),
            ("S8 delta", "LDAP reader syncrepl delta", "<= 2x, the same LDAP operations"),
        ],
    ),
    "S9": (
        s9_startup.run,
        90,
        [
            ("S9 --help", "enlist --help, wall, vs python -c pass", "< 0.3 s"),
            ("S9 tenant list", "enlist lms tenant list, CPU, vs python -c pass", "< 0.8 s CPU"),
            ("S9 app status", "enlist provisioning app status, CPU, vs python -c pass", "< 0.8 s CPU"),
        ],
    ),
    "S10": (
        s10_department_tree.run,
        240,
        [("S10", "department tree rule change, 100,000 vs 10,000 users", "<= 15x, the same statements")],
    ),
}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "scenarios", nargs="*", metavar="SCENARIO", help=f"any of {', '.join(SCENARIOS)} (default: all)"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of a minute or two")
    parser.add_argument(
        "--tiny", action="store_true", help="even smaller than --quick: what the smoke test runs"
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    parser.add_argument(
        "--budget-scale",
        type=float,
        default=1.0,
        help="multiply every scenario's time budget (e.g. 2 on a slower machine)",
    )
    parser.add_argument(
        "--engine-budget",
        type=float,
        metavar="SECONDS",
        help="each of S4's null-target cycles may take this long (100,000 users take 10-15 min)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (logs, databases)")
    parser.add_argument(
        "--no-save",
        action="store_true",
        help="on a full run, do not write bench/results/latest.json nor docs/performance.md",
    )
    args = parser.parse_args(argv)
    args.quick = args.quick or args.tiny
    wanted = [s.upper() for s in args.scenarios] or list(SCENARIOS)
    unknown = [s for s in wanted if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}: choose from {', '.join(SCENARIOS)}")
    args.scenarios = [s for s in SCENARIOS if s in wanted]
    return args


def sizes_of(args: argparse.Namespace) -> Sizes:
    return TINY if args.tiny else QUICK if args.quick else FULL


async def run_one(name: str, ctx: Context) -> list[Row]:
    scenario, budget, placeholders = SCENARIOS[name]
    ctx.budget_s = budget * ctx.budget_scale if not ctx.quick else max(budget / 2, 60) * ctx.budget_scale
    if name == "S4" and ctx.engine_budget_s:
        ctx.budget_s += 2 * ctx.engine_budget_s
    started = time.perf_counter()
    print(f"[{name}] running (budget {ctx.budget_s:.0f} s)…", file=sys.stderr, flush=True)
    try:
        rows = await asyncio.wait_for(scenario(ctx), ctx.budget_s)
    except TimeoutError:
        why = f"did not finish in {ctx.budget_s:.0f} s"
        rows = [unfinished(s, c, t, why) for s, c, t in placeholders]
    except Exception as exc:  # a failed scenario is a row; the others still run
        traceback.print_exc()
        rows = [unfinished(s, c, t, f"failed: {exc}"[:300]) for s, c, t in placeholders]
    print(f"[{name}] done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return rows


async def main(args: argparse.Namespace) -> list[Row]:
    ws = procs.Workspace.create(keep=args.keep)
    ctx = Context(
        ws,
        sizes_of(args),
        0.0,
        quick=args.quick,
        budget_scale=args.budget_scale,
        engine_budget_s=args.engine_budget,
    )
    rows: list[Row] = []
    try:
        for name in args.scenarios:
            rows += await run_one(name, ctx)
    finally:
        if ctx.postgres is not None:
            await ctx.postgres.stop()
        if args.keep:
            print(f"scratch directory kept: {ws.root}", file=sys.stderr)
        ws.cleanup()
    return rows


def cli(argv: list[str]) -> int:
    args = parse(argv)
    load_start = [round(x, 2) for x in os.getloadavg()]
    started = time.perf_counter()
    rows = uvloop.run(main(args))
    elapsed = time.perf_counter() - started
    print(table(rows))
    sized = " (--tiny sizes)" if args.tiny else " (--quick sizes)" if args.quick else ""
    print(f"\n{len(args.scenarios)} scenario(s) in {elapsed:.0f} s{sized}.")
    run = {
        "scenarios": args.scenarios,
        "quick": args.quick,
        "seconds": round(elapsed, 1),
        "loadavg_start": load_start,
        "sizes": asdict(sizes_of(args)),
    }
    if args.json:
        write_json(args.json, rows, run)
    full = not args.quick and args.scenarios == list(SCENARIOS)
    if full and not args.no_save:
        write_json(docs.LATEST, rows, run)
        docs.update(docs.LATEST)
        print(f"wrote {docs.LATEST.relative_to(procs.ROOT)} and docs/performance.md")
    return 0


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
