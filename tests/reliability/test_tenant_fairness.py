"""One tenant's worst legal requests do not freeze the others (issue #10).

A real `enlist lms serve` on loopback, on SQLite and on PostgreSQL, with a short request deadline.
The attacker tenant stores users whose many long email values make a `co` filter as expensive as
the limits allow, and a long sync log, then sends a burst of such filters and of sync-log `q`
searches, each far beyond the deadline. Meanwhile a victim tenant keeps reading and writing. The victim must keep
being answered, at a fair share of its undisturbed rate; the attacker's requests must end at the
deadline with a 503, not with a 200 long after, and (PostgreSQL) their statements must be gone
from the server.

Figures are counts: how many victim requests completed during a window alone and during the
burst, and how many of the attacker's requests the deadline ended.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa

from enlist.db.database import Database
from enlist.lms.store.tables import sync_log, tenants
from tests.reliability.rig import Scim, Server, user_body

DEADLINE_S = 3.0
ATTACKER_USERS = 16
EMAILS_PER_USER = 1000
EMAIL_LENGTH = 512  # the longest a stored email value may be (the column)
OPERAND = 256  # the longest co/sw/ew operand the portal takes
BURST = 6  # concurrent expensive filters of the attacker
SEARCHES = 2  # concurrent sync-log searches of the attacker
LOG_ENTRIES = 30_000  # the attacker's sync log, each entry with the longest texts `q` searches
VICTIM_CLIENTS = 2
# The victim's rate during the burst, as a share of its rate alone, that still counts as served.
# Before the fix the event loop ran the attacker's statements for tens of seconds: the share was 0.
FAIR_SHARE = 0.1


def expensive_filter() -> str:
    """As many worst-case `co` clauses as a filter's 4,096 characters hold: each operand nearly
    matches every position of every stored value, the costliest a LIKE '%…%' can be."""
    clauses: list[str] = []
    for last in "bcdefghijklmnopqrstuvwxyz":
        clause = f'emails.value co "{"a" * (OPERAND - 1)}{last}"'
        if len(" or ".join([*clauses, clause])) > 4096:
            break
        clauses.append(clause)
    return " or ".join(clauses)


@dataclass
class Victim:
    """A tenant going about its business: reads by userName and creates users, counted."""

    scim: Scim
    completed: int = 0
    statuses: list[int] = field(default_factory=list)
    made: int = 0

    async def work_until(self, stop: asyncio.Event, client: int) -> None:
        while not stop.is_set():
            status, _, _ = await self.scim.once("GET", "/Users", filter='userName eq "victim.0@contoso.com"')
            self.statuses.append(status)
            self.made += 1
            status, _, _ = await self.scim.once(
                "POST", "/Users", user_body(f"victim.{client}.{self.made}@contoso.com")
            )
            self.statuses.append(status)
            self.completed += 2


async def victim_count(victim: Victim, window: asyncio.Event) -> int:
    """Requests the victim completed until `window` is set."""
    before = victim.completed
    clients = [asyncio.create_task(victim.work_until(window, c)) for c in range(VICTIM_CLIENTS)]
    await window.wait()
    await asyncio.gather(*clients)
    return victim.completed - before


async def attacker_setup(attacker: Scim) -> None:
    for user in range(ATTACKER_USERS):
        emails = [
            {"value": f"{user:02d}{n:04d}" + "a" * (EMAIL_LENGTH - 6), "type": "work"}
            for n in range(EMAILS_PER_USER)
        ]
        status, body, _ = await attacker.once(
            "POST", "/Users", user_body(f"attacker.{user}@contoso.com") | {"emails": emails}
        )
        assert status == 201, body


async def fill_sync_log(database_url: str, slug: str) -> None:
    """`LOG_ENTRIES` sync log entries of the longest resource name and path a `q` search scans
    (written directly: a tenant would make them with as many SCIM writes)."""
    db = Database(database_url)
    try:
        async with db.write() as conn:
            tenant_id = (
                await conn.execute(sa.select(tenants.c.id).where(tenants.c.slug == slug))
            ).scalar_one()
            entry = {
                "tenant_id": tenant_id,
                "at": datetime.now(UTC),
                "method": "POST",
                "path": "/scim/v2/attacker/Users/" + "a" * 1000,  # within the column's 1,024
                "status": 400,
                "action": "create",
                "resource_type": "User",
                "resource_name": "a" * 512,
                "changes": [],
                "duration_ms": 1.0,
                "error": "a" * 512,
            }
            for _ in range(LOG_ENTRIES // 1000):
                await conn.execute(sync_log.insert(), [entry] * 1000)
    finally:
        await db.dispose()


async def timed(call: Awaitable[tuple[int, Any, dict[str, str]]]) -> tuple[int, float]:
    """The answer's status and how long it took."""
    started = time.monotonic()
    status, _, _ = await call
    return status, time.monotonic() - started


