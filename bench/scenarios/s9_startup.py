"""S9: how long `enlist` takes to start, against the interpreter starting and doing nothing.

Each command runs `runs` times in a fresh process (the figure is the median): `python -c pass`
(the peer: what no code of ours can go below), `enlist --help` and every top-level group's
`--help` (wall time), and `enlist lms tenant list` and `enlist provisioning app status` on a
migrated SQLite data directory (CPU time, the process's user + system, from getrusage).
Targets (issue 13): `--help` under 0.3 s, a command that reads the database under 0.8 s of CPU;
the ratios say how much of that is ours rather than the interpreter's.
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import subprocess
import sys
import time

from bench import procs
from bench.context import Context
from bench.report import Row

RUNS, QUICK_RUNS = 7, 2
APP = "bench-startup"


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """One run's wall time and CPU time (user + system of the child), in seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, capture_output=True, check=True, timeout=120)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _median(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    times = [_timed(argv, env) for _ in range(runs)]
    return statistics.median(w for w, _ in times), statistics.median(c for _, c in times)


def _measure(env: dict[str, str], runs: int) -> list[Row]:
    peer_wall, peer_cpu = _median([sys.executable, "-c", "pass"], env, runs)
    helps = {
        " ".join(args): _median([procs.ENLIST, *args, "--help"], env, runs)
        for args in ([], ["lms"], ["provisioning"], ["demo"])
    }
    slowest = max(helps, key=lambda name: helps[name][0])
    help_wall = helps[slowest][0]
    rows = [
        Row(
            "S9 --help",
            "slowest of `enlist [lms|provisioning|demo] --help`, wall, vs `python -c pass`",
            help_wall,
            peer_wall,
            "s",
            help_wall / peer_wall,
            "< 0.3 s",
            help_wall < 0.3,
            note="; ".join(
                f"enlist {name or ''} --help {wall:.3f} s".replace("  ", " ")
                for name, (wall, _) in helps.items()
            ),
        )
    ]
    for label, args in (
        ("S9 tenant list", ["lms", "tenant", "list", "--json"]),
        ("S9 app status", ["provisioning", "app", "status", APP, "--json"]),
    ):
        _, cpu = _median([procs.ENLIST, *args], env, runs)
        rows.append(
            Row(
                label,
                f"`enlist {' '.join(args[:-1])}` on SQLite, CPU, vs `python -c pass`",
                cpu,
                peer_cpu,
                "s",
                cpu / peer_cpu,
                "< 0.8 s CPU",
                cpu < 0.8,
            )
        )
    return rows


async def run(ctx: Context) -> list[Row]:
    env = ctx.ws.env(ctx.ws.dir("startup"))
    # Migrate the database and make the application first, so the timed runs only read.
    await procs.run([procs.ENLIST, "provisioning", "app", "create", APP], env)
    await procs.run([procs.ENLIST, "lms", "tenant", "list"], env)
    return await asyncio.to_thread(_measure, env, QUICK_RUNS if ctx.quick else RUNS)
