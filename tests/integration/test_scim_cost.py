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

import re
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from enlist.db.prepared import Prepared
from enlist.db.rows import new_id, now
from enlist.lms.api.runtime import Portal
from enlist.lms.store import departments as departments_store
from enlist.lms.store import synclog
from enlist.lms.store.tables import departments, users
from tests.databases import recorded_statements
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


def statements(portal: Portal) -> AbstractContextManager[list[Statement]]:
    """Every statement (BEGIN included) the portal's database runs inside the block."""
    return recorded_statements(portal.db, Statement)


def work(seen: list[Statement]) -> list[Statement]:
    """The statements that read or write data (not BEGIN/COMMIT)."""
    return [s for s in seen if not s.is_transaction_control]


async def uses_index(portal: Portal, statement: Statement) -> bool:
    """Whether the plan finds rows through an index and never scans a whole table (SQLite:
    every step a SEARCH; PostgreSQL: Index Scans, no Seq Scan). SQLite's `correlated scalar
    subquery` lines head the steps of a subquery; they read nothing themselves."""
    text = await plan(portal, statement)
    if portal.db.is_sqlite:
        headings = ("use temp b-tree", "correlated scalar subquery")
        steps = [step.strip() for step in text.split(" | ") if not step.strip().startswith(headings)]
        return all(step.startswith("search") for step in steps)
    return "index" in text and "seq scan" not in text


async def assert_indexed(portal: Portal, ran: list[Statement]) -> None:
    """Every statement of `ran` finds its rows through an index (`uses_index`)."""
    for statement in ran:
        assert await uses_index(portal, statement), (await plan(portal, statement), statement.text)


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
    await assert_indexed(portal, ran)


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
    await assert_indexed(portal, ran)


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
    await assert_indexed(portal, [s for s in ran if s.text.startswith("select")])
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
    await assert_indexed(portal, [s for s in ran if s.text.startswith("select")])
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


async def placements(portal: Portal, tenant_id: int) -> dict[str, str | None]:
    async with portal.db.read() as conn:
        rows = await conn.execute(
            sa.select(users.c.id, users.c.department_id).where(users.c.tenant_id == tenant_id)
        )
        return {row[0]: row[1] for row in rows}


async def test_adding_members_places_them_in_statements_that_do_not_grow_with_members_or_their_groups(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    """Entra adds members in chunks; placing a chunk never reads every group of every member,
    and lands each member where placing them from all their groups would."""
    t = await make_tenant(portal, http)
    few = await some_users(t, 2)
    many = [(await t.create_user(f"member{i}@example.com"))["id"] for i in range(20)]
    for name in ("Delta", "Charlie", "Bravo"):
        group = await t.create_group(name)
        response = await t.patch(f"/Groups/{group['id']}", [add_members(many)])
        assert response.status_code == 204, response.text
    alpha, zulu = (await t.create_group("Alpha"))["id"], (await t.create_group("Zulu"))["id"]

    with statements(portal) as seen:
        assert (await t.patch(f"/Groups/{zulu}", [add_members(few)])).status_code == 204
    # Members without groups, into a group ranked last: they land there.
    baseline = work(seen)
    with statements(portal) as seen:
        assert (await t.patch(f"/Groups/{alpha}", [add_members(many)])).status_code == 204
    ran = work(seen)
    # Ten times the members, each in three other department-groups: the same statements.
    assert len(ran) == len(baseline), ([s.text for s in ran], [s.text for s in baseline])
    assert not [s for s in ran if "join groups on groups.id = group_members.group_id" in s.text]
    with statements(portal) as seen:
        assert (await t.patch(f"/Groups/{zulu}", [add_members(many)])).status_code == 204
    assert len(work(seen)) <= len(baseline)  # nobody moves: Alpha ranks above Zulu

    placed = await placements(portal, t.tenant.id)
    async with portal.db.write() as conn:
        await departments_store.place_everyone(conn, t.tenant)
    assert await placements(portal, t.tenant.id) == placed, "a full re-placement moves nobody"
    departments_by_group = {row["id"]: row for row in await department_rows(portal, t.tenant.id)}
    assert {placed[m] for m in many} == {departments_by_group[alpha]["department"]}
    assert {placed[m] for m in few} == {departments_by_group[zulu]["department"]}


def add_members(user_ids: list[str]) -> dict[str, Any]:
    return {"op": "add", "path": "members", "value": [{"value": u} for u in user_ids]}


async def department_rows(portal: Portal, tenant_id: int) -> list[dict[str, Any]]:
    async with portal.db.read() as conn:
        rows = await conn.execute(
            sa.select(departments.c.source_group_id, departments.c.id).where(
                (departments.c.tenant_id == tenant_id) & departments.c.source_group_id.is_not(None)
            )
        )
        return [{"id": row[0], "department": row[1]} for row in rows]


TENANT_WALK = re.compile(r"search (\w+) using (?:covering )?index \w+ \(tenant_id=\?\)")


async def test_a_chunk_of_members_is_found_by_key_never_by_walking_the_tenant(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    """Entra adds and removes members fifty at a time. SQLite plans without statistics and
    would take `tenant_id = ?` on a (tenant_id, …) index over fifty ids on the key: every
    statement of such a PATCH must find its rows by id, whatever the tenant's size."""
    if not portal.db.is_sqlite:
        pytest.skip("PostgreSQL's planner has statistics; the unary plus is SQLite's")
    t = await make_tenant(portal, http)
    people = await some_users(t, 12)
    sales, support = (await t.create_group("Sales"))["id"], (await t.create_group("Support"))["id"]
    assert (await t.patch(f"/Groups/{support}", [add_members(people[:4])])).status_code == 204
    with statements(portal) as seen:
        assert (await t.patch(f"/Groups/{sales}", [add_members(people)])).status_code == 204
        remove = {"op": "remove", "path": "members", "value": [{"value": u} for u in people[6:]]}
        assert (await t.patch(f"/Groups/{sales}", [remove])).status_code == 204
    chunked = [s for s in work(seen) if " in (" in s.text and not s.text.startswith("insert")]
    assert chunked, "the PATCHes looked their members up in chunks"
    walks = {s.text: TENANT_WALK.findall(await plan(portal, s)) for s in chunked}
    assert not any(walks.values()), walks
    assert await t.members(sales) == set(people[:6])