async def active_like_statements(database_url: str) -> int:
    """Statements still running on the PostgreSQL server with a LIKE in them (not this one)."""
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    url = make_url(database_url)
    conn = await asyncpg.connect(
        host=url.query["host"], port=int(url.query["port"]), user="postgres", database=url.database
    )
    try:
        found = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query ILIKE '%like%'"
            " AND pid <> pg_backend_pid()"
        )
        return int(found)
    finally:
        await conn.close()


async def test_an_attackers_burst_of_worst_legal_requests_leaves_other_tenants_served(
    lms_database_url: str, database_kind: str, tmp_path: Path
) -> None:
    server = Server(
        tmp_path / "portal", lms_database_url, extra_env={"ENLIST_REQUEST_TIMEOUT_SECONDS": str(DEADLINE_S)}
    ).start()
    try:
        attacker_url, attacker_token = server.tenant("attacker")
        victim_url, victim_token = server.tenant("victim")
        api = f"{server.url}/api/v1/tenants/attacker"
        async with (
            Scim(attacker_url, attacker_token) as attacker,
            Scim(api, attacker_token) as attacker_api,
            Scim(victim_url, victim_token) as victim_scim,
        ):
            await attacker_setup(attacker)
            await fill_sync_log(lms_database_url, "attacker")
            victim = Victim(victim_scim)
            status, _, _ = await victim_scim.once("POST", "/Users", user_body("victim.0@contoso.com"))
            assert status == 201

            alone_window = asyncio.Event()
            asyncio.get_running_loop().call_later(DEADLINE_S, alone_window.set)
            alone = await victim_count(victim, alone_window)

            burst = [
                asyncio.create_task(timed(attacker.once("GET", "/Users", filter=expensive_filter())))
                for _ in range(BURST)
            ] + [
                asyncio.create_task(timed(attacker_api.once("GET", "/sync-log", q="a" * (OPERAND - 1) + "b")))
                for _ in range(SEARCHES)
            ]
            attack_over = asyncio.Event()
            started = time.monotonic()
            counting = asyncio.create_task(victim_count(victim, attack_over))
            answers = await asyncio.gather(*burst)
            attack_s = time.monotonic() - started
            attack_over.set()
            during = await counting

            if database_kind == "postgres":
                for _ in range(50):  # the cancel request reaches the server asynchronously
                    left = await active_like_statements(lms_database_url)
                    if left == 0:
                        break
                    await asyncio.sleep(0.1)
                assert left == 0, "a cancelled request's statement still runs on the server"
    finally:
        server.stop()

    filters, searches = answers[:BURST], answers[BURST:]
    print(  # noqa: T201 - the figures for the report
        f"\n{database_kind}: victim alone {alone} in {DEADLINE_S} s; during the burst {during} in {attack_s:.1f} s;"
        f" attacker filters {[s for s, _ in filters]}, searches {[s for s, _ in searches]}"
    )
    assert {status for status, _ in filters} == {503}, "an over-deadline filter must answer 503"
    assert all(elapsed < 2 * DEADLINE_S for _, elapsed in answers), "an attacker answered after the deadline"
    assert {status for status, _ in searches} == {503}, "an over-deadline search must answer 503"
    assert set(victim.statuses) <= {200, 201}, "the victim got refused"
    assert during / attack_s >= FAIR_SHARE * alone / DEADLINE_S, "the victim was starved"
