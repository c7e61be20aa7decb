"""What one statement may cost, and what one commit promises (issue #10, ADR 0012).

- A substring operand (`co`, `sw`, `ew` in a SCIM filter; `q` in the sync-log search) longer than
  its limit is a 400 that names the limit, for every attribute that takes one.
- A stored value longer than its column is a 400 naming the limit, on SQLite as on PostgreSQL.
- An SQLite read that outgrows its slice of the event loop moves to the slow lane: while it runs,
  other tasks keep running.
- Every SQLite connection the Database opens commits with `synchronous=FULL`.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa

from enlist.db.admission import DEADLINE, TENANT
from enlist.db.database import Database
from enlist.lms.api.runtime import Portal
from enlist.lms.store.filter_sql import MAX_SUBSTRING_OPERAND
from enlist.lms.store.synclog import MAX_TEXT_LENGTH
from tests.helpers import GROUP, USER, assert_api_error, make_tenant
from tests.integration.test_bad_input import assert_scim_error

SUBSTRING_FILTERS = [
    ("/Users", "userName"),
    ("/Users", "displayName"),
    ("/Users", "emails.value"),
    ("/Users", "emails"),
    ("/Users", "name.familyName"),
    ("/Users", "externalId"),
    ("/Users", "title"),
    ("/Groups", "displayName"),
    ("/Groups", "externalId"),
]
FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


@pytest.mark.parametrize("op", ["co", "sw", "ew"])
@pytest.mark.parametrize(("endpoint", "attribute"), SUBSTRING_FILTERS)
async def test_a_substring_operand_over_the_limit_is_400_naming_the_limit(
    portal: Portal, http: httpx2.AsyncClient, endpoint: str, attribute: str, op: str
) -> None:
    t = await make_tenant(portal, http)
    at_limit = await t.get(endpoint, filter=f'{attribute} {op} "{"x" * MAX_SUBSTRING_OPERAND}"')
    assert at_limit.status_code == 200, at_limit.text
    over = await t.get(endpoint, filter=f'{attribute} {op} "{"x" * (MAX_SUBSTRING_OPERAND + 1)}"')
    assert_scim_error(over, 400, str(MAX_SUBSTRING_OPERAND), scim_type="invalidFilter")


async def test_a_sync_log_search_over_the_limit_is_400_naming_the_limit(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    path = f"/api/v1/tenants/{t.tenant.slug}/sync-log"
    headers = {"Authorization": f"Bearer {t.token}"}
    at_limit = await http.get(path, params={"q": "x" * MAX_TEXT_LENGTH}, headers=headers)
    assert at_limit.status_code == 200, at_limit.text
    over = await http.get(path, params={"q": "x" * (MAX_TEXT_LENGTH + 1)}, headers=headers)
    assert_api_error(over, 400, "q", str(MAX_TEXT_LENGTH))


@pytest.mark.parametrize("database_kind", ["sqlite"])
async def test_a_slow_sqlite_read_runs_off_the_event_loop(lms_database_url: str) -> None:
    """A read of about a second (a LIKE over a long value, many times): the event loop keeps
    turning meanwhile, and the statement ran on the slow lane."""
    db = Database(lms_database_url)
    slow = sa.text(
        "SELECT count(*) FROM json_each(:rows)"
        " WHERE printf('%.*c', 20000 + value, 'a') LIKE '%' || printf('%.*c', 255, 'a') || 'b%'"
    )
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.001)
            ticks += 1

    TENANT.set("acme")
    ticker = asyncio.create_task(tick())
    try:
        async with db.read() as conn:
            assert (await conn.execute(slow, {"rows": json.dumps(list(range(100)))})).scalar_one() == 0
        inline_ticks = ticks
    finally:
        ticker.cancel()
        await db.dispose()
    assert db.slow_lane.ran == 1
    # Inline, the loop would have turned no more than once or twice; at one tick a millisecond
    # the statement's second leaves room for hundreds even on a loaded machine.
    assert inline_ticks >= 50, inline_ticks


@pytest.mark.parametrize("database_kind", ["sqlite"])
@pytest.mark.parametrize("inline", [True, False])
async def test_every_sqlite_connection_commits_with_synchronous_full(
    lms_database_url: str, inline: bool
) -> None:
    db = Database(lms_database_url, inline=inline)
    seen: list[int] = []
    opened = asyncio.Event()
    readers = 12  # more than the inline engine keeps open, so some are new connections

    async def read() -> None:
        async with db.read() as conn:
            seen.append((await conn.execute(sa.text("PRAGMA synchronous"))).scalar_one())
            if len(seen) >= readers:
                opened.set()
            await opened.wait()  # all open at once: as many connections as readers

    try:
        await asyncio.gather(*(read() for _ in range(readers)))
        for _ in range(3):
            async with db.write() as conn:
                seen.append((await conn.execute(sa.text("PRAGMA synchronous"))).scalar_one())
        async with db.engine.connect() as conn:
            seen.append((await conn.execute(sa.text("PRAGMA synchronous"))).scalar_one())
    finally:
        await db.dispose()
    assert seen == [FULL] * (readers + 4)


STORED = [
    ("/Users", "userName", 512, lambda v: {"userName": v}),
    ("/Users", "displayName", 512, lambda v: {"displayName": v}),
    ("/Users", "externalId", 512, lambda v: {"externalId": v}),
    ("/Users", "name.familyName", 256, lambda v: {"name": {"familyName": v}}),
    ("/Users", "title", 256, lambda v: {"title": v}),
    ("/Users", "emails.value", 512, lambda v: {"emails": [{"value": "a@x"}, {"value": v}]}),
    ("/Groups", "displayName", 256, lambda v: {"displayName": v}),  # the department it may become
    ("/Groups", "externalId", 512, lambda v: {"externalId": v}),
]


@pytest.mark.parametrize(
    ("endpoint", "attribute", "limit", "shape"), STORED, ids=[f"{e}-{a}" for e, a, _, _ in STORED]
)
async def test_a_stored_value_longer_than_its_column_is_400_naming_the_limit(
    portal: Portal, http: httpx2.AsyncClient, endpoint: str, attribute: str, limit: int, shape: Any
) -> None:
    t = await make_tenant(portal, http)
    schema = USER if endpoint == "/Users" else GROUP

    def body(n: int, value: str) -> dict[str, Any]:
        base = {"userName": f"u{n}@x"} if endpoint == "/Users" else {"displayName": f"g{n}"}
        return {"schemas": [schema], **base, **shape(value)}

    at_limit = await t.post(endpoint, body(1, "x" * limit))
    assert at_limit.status_code == 201, at_limit.text
    over = await t.post(endpoint, body(2, "y" * (limit + 1)))
    assert_scim_error(over, 400, attribute, str(limit))


@pytest.mark.parametrize("database_kind", ["sqlite"])
async def test_an_sqlite_write_still_running_at_the_deadline_is_cancelled_by_it_and_rolled_back(
    lms_database_url: str,
) -> None:
    """A write of about a second, inline on the event loop, under a 0.2 s deadline: the
    deadline's own cancellation ends it (not an error a handler would turn into a 500), and
    nothing it wrote stays."""
    db = Database(lms_database_url)
    slow_write = sa.text(
        "INSERT INTO tenants (slug, name, policy, created_at)"
        " SELECT 'x' || value, 'x', '{}', '2026-01-01' FROM json_each(:rows)"
        " WHERE printf('%.*c', 20000 + value, 'a') NOT LIKE '%' || printf('%.*c', 255, 'a') || 'b%'"
    )
    deadline = asyncio.timeout(0.2)
    outcome = "finished"
    try:
        try:
            async with deadline:
                DEADLINE.set(time.monotonic() + 0.2)
                try:
                    async with db.write() as conn:
                        await conn.execute(slow_write, {"rows": json.dumps(list(range(100)))})
                except Exception:  # noqa: BLE001 - as a handler does: an error becomes a 500
                    outcome = "handled as an error"
        except TimeoutError:
            outcome = "cancelled by the deadline" if outcome == "finished" else outcome
        assert outcome == "cancelled by the deadline"
        assert deadline.expired()
        DEADLINE.set(None)
        async with db.read() as conn:
            assert (await conn.execute(sa.text("SELECT count(*) FROM tenants"))).scalar_one() == 0
    finally:
        await db.dispose()
