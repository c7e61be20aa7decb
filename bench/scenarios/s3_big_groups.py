"""S3, big groups: the latency of adding and removing one member as the group grows.

The portal (SQLite) gets groups of `s3_sizes` members. Their users and memberships are written
straight to its store, as `tests/integration/test_big_groups.py` does (seeding 100,000 users
over HTTP would take minutes and measure nothing S3 is about); the groups themselves are
created over SCIM. Then, one request at a time and round-robin over the groups so that drift
hits every size alike, a user outside every group is added (Entra's `Add` with a value list)
and removed again (Entra's default `Remove` with a value list) `s3_ops` times per group.

Then the shapes in which Okta and authentik send a group's whole member list (`s3_whole`
members, 50,000 at full size) go to one more group, one request each, timed: Okta's custom-app
PUT of every member (from empty), the same PUT with one member changed, one `replace` operation
listing every member (Okta's full push, authentik), emptying it, and one `add` operation per
member in one PATCH (authentik, which sends all operations at once when `bulk.maxOperations` is
0). The row compares the one-change PUT with a one-member PATCH on the smallest group.

The peer, scim2-server, gets the same at `s3_peer_sizes`, `s3_peer_ops` times per group (its
groups are built over SCIM: it has no store to write to), to show how its cost grows.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import sqlalchemy as sa

from bench import procs
from bench.client import Connection, run_workers
from bench.context import Context
from bench.portal import Target, peer, portal
from bench.replay import GROUP, PATCH_OP, Workload, add_members_body, group_body, user_body
from bench.report import Row
from enlist.db.database import Database
from enlist.db.rows import new_id, now
from enlist.lms.store.tables import group_members, tenants, users

CHUNK = 5_000


async def _seed_store(target: Target, count: int) -> list[str]:
    """`count` users written straight to the portal's SQLite store; their ids."""
    assert target.data_dir is not None
    db = Database(f"sqlite+aiosqlite:///{target.data_dir / 'lms.sqlite3'}")
    try:
        async with db.read() as conn:
            tenant = (await conn.execute(sa.select(tenants).where(tenants.c.slug == "bench"))).one()
        ids = [new_id() for _ in range(count)]
        moment = now()
        for start in range(0, count, CHUNK):
            rows = [
                {
                    "id": ids[i],
                    "tenant_id": tenant.id,
                    "user_name": f"s3user{i}@bench.example.com",
                    "user_name_ci": f"s3user{i}@bench.example.com",
                    "status": "active",
                    "doc": {"userName": f"s3user{i}@bench.example.com"},
                    "version": 1,
                    "created_at": moment,
                    "updated_at": moment,
                    "status_changed_at": moment,
                    "department_id": tenant.root_department_id,
                }
                for i in range(start, min(start + CHUNK, count))
            ]
            async with db.write() as conn:
                await conn.execute(users.insert(), rows)
        return ids
    finally:
        await db.dispose()


async def _fill_store(target: Target, group_id: str, members: list[str]) -> None:
    assert target.data_dir is not None
    db = Database(f"sqlite+aiosqlite:///{target.data_dir / 'lms.sqlite3'}")
    try:
        async with db.read() as conn:
            tenant_id = (
                await conn.execute(sa.select(tenants.c.id).where(tenants.c.slug == "bench"))
            ).scalar()
        moment = now()
        for start in range(0, len(members), CHUNK):
            rows = [
                {"group_id": group_id, "user_id": m, "tenant_id": tenant_id, "added_at": moment}
                for m in members[start : start + CHUNK]
            ]
            async with db.write() as conn:
                await conn.execute(group_members.insert(), rows)
    finally:
        await db.dispose()


def _remove_body(user_id: str, dialect: str) -> dict[str, Any]:
    op = "Remove" if dialect == "entra" else "remove"
    if dialect == "entra":
        return {
            "schemas": [PATCH_OP],
            "Operations": [{"op": op, "path": "members", "value": [{"value": user_id}]}],
        }
    return {"schemas": [PATCH_OP], "Operations": [{"op": op, "path": f'members[value eq "{user_id}"]'}]}


async def _measure(
    conn: Connection, groups: dict[int, str], extra: list[str], dialect: str
) -> dict[int, dict[str, float]]:
    """Per group size: median and 90th percentile of add and remove latencies, in ms."""
    took: dict[int, list[float]] = {size: [] for size in groups}
    for user_id in extra:
        for size, gid in groups.items():
            for body in (add_members_body([user_id], dialect), _remove_body(user_id, dialect)):  # type: ignore[arg-type]
                started = time.perf_counter()
                answer = await conn.request("PATCH", f"/Groups/{gid}", body)
                took[size].append((time.perf_counter() - started) * 1000)
                if answer.status not in {200, 204}:
                    raise procs.BenchError(
                        f"PATCH on the {size}-member group: {answer.status} {answer.body[:200]!r}"
                    )
    return {
        size: {
            "p50_ms": statistics.median(ms),
            "p90_ms": statistics.quantiles(ms, n=10)[-1] if len(ms) > 1 else ms[0],
            "requests": len(ms),
        }
        for size, ms in took.items()
    }


async def _timed(conn: Connection, method: str, path: str, body: dict[str, Any], what: str) -> float:
    started = time.perf_counter()
    answer = await conn.request(method, path, body)
    took = (time.perf_counter() - started) * 1000
    if answer.status not in {200, 201, 204}:
        raise procs.BenchError(f"{what}: {answer.status} {answer.body[:200]!r}")
    return took


