"""Many clients writing the same group and the same users at once, on PostgreSQL, through a portal
of several worker processes: the final state is the serial result, no write is lost or applied
twice, and no deadlock or serialisation failure reaches a client as a 500.

The writes are chosen so that their serial result does not depend on their order: each group
PATCH adds or removes a member no other PATCH names, and each user attribute has one writer, whose
last value is known. A race that reads, modifies and writes back (the classic lost member) would
show as a member missing or one too many; a transaction half-applied would show as a membership
row without its sync log entry.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.rig import (
    GROUP_SCHEMA,
    Scim,
    Server,
    add_member,
    committed,
    patch,
    remove_member,
    replayed_members,
    user_body,
)

SEED = 61127
CLIENTS = 30
ROUNDS = 3
WORKERS = 3
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
# One writer per attribute and hot user: 15 clients on each of two users.
ATTRIBUTES = [
    "title",
    "nickName",
    "displayName",
    "profileUrl",
    "preferredLanguage",
    "locale",
    "timezone",
    "userType",
    "name.middleName",
    "name.honorificPrefix",
    f"{ENTERPRISE}:department",
    f"{ENTERPRISE}:costCenter",
    f"{ENTERPRISE}:division",
    f"{ENTERPRISE}:organization",
    f"{ENTERPRISE}:employeeNumber",
]
HOT_USERS = ("hot.a@contoso.com", "hot.b@contoso.com")


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres)])
def database_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def value_at(resource: dict[str, Any], path: str) -> Any:
    if path.startswith(ENTERPRISE):
        return (resource.get(ENTERPRISE) or {}).get(path.rsplit(":", 1)[1])
    node: Any = resource
    for part in path.split("."):
        node = (node or {}).get(part)
    return node


async def test_parallel_patches_of_one_group_and_one_user_equal_the_serial_result(
    lms_database_url: str, tmp_path: Path
) -> None:
    server = Server(tmp_path / "portal", lms_database_url, workers=WORKERS).start()
    try:
        tenant_url, token = server.tenant("race")
        async with Scim(tenant_url, token, connections=CLIENTS) as scim:
            await race(scim, lms_database_url)
    finally:
        server.stop()


async def race(scim: Scim, database_url: str) -> None:
    rng = random.Random(SEED)
    half = CLIENTS * ROUNDS // 2
    names = [f"m{i:03d}@contoso.com" for i in range(2 * half)]

    # The people, created in parallel too (30 connections, 92 POSTs on three workers).
    async def create(name: str) -> str:
        status, body = await scim.call("POST", "/Users", user_body(name))
        assert status == 201, body
        return str(body["id"])

    ids = await asyncio.gather(*(create(n) for n in [*names, *HOT_USERS]))
    by_name = dict(zip([*names, *HOT_USERS], ids, strict=True))
    leaving = [by_name[n] for n in names[:half]]
    joining = [by_name[n] for n in names[half:]]
    status, group = await scim.call(
        "POST",
        "/Groups",
        {"schemas": [GROUP_SCHEMA], "displayName": "Everyone", "members": [{"value": u} for u in leaving]},
    )
    assert status == 201, group
    group_id = group["id"]

    # Deal one add or remove of a distinct member to each client round, in a seeded order.
    group_ops = [add_member(u) for u in joining] + [remove_member(u) for u in leaving]
    rng.shuffle(group_ops)
    writers = [(HOT_USERS[c // len(ATTRIBUTES)], ATTRIBUTES[c % len(ATTRIBUTES)]) for c in range(CLIENTS)]

    async def client(c: int) -> None:
        hot, attribute = writers[c]
        for r in range(ROUNDS):
            order = [("group", group_ops[c * ROUNDS + r]), ("user", None)]
            rng_c = random.Random(SEED * 1000 + c * 10 + r)
            rng_c.shuffle(order)
            for kind, op in order:
                if kind == "group":
                    status, body = await scim.call("PATCH", f"/Groups/{group_id}", op)
                    assert status == 204, body
                else:
                    change = patch({"op": "replace", "path": attribute, "value": f"c{c}-r{r}"})
                    status, body = await scim.call("PATCH", f"/Users/{by_name[hot]}", change)
                    assert status == 200, body

    await asyncio.gather(*(client(c) for c in range(CLIENTS)))

    outcomes = scim.outcomes
    assert outcomes.server_errors == [], outcomes.server_errors[:5]
    assert outcomes.retry_after_missing == []
    assert 500 not in outcomes.statuses

    # The serial result.
    listing = await scim.everything("/Groups")
    members = {m["value"] for m in listing[0].get("members", [])}
    assert members == set(joining), (
        f"lost {len(set(joining) - members)} joins, kept {len(members - set(joining))} leavers"
    )
    for hot in HOT_USERS:
        status, user = await scim.call("GET", f"/Users/{by_name[hot]}")
        assert status == 200
        for c, (owner, attribute) in enumerate(writers):
            if owner == hot:
                assert value_at(user, attribute) == f"c{c}-r{ROUNDS - 1}", (hot, attribute, user)

    # What was committed: each write once, each membership row with its sync log entry.
    state = await committed(database_url)
    assert state.members[group_id] == set(joining)
    assert replayed_members(state.log, group_id) == set(joining)
    group_patches = [e for e in state.log if e["resource_id"] == group_id and e["method"] == "PATCH"]
    assert len(group_patches) == len(group_ops)
    for hot in HOT_USERS:
        updates = [e for e in state.log if e["resource_id"] == by_name[hot] and e["method"] == "PATCH"]
        assert len(updates) == len(ATTRIBUTES) * ROUNDS, "each user PATCH committed exactly once"
    total = len(ids) + 1 + len(group_ops) + CLIENTS * ROUNDS
    assert outcomes.requests - outcomes.retries >= total
    print(  # noqa: T201 (the figure docs/reliability.md quotes; shown with -s)
        f"\nconcurrency: {outcomes.requests} requests, {total} writes, statuses "
        f"{dict(sorted(outcomes.statuses.items()))}, {outcomes.retries} retried"
    )
