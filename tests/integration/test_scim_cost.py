"""What the SCIM requests of an Entra cycle cost, counted in statements, never in seconds.

The portal is fast because each request Entra sends runs a handful of statements, each an
indexed lookup or a single-row write: asking whether a user or group exists is one lookup on a
unique index, creating a user is a bounded number of writes (the sync log entry among them),
adding a member touches that member's rows only. These tests count the statements a request runs
(SQLAlchemy's `before_cursor_execute`, which the portal's prepared statements announce too) and
ask the database's planner (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL) whether each
lookup uses an index.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from enlist.db.prepared import Prepared
from enlist.lms.api.runtime import Portal
from enlist.lms.store import synclog
from enlist.lms.store.rows import new_id, now
from enlist.lms.store.tables import users
from tests.helpers import ScimTenant, make_tenant

SCHEMA_USER = "urn:ietf:params:scim:schemas:core:2.0:User"


@dataclass(frozen=True)
class Statement:
    sql: str
    parameters: Any

    @property
    def text(self) -> str:
        return " ".join(self.sql.split()).lower()

    @property
    def is_transaction_control(self) -> bool:
        return self.text.split(" ", 1)[0] in {"begin", "commit", "rollback"}


@contextmanager
def statements(portal: Portal) -> Iterator[list[Statement]]:
    """Every statement (BEGIN included) the portal's database runs inside the block."""
    seen: list[Statement] = []

    def listen(_conn: Any, _cursor: Any, sql: str, parameters: Any, *_args: Any) -> None:
        seen.append(Statement(sql, parameters))

    engines = {portal.db.engine.sync_engine, portal.db._reader.sync_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", listen)


def work(seen: list[Statement]) -> list[Statement]:
    """The statements that read or write data (not BEGIN/COMMIT)."""
    return [s for s in seen if not s.is_transaction_control]


async def uses_index(portal: Portal, statement: Statement) -> bool:
    """Whether the plan finds rows through an index and never scans a whole table (SQLite:
    every step a SEARCH; PostgreSQL: Index Scans, no Seq Scan)."""
    text = await plan(portal, statement)
    if portal.db.is_sqlite:
        steps = [step.strip() for step in text.split(" | ") if not step.strip().startswith("use temp b-tree")]
        return all(step.startswith("search") for step in steps)
    return "index" in text and "seq scan" not in text


async def plan(portal: Portal, statement: Statement) -> str:
    """The planner's plan for `statement` with the parameters it ran with, as one lower-case text.
    PostgreSQL is told to avoid sequential scans, so on tiny test tables the plan shows whether
    an index *can* serve the lookup rather than what is cheapest for five rows."""
    async with portal.db.read() as conn:
        if portal.db.is_sqlite:
            rows = await conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {statement.sql}", tuple(statement.parameters)
            )
            return " | ".join(str(r[-1]) for r in rows).lower()
        await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = await conn.exec_driver_sql(f"EXPLAIN {statement.sql}", tuple(statement.parameters))
        return " | ".join(str(r[0]) for r in rows).lower()


async def some_users(t: ScimTenant, count: int) -> list[str]:
    return [
        (await t.create_user(f"person{i}@example.com", emails=[{"value": f"person{i}@example.com"}]))["id"]
        for i in range(count)
    ]


