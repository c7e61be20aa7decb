"""Entra's initial cycle, replayed over HTTP: the request sequence and bodies Entra sends.

For each user: `GET /Users?filter=userName eq "…"` (no match), then `POST /Users`. For each
group: `GET /Groups?excludedAttributes=members&filter=displayName eq "…"`, `POST /Groups` (empty),
then `PATCH /Groups/{id}` adding its members, `members_per_patch` at a time. Users first, then
groups, as a cycle must: a membership names the member's target id. `clients` connections work
through a shared queue, each request waiting for the one before it on its connection.

Two dialects of the same sequence: `entra` is what Entra sends by default (its schema URIs,
`meta` in the body, capitalised `Add` with `$ref: null`), sent to the portal; `rfc` is the same
in plain RFC 7644, sent to the peer, which refuses Entra's extras.

How many members Entra puts in one PATCH is not documented (`entra-scim.md` §3.4: the gallery
checklist asks servers to accept several; on-demand provisioning sends at most 5); enlist's own
engine sends 50, so the replay does too (`--members-per-patch`).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from bench.client import Connection, Tally, run_workers

Dialect = Literal["entra", "rfc"]
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
AD_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@dataclass(frozen=True)
class Workload:
    """`users` users, `groups` groups and `memberships` (group, user) pairs, deterministic."""

    users: int
    groups: int
    memberships: int
    members_per_patch: int = 50

    def user_name(self, i: int) -> str:
        return f"user{i:06d}@bench.example.com"

    def group_name(self, g: int) -> str:
        return f"Bench group {g:05d}"

    def members_of(self, g: int) -> range | list[int]:
        """The users of group `g`: memberships spread evenly, each group a run of users."""
        base, extra = divmod(self.memberships, self.groups)
        size = min(base + (1 if g < extra else 0), self.users)
        start = (g * 7919) % self.users
        if start + size <= self.users:
            return range(start, start + size)
        return [*range(start, self.users), *range(start + size - self.users)]

    def pairs(self) -> int:
        """The memberships actually made: `memberships`, unless groups would outgrow `users`."""
        return sum(len(self.members_of(g)) for g in range(self.groups))

    def requests(self) -> int:
        patches = sum(-(-len(self.members_of(g)) // self.members_per_patch) for g in range(self.groups))
        return 2 * self.users + 2 * self.groups + patches


def user_body(w: Workload, i: int, dialect: Dialect) -> dict[str, Any]:
    name = w.user_name(i)
    body: dict[str, Any] = {
        "schemas": [USER],
        "externalId": f"00000000-0000-4000-8000-{i:012d}",
        "userName": name,
        "active": True,
        "displayName": f"Bench User {i}",
        "title": "Engineer",
        "emails": [{"primary": True, "type": "work", "value": name}],
        "name": {"formatted": f"Bench User {i}", "givenName": "Bench", "familyName": f"User {i}"},
    }
    if dialect == "entra":
        body["schemas"] = [USER, ENTERPRISE]
        body[ENTERPRISE] = {"employeeNumber": str(i), "department": f"Dept {i % 50}"}
        body["meta"] = {"resourceType": "User"}
        body["roles"] = []
    return body


def group_body(w: Workload, g: int, dialect: Dialect) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schemas": [GROUP],
        "externalId": f"10000000-0000-4000-8000-{g:012d}",
        "displayName": w.group_name(g),
    }
    if dialect == "entra":
        body["schemas"] = [GROUP, AD_GROUP]
        body["meta"] = {"resourceType": "Group"}
    return body


def add_members_body(ids: list[str], dialect: Dialect) -> dict[str, Any]:
    if dialect == "entra":
        value = [{"$ref": None, "value": i} for i in ids]
        return {"schemas": [PATCH_OP], "Operations": [{"op": "Add", "path": "members", "value": value}]}
    value = [{"value": i} for i in ids]
    return {"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": value}]}


def eq_filter(attribute: str, value: str) -> str:
    """`attribute eq "value"` URL-encoded the way Entra sends it (`+` for spaces)."""
    return quote(f'{attribute} eq "{value}"', safe="").replace("%20", "+")


@dataclass
class ReplayResult:
    requests: int
    seconds: float
    tally: Tally
    user_ids: list[str] = field(repr=False)
    group_ids: list[str] = field(repr=False)
    complete: bool = True
    user_requests: int = 0  # the users phase (a filter query and a POST per user), on its own
    user_seconds: float = 0.0

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def users_done(self) -> bool:
        return all(self.user_ids)

    @property
    def user_throughput(self) -> float:
        return self.user_requests / self.user_seconds if self.user_seconds else 0.0


async def replay(
    base: str, token: str, w: Workload, dialect: Dialect, clients: int = 8, seconds: float | None = None
) -> ReplayResult:
    """Replay the initial cycle of `w` against the SCIM root `base`; counts every request.

    With `seconds`, no new user or group is started after that long: the result is then
    `complete=False` and its throughput is that of the part replayed.
    """
    deadline = time.perf_counter() + seconds if seconds else float("inf")
    tally = Tally()
    connections = [Connection(base, token) for _ in range(clients)]
    user_ids: list[str] = [""] * w.users
    group_ids: list[str] = [""] * w.groups
    next_user = iter(range(w.users))
    next_group = iter(range(w.groups))

    async def users(c: int) -> None:
        conn = connections[c]
        for i in next_user:
            if time.perf_counter() > deadline:
                return
            started = time.perf_counter()
            path = f"/Users?filter={eq_filter('userName', w.user_name(i))}"
            tally.count("filter user", await conn.request("GET", path), started, (200,))
            started = time.perf_counter()
            created = await conn.request("POST", "/Users", user_body(w, i, dialect))
            tally.count("POST /Users", created, started, (201,))
            if created.status == 201:
                user_ids[i] = created.json()["id"]

    async def groups(c: int) -> None:
        conn = connections[c]
        for g in next_group:
            if time.perf_counter() > deadline:
                return
            started = time.perf_counter()
            path = f"/Groups?excludedAttributes=members&filter={eq_filter('displayName', w.group_name(g))}"
            tally.count("filter group", await conn.request("GET", path), started, (200,))
            started = time.perf_counter()
            created = await conn.request("POST", "/Groups", group_body(w, g, dialect))
            tally.count("POST /Groups", created, started, (201,))
            if created.status != 201:
                continue
            gid = group_ids[g] = created.json()["id"]
            members = [user_ids[u] for u in w.members_of(g) if user_ids[u]]
            for start in range(0, len(members), w.members_per_patch):
                chunk = members[start : start + w.members_per_patch]
                started = time.perf_counter()
                answer = await conn.request("PATCH", f"/Groups/{gid}", add_members_body(chunk, dialect))
                tally.count("PATCH members", answer, started, (200, 204))

    try:
        user_seconds = await run_workers(clients, users)
        user_requests = tally.requests
        seconds = user_seconds + await run_workers(clients, groups)
    finally:
        await asyncio.gather(*(c.close() for c in connections))
    complete = all(user_ids) and all(group_ids)
    return ReplayResult(
        tally.requests, seconds, tally, user_ids, group_ids, complete, user_requests, user_seconds
    )


async def verify(base: str, token: str, w: Workload, result: ReplayResult) -> list[str]:
    """What the server lost: users, groups or memberships of `w` it does not hold (empty: none)."""
    conn = Connection(base, token)
    lost: list[str] = []
    try:
        for kind, expected in (("Users", w.users), ("Groups", w.groups)):
            held = (await conn.request("GET", f"/{kind}?count=0")).json().get("totalResults")
            if held != expected:
                lost.append(f"{kind}: {held} held, {expected} sent")
        members = 0
        for gid in result.group_ids:
            doc = (await conn.request("GET", f"/Groups/{gid}?attributes=members")).json()
            members += len(doc.get("members") or [])
        if members != w.pairs():
            lost.append(f"memberships: {members} held, {w.pairs()} sent")
    finally:
        await conn.close()
    return lost
