"""A bounded load on a real portal over loopback: `connections` clients, each in a loop, send a
seeded mix of what Entra sends (a matching query `GET /Users?filter=userName eq …`, a create
`POST /Users`, an attribute `PATCH /Users/{id}`, a membership `PATCH /Groups/{id}`) until the time
is up. Every answer is timed; anything but the expected 2xx is an error. Afterwards every write
is checked against the portal: each created user there once, each updated title one of those
answered, each join in its group.

Used by `tests/reliability/test_load.py` (a short run) and `scripts/soak.py` (`make soak`).
Timings are reported, never asserted: the machine they run on is shared.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

from tests.reliability.rig import GROUP_SCHEMA, Scim, add_member, patch, user_body

GROUPS = 4
MIX = (("search", 4), ("create", 2), ("update", 2), ("join", 2))  # weights


@dataclass
class LoadReport:
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    missing: list[str] = field(default_factory=list)  # writes answered 2xx but not found after
    created: dict[str, str] = field(default_factory=dict)  # userName -> id
    titles: dict[str, set[str]] = field(default_factory=dict)  # id -> titles answered 200
    joins: dict[str, set[str]] = field(default_factory=dict)  # group id -> user ids

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def percentile(self, p: float, kind: str | None = None) -> float:
        values = sorted(v for k, vs in self.latencies.items() if kind is None or k == kind for v in vs)
        if not values:
            return 0.0
        return values[min(len(values) - 1, int(p / 100 * len(values)))]

    def summary(self) -> str:
        rate = self.requests / max(self.seconds, 1e-9)
        head = (
            f"{self.requests} requests in {self.seconds:.1f} s ({rate:.0f}/s), "
            f"errors {len(self.errors)}, writes missing afterwards {len(self.missing)}"
        )
        rows = [
            f"  {kind or 'all':<8}"
            + "".join(f"{self.percentile(p, kind) * 1000:8.1f}" for p in (50, 95, 99))
            + f"  {sum(len(v) for k, v in self.latencies.items() if kind is None or k == kind):6d}"
            for kind in [None, *sorted(self.latencies)]
        ]
        return "\n".join([head, "latency ms   p50     p95     p99   count", *rows])


async def run_load(
    tenant_url: str,
    token: str,
    *,
    seconds: float,
    connections: int = 8,
    seed: int = 1,
    prefix: str = "load",
    tick: Callable[[LoadReport], None] | None = None,
    tick_every_s: float = 60.0,
) -> LoadReport:
    report = LoadReport()
    rng = random.Random(seed)
    kinds = [k for k, w in MIX for _ in range(w)]
    async with Scim(tenant_url, token, connections=connections) as scim:
        group_ids = []
        for g in range(GROUPS):
            status, body = await scim.call(
                "POST", "/Groups", {"schemas": [GROUP_SCHEMA], "displayName": f"{prefix}-group-{g}"}
            )
            assert status == 201, body
            group_ids.append(body["id"])
            report.joins[body["id"]] = set()
        users: list[tuple[str, str]] = []  # (userName, id) created so far
        unjoined: list[str] = []
        counter = 0
        ends = time.monotonic() + seconds
        started = time.monotonic()
        next_tick = started + tick_every_s

        async def one(kind: str) -> None:
            nonlocal counter
            if kind != "create" and not users:
                kind = "create"
            if kind == "join" and not unjoined:
                kind = "update"
            if kind == "search":
                name = rng.choice(users)[0]
                expect, call = 200, ("GET", "/Users", None, {"filter": f'userName eq "{name}"'})
            elif kind == "create":
                counter += 1
                name = f"{prefix}{counter:07d}@contoso.com"
                expect, call = 201, ("POST", "/Users", user_body(name), {})
            elif kind == "update":
                user_id = rng.choice(users)[1]
                title = f"t{rng.randrange(10**6)}"
                expect = 200
                call = (
                    "PATCH",
                    f"/Users/{user_id}",
                    patch({"op": "replace", "path": "title", "value": title}),
                    {},
                )
            else:
                user_id = unjoined.pop(rng.randrange(len(unjoined)))
                group_id = rng.choice(group_ids)
                expect, call = 204, ("PATCH", f"/Groups/{group_id}", add_member(user_id), {})
            method, path, body, params = call
            began = time.perf_counter()
            try:
                status, answer, _ = await scim.once(method, path, body, **params)
            except (TimeoutError, aiohttp.ClientError) as exc:
                report.errors.append(f"{method} {path}: {exc!r}")
                return
            report.latencies.setdefault(kind, []).append(time.perf_counter() - began)
            report.statuses[status] += 1
            if status != expect:
                report.errors.append(f"{method} {path} -> {status} {str(answer)[:200]}")
                return
            if kind == "search" and answer["totalResults"] != 1:
                report.errors.append(f"search for {name} found {answer['totalResults']}")
            elif kind == "create":
                users.append((name, answer["id"]))
                unjoined.append(answer["id"])
                report.created[name] = answer["id"]
            elif kind == "update":
                report.titles.setdefault(user_id, set()).add(title)
            elif kind == "join":
                report.joins[group_id].add(user_id)

        async def client() -> None:
            nonlocal next_tick
            while time.monotonic() < ends:
                await one(rng.choice(kinds))
                if tick is not None and time.monotonic() >= next_tick:
                    next_tick += tick_every_s
                    report.seconds = time.monotonic() - started
                    tick(report)

        await asyncio.gather(*(client() for _ in range(connections)))
        report.seconds = time.monotonic() - started
        await verify(scim, report)
    return report


async def verify(scim: Scim, report: LoadReport) -> None:
    """Every write answered 2xx is in the portal: users once, joins in their groups."""
    users = {u["userName"]: u for u in await scim.everything("/Users")}
    for name, user_id in report.created.items():
        if users.get(name, {}).get("id") != user_id:
            report.missing.append(f"user {name}")
    by_id = {u["id"]: u for u in users.values()}
    if len(by_id) != len(users):
        report.missing.append("a userName twice")
    for user_id, titles in report.titles.items():
        # Two clients may update one user at once: the title is one of the answered ones.
        if by_id.get(user_id, {}).get("title") not in titles:
            report.missing.append(f"title of {user_id}")
    for group in await scim.everything("/Groups"):
        if group["id"] not in report.joins:
            continue
        members = {m["value"] for m in group.get("members", [])}
        report.missing += [f"join {u} -> {group['displayName']}" for u in report.joins[group["id"]] - members]