async def test_a_filter_by_user_name_is_one_indexed_lookup_and_no_count(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    await some_users(t, 5)
    with statements(portal) as seen:
        found = await t.get("/Users", filter='userName eq "PERSON3@example.com"')
    assert found.status_code == 200
    assert found.json()["totalResults"] == 1
    assert found.json()["Resources"][0]["userName"] == "person3@example.com"
    ran = work(seen)
    # The token check, the user by login, the user's groups: nothing else, and no count(*).
    assert len(ran) == 3, [s.text for s in ran]
    assert not [s for s in ran if "count(" in s.text]
    lookups = [s for s in ran if "from users" in s.text]
    assert len(lookups) == 1
    assert "user_name_ci = " in lookups[0].text
    for statement in ran:
        assert await uses_index(portal, statement), (statement.text, await plan(portal, statement))


async def test_a_filter_that_finds_nobody_is_still_one_lookup(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    await some_users(t, 2)
    with statements(portal) as seen:
        found = await t.get("/Users", filter='userName eq "nobody@example.com"')
    assert found.json()["totalResults"] == 0
    assert found.json()["Resources"] == []
    # The token check and the lookup: an empty page reads no groups.
    assert len(work(seen)) == 2


async def test_a_group_filter_by_display_name_without_members_is_one_indexed_lookup(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    await t.create_group("Sales")
    await t.create_group("Support")
    with statements(portal) as seen:
        found = await t.http.get(
            t.base + "/Groups",
            params={"filter": 'displayName eq "sales"', "excludedAttributes": "members"},
            headers=t.headers(),
        )
    assert found.status_code == 200
    assert found.json()["totalResults"] == 1
    assert found.json()["Resources"][0]["displayName"] == "Sales"
    ran = work(seen)
    assert len(ran) == 2, [s.text for s in ran]  # the token check, the group by name
    assert "display_name_ci = " in ran[1].text
    for statement in ran:
        assert await uses_index(portal, statement), (statement.text, await plan(portal, statement))


async def test_a_general_filter_reads_a_short_page_without_counting(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    await some_users(t, 4)
    with statements(portal) as seen:
        found = await t.get("/Users", filter='userName sw "person"', count="10", attributes="userName")
    assert found.json()["totalResults"] == 4
    assert not [s for s in work(seen) if "count(" in s.text]
    with statements(portal) as seen:
        paged = await t.get("/Users", filter='userName sw "person"', count="2", attributes="userName")
    # A full page cannot tell the total: then, and only then, it is counted.
    assert paged.json()["totalResults"] == 4
    assert len(paged.json()["Resources"]) == 2
    assert len([s for s in work(seen) if "count(" in s.text]) == 1


async def test_creating_a_user_runs_a_bounded_number_of_statements_and_logs_it(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    body = {
        "schemas": [SCHEMA_USER],
        "userName": "new@example.com",
        "active": True,
        "emails": [{"value": "new@example.com", "type": "work", "primary": True}],
    }
    with statements(portal) as seen:
        created = await t.post("/Users", body)
    assert created.status_code == 201, created.text
    ran = work(seen)
    # Token check, login taken?, the user, their email, the sync log entry: groups are not read
    # (a new user has none).
    assert len(ran) == 5, [s.text for s in ran]
    assert not [s for s in ran if "group_members" in s.text]
    assert len([s for s in ran if s.text.startswith("insert into sync_log")]) == 1
    for statement in ran:
        if statement.text.startswith("select"):
            assert await uses_index(portal, statement), (statement.text, await plan(portal, statement))
    async with portal.db.read() as conn:
        entries = await synclog.read(conn, t.tenant.id, synclog.LogQuery())
    assert entries[0]["action"] == "create"
    assert entries[0]["resource_id"] == created.json()["id"]
    assert {c["attribute"] for c in entries[0]["changes"]} >= {"userName", "emails"}


async def test_adding_one_member_runs_a_bounded_number_of_indexed_statements(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    people = await some_users(t, 3)
    group_id = (await t.create_group("Sales", people[:2]))["id"]
    operations = [{"op": "Add", "path": "members", "value": [{"value": people[2]}]}]
    with statements(portal) as seen:
        added = await t.patch(f"/Groups/{group_id}", operations)
    assert added.status_code == 204, added.text
    ran = work(seen)
    assert len(ran) <= 11, [s.text for s in ran]
    assert len([s for s in ran if s.text.startswith("insert into sync_log")]) == 1
    for statement in ran:
        if statement.text.startswith("select"):
            assert await uses_index(portal, statement), (statement.text, await plan(portal, statement))
    async with portal.db.read() as conn:
        entries = await synclog.read(conn, t.tenant.id, synclog.LogQuery())
    assert entries[0]["action"] == "update"
    assert entries[0]["changes"], "the log names the member added"
    assert await t.members(group_id) == set(people)


async def test_a_prepared_statement_raises_the_errors_conn_execute_would(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    """A duplicate that a race lets past a check must still surface as SQLAlchemy's
    IntegrityError (which the service turns into a 409), not as a driver error (a 500)."""
    t = await make_tenant(portal, http)
    taken = await t.create_user("taken@example.com")
    duplicate = Prepared(
        users.insert().values(
            id=sa.bindparam("id"),
            tenant_id=sa.bindparam("tenant_id"),
            user_name=sa.bindparam("login"),
            user_name_ci=sa.bindparam("login"),
            status="active",
            doc={},
            version=1,
            created_at=sa.bindparam("moment"),
            updated_at=sa.bindparam("moment"),
            status_changed_at=sa.bindparam("moment"),
        )
    )
    with pytest.raises(IntegrityError):
        async with portal.db.write() as conn:
            await duplicate.run(
                conn, id=new_id(), tenant_id=t.tenant.id, login="taken@example.com", moment=now()
            )
    assert await t.find_user("taken@example.com") == taken
