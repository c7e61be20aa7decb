"""S1: Entra's initial cycle replayed against the portal and against scim2-server, same run.

The peer first (RFC dialect), then the portal on SQLite and on PostgreSQL (Entra's dialect), each
a fresh server with `clients` connections. Every request must succeed, and the portal must hold
everything afterwards. Throughput is requests answered per second on the same kind of work: the
whole replay when both servers finished it in their time share, else the users phase alone (a
filter query and a POST per user, the same requests on both sides, however far each got).
Comparing whatever each replayed would set one server's cheap user requests against the other's
costlier membership PATCHes.
"""

from __future__ import annotations

from bench import procs
from bench.context import Context
from bench.portal import Target, peer, portal
from bench.replay import ReplayResult, Workload, replay, verify
from bench.report import Row


def workload(ctx: Context) -> Workload:
    s = ctx.sizes
    return Workload(s.s1_users, s.s1_groups, s.s1_memberships, s.members_per_patch)


async def _replay(
    target: Target, w: Workload, dialect: str, clients: int, check: bool, seconds: float
) -> ReplayResult:
    result = await replay(
        target.scim_base, target.token, w, "entra" if dialect == "entra" else "rfc", clients, seconds
    )
    if result.tally.errors:
        raise procs.BenchError(
            f"{target.name}: {result.tally.errors} of {result.requests} requests failed, "
            f"e.g. {result.tally.first_errors}"
        )
    if check and result.complete and (lost := await verify(target.scim_base, target.token, w, result)):
        raise procs.BenchError(f"{target.name} lost data: {'; '.join(lost)}")
    return result


def _details(r: ReplayResult) -> dict[str, object]:
    return {
        "requests": r.requests,
        "seconds": round(r.seconds, 2),
        "complete": r.complete,
        "user_requests": r.user_requests,
        "user_seconds": round(r.user_seconds, 2),
        "statuses": r.tally.statuses,
    }


def _same_work(ours: ReplayResult, theirs: ReplayResult) -> tuple[float, float, str]:
    """(our throughput, theirs, what they were measured on): see the module's text."""
    if ours.complete and theirs.complete:
        return ours.throughput, theirs.throughput, ""
    users = f"{ours.user_requests // 2:,} and {theirs.user_requests // 2:,} users"
    return (
        ours.user_throughput,
        theirs.user_throughput,
        f"compared on the users phase (a filter query and a POST per user; {users} replayed)",
    )


def _partial(name: str, r: ReplayResult, w: Workload) -> str:
    return (
        "" if r.complete else f"{name} replayed {r.requests:,} of {w.requests():,} requests in its time share"
    )


async def run(ctx: Context) -> list[Row]:
    w = workload(ctx)
    clients = ctx.sizes.clients
    # Each server gets a third of the budget, less start-up and the check that nothing was lost;
    # a replay cut short reports the throughput of the part it did (and says so).
    share = max((ctx.budget_s - 60) / 3, 10)
    async with peer(ctx.ws, "s1-peer") as target:
        theirs = await _replay(target, w, "rfc", clients, check=False, seconds=share)
    async with portal(ctx.ws, "s1-sqlite") as target:
        sqlite = await _replay(target, w, "entra", clients, check=True, seconds=share)
    database = await (await ctx.pg()).database("s1")
    async with portal(ctx.ws, "s1-postgres", database) as target:
        postgres = await _replay(target, w, "entra", clients, check=True, seconds=share)

    shape = f"{w.users:,} users, {w.groups:,} groups, {w.memberships:,} memberships, {clients} clients"
    rows = []
    for label, ours, factor in (("SQLite", sqlite, 5.0), ("PostgreSQL", postgres, 3.0)):
        mine, yours, basis = _same_work(ours, theirs)
        ratio = mine / yours if yours else 0.0
        rows.append(
            Row(
                f"S1 {label}",
                f"Entra initial-cycle replay ({shape}): portal on {label} vs scim2-server",
                mine,
                yours,
                "req/s",
                ratio,
                f">= {factor:.0f}x",
                ratio >= factor,
                note="; ".join(
                    n
                    for n in (basis, _partial("the portal", ours, w), _partial("scim2-server", theirs, w))
                    if n
                ),
                details={"ours": _details(ours), "peer": _details(theirs), "workload": shape},
            )
        )
    return rows
