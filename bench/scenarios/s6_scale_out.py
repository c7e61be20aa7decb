"""S6, scale-out: the portal on PostgreSQL with 1, 2 and 4 worker processes.

Each worker count gets a fresh database and serves the same Entra replay (the S1 sequence at
`s6_*` sizes, `clients` connections); afterwards every user, group and membership must be there.
Throughput should grow with workers until the two CPUs (shared with the load client) are used up.

The engine's own scale-out (several `enlist provisioning serve` over one database) shares cycles
per application, one process per application at a time: it is not measured here.
"""

from __future__ import annotations

import asyncio

from bench import procs
from bench.context import Context
from bench.portal import portal
from bench.replay import Workload, replay, verify
from bench.report import Row, unfinished


async def _one(
    ctx: Context, w: Workload, workers: int, seconds: float, notes: list[str], details: dict[str, object]
) -> float:
    """The replay's throughput with `workers` processes; raises when a request failed or data was lost."""
    database = await (await ctx.pg()).database(f"s6w{workers}")
    async with portal(ctx.ws, f"s6-{workers}w", database, workers=workers) as target:
        result = await replay(target.scim_base, target.token, w, "entra", ctx.sizes.clients, seconds)
        if result.tally.errors:
            raise procs.BenchError(
                f"{workers} workers: {result.tally.errors} requests failed, e.g. {result.tally.first_errors}"
            )
        if not result.complete:
            notes.append(
                f"{workers} workers replayed {result.requests:,} of {w.requests():,} requests "
                "(not checked for losses)"
            )
        elif lost := await verify(target.scim_base, target.token, w, result):
            raise procs.BenchError(f"{workers} workers lost data: {'; '.join(lost)}")
        else:
            notes.append(f"{workers} workers: complete, nothing lost")
    details[f"{workers}w"] = {"requests": result.requests, "seconds": round(result.seconds, 2)}
    return result.throughput


async def run(ctx: Context) -> list[Row]:
    s = ctx.sizes
    w = Workload(s.s6_users, s.s6_groups, s.s6_memberships, s.members_per_patch)
    await ctx.pg()  # started before the first share of the budget runs
    rates: dict[int, float] = {}
    details: dict[str, object] = {}
    notes: list[str] = []
    # Each worker count gets an equal share of the budget; its replay stops 30 s before the end
    # of its share, leaving time for start-up, the check that nothing was lost, and the stop.
    share = ctx.budget_s / len(s.s6_workers)
    for workers in s.s6_workers:
        try:
            rates[workers] = await asyncio.wait_for(
                _one(ctx, w, workers, max(share - 30, 5), notes, details), share
            )
        except TimeoutError:
            notes.append(f"{workers} workers: did not finish in {share:.0f} s")
    if s.s6_workers[0] not in rates:
        raise procs.BenchError("; ".join(notes))
    one = rates[s.s6_workers[0]]
    rows = []
    previous = one
    for workers in s.s6_workers[1:]:
        if workers not in rates:
            compared = f"portal on PostgreSQL, {workers} workers vs 1"
            rows.append(unfinished(f"S6 {workers}w", compared, "grows", notes[-1]))
            continue
        ratio = rates[workers] / one
        # Grows until the CPUs are used up: more than one worker must beat one; past the
        # core count (2 here, shared with the client) it must at least not fall back much.
        grows = ratio >= 1.15 if workers <= 2 else rates[workers] >= 0.9 * previous
        rows.append(
            Row(
                f"S6 {workers}w",
                f"portal on PostgreSQL, {workers} workers vs 1 (replay of {w.users:,} users, "
                f"{w.groups:,} groups, {w.pairs():,} memberships)",
                rates[workers],
                one,
                "req/s",
                ratio,
                ">= 1.15x" if workers <= 2 else ">= 0.9x of the previous",
                grows,
                note="; ".join(notes),
                details=details,
            )
        )
        previous = rates[workers]
    return rows