async def _whole_lists(conn: Connection, ids: list[str]) -> dict[str, float]:
    """Milliseconds per whole-member-list shape, on a group of `len(ids)` members."""
    name = "S3 whole list"
    created = await conn.request("POST", "/Groups", {"schemas": [GROUP], "displayName": name})
    if created.status != 201:
        raise procs.BenchError(f"creating the whole-list group: {created.status} {created.body[:200]!r}")
    path = f"/Groups/{created.json()['id']}"
    everyone = [{"value": i, "display": f"member {n}"} for n, i in enumerate(ids)]
    # From empty, all but the first; then one joiner (the first) and one leaver (the last).
    took = {
        "put_all_ms": await _timed(
            conn, "PUT", path, {"schemas": [GROUP], "displayName": name, "members": everyone[1:]}, "PUT all"
        ),
        "put_one_changed_ms": await _timed(
            conn, "PUT", path, {"schemas": [GROUP], "displayName": name, "members": everyone[:-1]}, "PUT one"
        ),
    }
    replace = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "members", "value": everyone}]}
    took["replace_same_ms"] = await _timed(conn, "PATCH", path, replace, "replace")
    empty = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "members", "value": []}]}
    took["replace_empty_ms"] = await _timed(conn, "PATCH", path, empty, "empty")
    adds = [{"op": "add", "path": "members", "value": [{"value": i}]} for i in ids]
    took["add_ops_ms"] = await _timed(
        conn, "PATCH", path, {"schemas": [PATCH_OP], "Operations": adds}, "adds"
    )
    took["members"] = len(ids)
    return took


async def _portal_side(ctx: Context) -> tuple[dict[int, dict[str, float]], dict[str, float]]:
    s = ctx.sizes
    w = Workload(1, len(s.s3_sizes), 0)
    async with portal(ctx.ws, "s3-portal") as target:
        ids = await _seed_store(target, max(max(s.s3_sizes) + s.s3_ops, s.s3_whole))
        conn = Connection(target.scim_base, target.token)
        groups: dict[int, str] = {}
        for g, size in enumerate(s.s3_sizes):
            created = await conn.request("POST", "/Groups", group_body(w, g, "entra"))
            if created.status != 201:
                raise procs.BenchError(f"creating a group: {created.status} {created.body[:200]!r}")
            groups[size] = created.json()["id"]
            await _fill_store(target, groups[size], ids[:size])
        try:
            measured = await _measure(
                conn, groups, ids[max(s.s3_sizes) : max(s.s3_sizes) + s.s3_ops], "entra"
            )
            return measured, await _whole_lists(conn, ids[: s.s3_whole])
        finally:
            await conn.close()


async def _peer_side(ctx: Context) -> dict[int, dict[str, float]]:
    s = ctx.sizes
    count = max(s.s3_peer_sizes) + s.s3_peer_ops
    w = Workload(count, len(s.s3_peer_sizes), 0)
    async with peer(ctx.ws, "s3-peer") as target:
        conns = [Connection(target.scim_base, target.token) for _ in range(s.clients)]
        ids = [""] * count
        todo = iter(range(count))

        async def create(c: int) -> None:
            for i in todo:
                answer = await conns[c].request("POST", "/Users", user_body(w, i, "rfc"))
                if answer.status != 201:
                    raise procs.BenchError(f"peer user {i}: {answer.status} {answer.body[:200]!r}")
                ids[i] = answer.json()["id"]

        await run_workers(s.clients, create)
        conn = conns[0]
        groups: dict[int, str] = {}
        for g, size in enumerate(s.s3_peer_sizes):
            created = await conn.request("POST", "/Groups", group_body(w, g, "rfc"))
            groups[size] = created.json()["id"]
            for start in range(0, size, 50):
                body = add_members_body(ids[start : min(start + 50, size)], "rfc")
                await conn.request("PATCH", f"/Groups/{groups[size]}", body)
        try:
            return await _measure(conn, groups, ids[max(s.s3_peer_sizes) :], "rfc")
        finally:
            for c in conns:
                await c.close()


async def run(ctx: Context) -> list[Row]:
    ours, whole = await _portal_side(ctx)
    theirs = await _peer_side(ctx)
    small, big = min(ours), max(ours)
    ratio = ours[big]["p50_ms"] / ours[small]["p50_ms"]
    psmall, pbig = min(theirs), max(theirs)
    pratio = theirs[pbig]["p50_ms"] / theirs[psmall]["p50_ms"]
    return [
        Row(
            "S3",
            f"portal: add+remove one member, median, {big:,}-member vs {small:,}-member group",
            ours[big]["p50_ms"],
            ours[small]["p50_ms"],
            "ms",
            ratio,
            "<= 2x",
            ratio <= 2,
            details={"portal": ours},
        ),
        Row(
            "S3 whole list",
            f"portal: PUT of a {whole['members']:,}-member list with one change vs one-member PATCH, "
            f"{small:,}-member group",
            whole["put_one_changed_ms"],
            ours[small]["p50_ms"],
            "ms",
            whole["put_one_changed_ms"] / ours[small]["p50_ms"],
            "(informative)",
            None,
            details={"whole_list": whole},
        ),
        Row(
            "S3 peer",
            f"scim2-server: the same, {pbig:,}-member vs {psmall:,}-member group",
            theirs[pbig]["p50_ms"],
            theirs[psmall]["p50_ms"],
            "ms",
            pratio,
            "(yardstick)",
            None,
            details={"peer": theirs},
        ),
    ]
