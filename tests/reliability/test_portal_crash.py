"""Kill -9 the portal in the middle of a batch of writes, again and again, on SQLite and on
PostgreSQL: after each restart every write that was answered 2xx is there, nothing is
half-written, and sending the unanswered writes again (as Entra does on its next cycle: query,
then create) converges with nobody twice.

"Committed" here means what the portal promises: a write and its sync log entry are one
transaction. So after any crash, the users in the database are exactly the users whose
successful `create` entry the sync log holds, and a group's membership rows are exactly the
joins minus the leaves its sync log entries list, in commit order. An answered write is
committed; an unanswered one may or may not be, and its retry must land it exactly once.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.reliability.rig import (
    GROUP_SCHEMA,
    Committed,
    Scim,
    Server,
    add_member,
    committed,
    remove_member,
    replayed_members,
    user_body,
)

SEED = 20261128
ROUNDS = 5
NEW_USERS = 24  # POSTs per round
JOINS, LEAVES = 12, 6  # group PATCHes per round
CLIENTS = 8


@dataclass
class Write:
    method: str
    path: str
    body: dict[str, Any]
    user_name: str | None = None  # for a POST /Users
    member: str | None = None  # for a PATCH of the group
    joins: bool = True
    status: int | None = None  # None: no answer before the kill
    answer: Any = None


@dataclass
class Expected:
    """What the answered writes promise so far."""

    users: dict[str, str] = field(default_factory=dict)  # userName -> id
    members: set[str] = field(default_factory=set)
    history: list[str] = field(default_factory=list)


async def fire(scim: Scim, writes: list[Write], kill_at: int, killing: asyncio.Event) -> None:
    """Send the batch from CLIENTS concurrent clients, and set `killing` once `kill_at` writes
    were answered; a write whose connection dies stays unanswered. Never retried here."""
    queue: asyncio.Queue[Write] = asyncio.Queue()
    for w in writes:
        queue.put_nowait(w)
    answered = 0

    async def client() -> None:
        nonlocal answered
        while not queue.empty():
            w = queue.get_nowait()
            try:
                w.status, w.answer, _ = await scim.once(w.method, w.path, w.body)
            except (TimeoutError, aiohttp.ClientError):
                w.status = None
                continue
            answered += 1
            if answered >= kill_at:
                killing.set()

    await asyncio.gather(*(client() for _ in range(CLIENTS)))


def check_whole(state: Committed, group_id: str) -> None:
    """Nothing half-written: users and their `create` entries, members and their entries."""
    created = {
        e["resource_id"] for e in state.log if e["resource_type"] == "User" and e["action"] == "create"
    }
    assert set(state.user_names) == created, (
        f"users without their log entry: {set(state.user_names) - created}; "
        f"log entries without their user: {created - set(state.user_names)}"
    )
    rows = state.members.get(group_id, set())
    assert rows == replayed_members(state.log, group_id)


async def resend(scim: Scim, writes: list[Write]) -> None:
    """Entra's next cycle for the writes it got no answer to: look the user up by userName and
    create only when absent; send the membership delta again."""

    async def again(w: Write) -> None:
        if w.user_name is not None:
            status, found = await scim.call("GET", "/Users", filter=f'userName eq "{w.user_name}"')
            assert status == 200, found
            if found["totalResults"] == 0:
                w.status, w.answer = await scim.call(w.method, w.path, w.body)
            else:
                w.status, w.answer = 201, found["Resources"][0]
        else:
            w.status, w.answer = await scim.call(w.method, w.path, w.body)
        assert w.status in (201, 204), (w, w.answer)

    # In parallel, as Entra sends them: no two of them name the same user or member.
    await asyncio.gather(*(again(w) for w in writes if w.status is None))


@pytest.mark.slow
async def test_killed_mid_batch_again_and_again_every_answered_write_survives(
    lms_database_url: str, database_kind: str, tmp_path: Path
) -> None:
    rng = random.Random(f"{SEED}-{database_kind}")
    server = Server(tmp_path / "portal", lms_database_url).start()
    tenant_url, token = server.tenant("crash")
    expected = Expected()
    counts: Counter[str] = Counter()
    try:
        async with Scim(tenant_url, token, connections=CLIENTS) as scim:
            status, group = await scim.call(
                "POST", "/Groups", {"schemas": [GROUP_SCHEMA], "displayName": "All"}
            )
            assert status == 201, group
            group_id = group["id"]
        for round_no in range(ROUNDS):
            writes = [
                Write(
                    "POST",
                    "/Users",
                    user_body(f"r{round_no}u{i:02d}@contoso.com"),
                    user_name=f"r{round_no}u{i:02d}@contoso.com",
                )
                for i in range(NEW_USERS)
            ]
            # Members: join some users the portal has, let some members leave.
            outside = sorted(set(expected.users.values()) - expected.members)
            joining = rng.sample(outside, min(len(outside), JOINS))
            leaving = rng.sample(sorted(expected.members), min(len(expected.members), LEAVES))
            writes += [
                Write("PATCH", f"/Groups/{group_id}", add_member(u), member=u, joins=True) for u in joining
            ]
            writes += [
                Write("PATCH", f"/Groups/{group_id}", remove_member(u), member=u, joins=False)
                for u in leaving
            ]
            rng.shuffle(writes)
            # The kill lands after a random number of answers (a moment in the batch that does not
            # depend on how fast this machine is), while the other clients' writes are in flight.
            kill_at = rng.randint(1, len(writes) - CLIENTS)
            killing = asyncio.Event()
            async with Scim(tenant_url, token, connections=CLIENTS) as scim:
                batch = asyncio.create_task(fire(scim, writes, kill_at, killing))
                await asyncio.wait_for(killing.wait(), timeout=120)
                server.kill()
                await batch
            answered = [w for w in writes if w.status is not None]
            counts["writes"] += len(writes)
            counts["answered"] += len(answered)
            counts["unanswered"] += len(writes) - len(answered)
            expected.history.append(
                f"round {round_no}: kill after answer {kill_at}, {len(answered)}/{len(writes)} answered"
            )
            for w in answered:
                assert w.status in (201, 204), (w, w.answer, expected.history)

            server.start()
            state = await committed(lms_database_url)
            check_whole(state, group_id)
            for w in answered:
                if w.user_name is not None:
                    assert state.user_names.get(w.answer["id"]) == w.user_name, (w, expected.history)
                elif w.joins:
                    assert w.member in state.members.get(group_id, set()), (w, expected.history)
                else:
                    assert w.member not in state.members.get(group_id, set()), (w, expected.history)

            async with Scim(tenant_url, token, connections=CLIENTS) as scim:
                await resend(scim, writes)
                assert scim.outcomes.server_errors == []
            for w in writes:
                if w.user_name is not None:
                    expected.users[w.user_name] = w.answer["id"]
                elif w.joins:
                    expected.members.add(w.member)
                else:
                    expected.members.discard(w.member)

            state = await committed(lms_database_url)
            check_whole(state, group_id)
            names = Counter(state.user_names.values())
            assert [n for n, k in names.items() if k > 1] == [], "a user created twice"
            assert {v: k for k, v in state.user_names.items()} == expected.users, expected.history
            assert state.members.get(group_id, set()) == expected.members, expected.history
    finally:
        server.stop()
    assert counts["unanswered"] > 0, ("no kill landed mid-batch", expected.history)
    assert counts["answered"] > 0, ("no write was answered before a kill", expected.history)
    print(  # noqa: T201 (the figure docs/reliability.md quotes; shown with -s)
        f"\nportal crash ({database_kind}): {ROUNDS} kills, {counts['writes']} writes, "
        f"{counts['answered']} answered before the kill, {counts['unanswered']} re-sent; losses 0, duplicates 0"
        f"\n  " + "\n  ".join(expected.history)
    )
