"""The department tree from the directory (ADR 0034), over SCIM, on SQLite and PostgreSQL.

Policies are set as `enlist lms tenant set` and the pages set them (`operations.set_policy`); a
user's department is read as its path of names from the tenant's root, straight from the tables.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enlist.db.rows import new_id, now
from enlist.lms import operations
from enlist.lms.domain.department_rule import MOVE_ATTRIBUTE
from enlist.lms.store import department_tree
from enlist.lms.store import tenants as tenant_store
from enlist.lms.store.tables import department_rule_values, departments, sync_log, users
from tests.databases import recorded_statements
from tests.helpers import ENTERPRISE, ScimTenant, make_tenant

if TYPE_CHECKING:
    import httpx2

    from enlist.lms.api.runtime import Portal

CUSTOM = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"


async def set_policy(portal: Portal, t: ScimTenant, **changes: str) -> operations.PolicySaved:
    async with portal.db.write() as conn:
        tenant = await tenant_store.get_tenant(conn, t.tenant.slug)
        saved = await operations.set_policy(conn, tenant, changes)
    t.tenant = saved.tenant
    return saved


async def tree(portal: Portal, t: ScimTenant) -> dict[tuple[str, ...], bool]:
    """Every department below the root as its path of names, with whether the rule made it."""
    async with portal.db.read() as conn:
        rows = (
            await conn.execute(
                sa.select(
                    departments.c.id, departments.c.name, departments.c.parent_id, departments.c.rule_made
                ).where(departments.c.tenant_id == t.tenant.id)
            )
        ).all()
    by_id = {r.id: r for r in rows}

    def path(department_id: str) -> tuple[str, ...]:
        row = by_id[department_id]
        return () if row.parent_id is None else (*path(row.parent_id), row.name)

    return {path(r.id): r.rule_made for r in rows if r.parent_id is not None}


async def placements(portal: Portal, t: ScimTenant) -> dict[str, tuple[str, ...]]:
    """Each user (by login) with the path of the department they are in."""
    async with portal.db.read() as conn:
        rows = (
            await conn.execute(sa.select(departments).where(departments.c.tenant_id == t.tenant.id))
        ).all()
        placed = (
            await conn.execute(
                sa.select(users.c.user_name, users.c.department_id).where(users.c.tenant_id == t.tenant.id)
            )
        ).all()
    by_id = {r.id: r for r in rows}

    def path(department_id: str) -> tuple[str, ...]:
        row = by_id[department_id]
        return () if row.parent_id is None else (*path(row.parent_id), row.name)

    return {name: path(dep) for name, dep in placed}


def enterprise(**values: str) -> dict[str, Any]:
    return {"schemas": [ENTERPRISE], ENTERPRISE: values}


async def test_a_path_in_the_department_attribute_builds_the_tree_with_its_missing_parents(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    await set_policy(portal, t, department_source="attribute")
    await t.create_user("ann@x.example", **enterprise(department="Sales/EMEA/North"))
    await t.create_user("bob@x.example", **enterprise(department=" Sales / EMEA "))
    await t.create_user("cy@x.example")
    assert await tree(portal, t) == {
        ("Sales",): True,
        ("Sales", "EMEA"): True,
        ("Sales", "EMEA", "North"): True,
    }
    assert await placements(portal, t) == {
        "ann@x.example": ("Sales", "EMEA", "North"),
        "bob@x.example": ("Sales", "EMEA"),
        "cy@x.example": (),
    }


async def test_a_custom_extension_attribute_with_its_own_separator_places_users(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    await set_policy(
        portal,
        t,
        department_source="attribute",
        department_attribute=f"{CUSTOM}:orgPath",
        department_separator=" > ",
    )
    await t.create_user(
        "ann@x.example", schemas=[CUSTOM], **{CUSTOM: {"orgPath": "R&D > Tools > North-East"}}
    )
    await t.create_user("bob@x.example", schemas=[CUSTOM], **{CUSTOM: {"orgPath": 7}})
    assert await placements(portal, t) == {
        "ann@x.example": ("R&D", "Tools", "North-East"),
        "bob@x.example": (),
    }


async def test_the_division_and_department_pair_makes_two_levels(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    await set_policy(portal, t, department_source="division")
    await t.create_user("ann@x.example", **enterprise(division="Sales", department="EMEA"))
    await t.create_user("bob@x.example", **enterprise(department="Finance"))
    await t.create_user("cy@x.example", **enterprise(division="Sales"))
    assert await placements(portal, t) == {
        "ann@x.example": ("Sales", "EMEA"),
        "bob@x.example": ("Finance",),
        "cy@x.example": ("Sales",),
    }


async def test_group_names_with_the_prefix_place_their_members_and_other_groups_make_nothing(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    await set_policy(portal, t, department_source="group_names", department_separator=" - ")
    ann = (await t.create_user("ann@x.example"))["id"]
    bob = (await t.create_user("bob@x.example"))["id"]
    await t.create_group("Dept - Sales - EMEA", [ann])
    await t.create_group("dept - Sales - North America", [ann, bob])
    await t.create_group("Everyone", [ann, bob])
    assert await tree(portal, t) == {
        ("Sales",): True,
        ("Sales", "EMEA"): True,
        ("Sales", "North America"): True,
    }
    # Ann is in two department groups: the tie-break by name picks `Dept - Sales - EMEA`.
    assert await placements(portal, t) == {
        "ann@x.example": ("Sales", "EMEA"),
        "bob@x.example": ("Sales", "North America"),
    }


async def test_a_hand_made_department_on_the_path_is_used_and_never_changed(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    async with portal.db.write() as conn:
        sales = await department_tree.create_department(conn, t.tenant, "Sales")
    await set_policy(portal, t, department_source="attribute")
    await t.create_user("ann@x.example", **enterprise(department="Sales/EMEA"))
    assert await tree(portal, t) == {("Sales",): False, ("Sales", "EMEA"): True}
    async with portal.db.read() as conn:
        row = (await conn.execute(sa.select(departments).where(departments.c.id == sales))).one()
    assert (row.name, row.parent_id, row.rule_made) == ("Sales", t.tenant.root_department_id, False)


async def test_a_department_no_one_needs_any_more_is_kept(portal: Portal, http: httpx2.AsyncClient) -> None:
    t = await make_tenant(portal, http)
    await set_policy(portal, t, department_source="attribute")
    ann = (await t.create_user("ann@x.example", **enterprise(department="Sales/EMEA")))["id"]
    r = await t.patch(
        f"/Users/{ann}", [{"op": "replace", "path": f"{ENTERPRISE}:department", "value": "Sales/APAC"}]
    )
    assert r.status_code == 200, r.text
    assert await placements(portal, t) == {"ann@x.example": ("Sales", "APAC")}
    assert set(await tree(portal, t)) == {("Sales",), ("Sales", "EMEA"), ("Sales", "APAC")}


async def test_an_admin_removes_a_department_no_one_needs_and_the_rule_makes_it_again_when_needed(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    await set_policy(portal, t, department_source="attribute")
    ann = (await t.create_user("ann@x.example", **enterprise(department="Sales/EMEA")))["id"]
    await t.create_user("bob@x.example", **enterprise(department="Sales"))
    async with portal.db.write() as conn:
        removed, moved = await operations.remove_department(conn, t.tenant, "EMEA")
    assert (removed.name, moved) == ("EMEA", 1)
    assert await placements(portal, t) == {"ann@x.example": ("Sales",), "bob@x.example": ("Sales",)}
    r = await t.patch(f"/Users/{ann}", [{"op": "replace", "path": "title", "value": "Lead"}])
    assert r.status_code == 200
    assert (await placements(portal, t))["ann@x.example"] == ("Sales", "EMEA")
    async with portal.db.write() as conn:
        with pytest.raises(department_tree.DepartmentError, match="root department and cannot be removed"):
            await operations.remove_department(conn, t.tenant, t.tenant.root_department_id)


async def test_the_sync_log_entry_of_a_write_carries_the_move_as_paths(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http, "Contoso")
    await set_policy(portal, t, department_source="attribute")
    ann = (await t.create_user("ann@x.example", **enterprise(department="Sales/EMEA")))["id"]
    r = await t.patch(
        f"/Users/{ann}",
        [{"op": "replace", "path": f"{ENTERPRISE}:department", "value": "Sales/North America"}],
    )
    assert r.status_code == 200, r.text
    async with portal.db.read() as conn:
        logged = (
            await conn.execute(sa.select(sync_log.c.action, sync_log.c.changes).order_by(sync_log.c.id))
        ).all()
    moves = [(action, c) for action, changes in logged for c in changes if c["attribute"] == MOVE_ATTRIBUTE]
    assert moves == [
        ("create", {"attribute": MOVE_ATTRIBUTE, "old": ["Contoso"], "new": ["Contoso", "Sales", "EMEA"]}),
        (
            "update",
            {
                "attribute": MOVE_ATTRIBUTE,
                "old": ["Contoso", "Sales", "EMEA"],
                "new": ["Contoso", "Sales", "North America"],
            },
        ),
    ]


async def bulk_users(portal: Portal, t: ScimTenant, count: int, paths: list[str]) -> None:
    """Users written straight to the store (fast), as SCIM would have made them, with paths
    taken in turn from `paths`."""
    moment = now()
    rows = [
        {
            "id": new_id(),
            "tenant_id": t.tenant.id,
            "user_name": f"u{i}@example.com",
            "user_name_ci": f"u{i}@example.com",
            "status": "active",
            "doc": {"userName": f"u{i}@example.com", ENTERPRISE: {"department": paths[i % len(paths)]}},
            "version": 1,
            "created_at": moment,
            "updated_at": moment,
            "status_changed_at": moment,
            "department_id": t.tenant.root_department_id,
        }
        for i in range(count)
    ]
    async with portal.db.write() as conn:
        await conn.execute(users.insert(), rows)


PATHS = ["Sales/EMEA/North", "Sales/EMEA/South", "Sales/North America", "Engineering/Tools", "Finance"]


async def test_changing_the_rule_moves_every_existing_user_at_once(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    await bulk_users(portal, t, 50, PATHS)
    saved = await set_policy(portal, t, department_source="attribute")
    assert saved.replaced == 50
    placed = await placements(portal, t)
    assert placed["u0@example.com"] == ("Sales", "EMEA", "North")
    assert placed["u4@example.com"] == ("Finance",)
    saved = await set_policy(portal, t, department_separator="|")  # no path has a | : one level each
    assert saved.replaced == 40  # the people of `Finance` stay where they are
    assert (await placements(portal, t))["u0@example.com"] == ("Sales/EMEA/North",)
    saved = await set_policy(portal, t, department_source="none")
    assert set((await placements(portal, t)).values()) == {()}
    async with portal.db.read() as conn:
        moves = await conn.scalar(
            sa.select(sa.func.count()).select_from(sync_log).where(sync_log.c.action == "move")
        )
        scratch = await conn.scalar(sa.select(sa.func.count()).select_from(department_rule_values))
    assert moves == 90  # each rule change logs its moves; switching the rule off logs none
    assert scratch == 0


async def test_a_rule_change_runs_as_many_statements_for_2000_users_as_for_100(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    counts = []
    for size in (100, 2000):
        t = await make_tenant(portal, http, f"tenant {size}")
        await bulk_users(portal, t, size, PATHS)
        with recorded_statements(portal.db, lambda sql, _parameters: sql) as sql:
            saved = await set_policy(portal, t, department_source="attribute")
        assert saved.replaced == size
        counts.append(len(sql))
        with recorded_statements(portal.db, lambda sql, _parameters: sql) as sql:
            saved = await set_policy(portal, t, department_separator="|")
        assert saved.replaced == size * 4 // 5
        counts.append(len(sql))
    assert counts[0] == counts[2]
    assert counts[1] == counts[3]


tenant_numbers = itertools.count()


def interleaving(lengths: list[int]) -> st.SearchStrategy[list[tuple[int, int]]]:
    """Every order of the operations (resource, k-th of its own) that keeps each resource's own
    operations in their order: a client's requests for different resources arrive in any order."""
    tokens = [i for i, n in enumerate(lengths) for _ in range(n)]

    def numbered(order: list[int]) -> list[tuple[int, int]]:
        seen: dict[int, int] = {}
        out = []
        for i in order:
            out.append((i, seen.get(i, 0)))
            seen[i] = seen.get(i, 0) + 1
        return out

    return st.permutations(tokens).map(numbered)


def with_an_interleaving(histories: st.SearchStrategy[list[Any]]) -> st.SearchStrategy[Any]:
    """Histories of requests per resource, with a drawn interleaving of them. Drawn before the
    test runs (not with `st.data()` inside it: a draw that overruns inside the anyio runner
    is lost as a closed-stream error instead of a discarded example)."""
    return histories.flatmap(lambda h: st.tuples(st.just(h), interleaving([len(x) for x in h])))


VALUES = st.sampled_from(
    ["Sales/EMEA", "Sales/APAC", " Sales / EMEA ", "Sales", "Engineering/Tools", "", "R&D"]
)
HISTORIES = with_an_interleaving(st.lists(st.lists(VALUES, min_size=1, max_size=3), min_size=1, max_size=4))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=HISTORIES)
async def test_the_order_user_requests_arrive_in_changes_neither_the_tree_nor_the_placements(
    portal: Portal, http: httpx2.AsyncClient, drawn: tuple[list[list[str]], list[tuple[int, int]]]
) -> None:
    """Each user is created with a department path and changed to others; two tenants get the
    same requests, one user after another and in a drawn interleaving."""
    histories, interleaved = drawn
    orders = [[(i, k) for i, history in enumerate(histories) for k in range(len(history))], interleaved]
    results = []
    for order in orders:
        t = await make_tenant(portal, http, f"order {next(tenant_numbers)}")
        await set_policy(portal, t, department_source="attribute")
        ids: dict[int, str] = {}
        for i, k in order:
            value = histories[i][k]
            if k == 0:
                ids[i] = (await t.create_user(f"u{i}@x.example", **enterprise(department=value)))["id"]
            else:
                op = {"op": "replace", "path": f"{ENTERPRISE}:department", "value": value}
                assert (await t.patch(f"/Users/{ids[i]}", [op])).status_code == 200
        results.append((await tree(portal, t), await placements(portal, t)))
    assert results[0] == results[1]


GROUP_NAMES = ["Dept - Sales - EMEA", "Dept - Sales", "dept - Sales - APAC", "Everyone"]
MEMBER_SETS = st.lists(st.sets(st.integers(0, 2)), min_size=1, max_size=3)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=with_an_interleaving(st.lists(MEMBER_SETS, min_size=1, max_size=len(GROUP_NAMES))))
async def test_the_order_group_requests_arrive_in_changes_neither_the_tree_nor_the_placements(
    portal: Portal, http: httpx2.AsyncClient, drawn: tuple[list[list[set[int]]], list[tuple[int, int]]]
) -> None:
    """Each group is created with members and given other member lists (prefix rule); two
    tenants get the same requests, one group after another and in a drawn interleaving."""
    histories, interleaved = drawn
    orders = [[(i, k) for i, history in enumerate(histories) for k in range(len(history))], interleaved]
    results = []
    for order in orders:
        t = await make_tenant(portal, http, f"order {next(tenant_numbers)}")
        await set_policy(portal, t, department_source="group_names", department_separator=" - ")
        people = [(await t.create_user(f"u{n}@x.example"))["id"] for n in range(3)]
        ids: dict[int, str] = {}
        for i, k in order:
            members = [people[n] for n in sorted(histories[i][k])]
            if k == 0:
                ids[i] = (await t.create_group(GROUP_NAMES[i], members))["id"]
            else:
                op = {"op": "replace", "path": "members", "value": [{"value": m} for m in members]}
                assert (await t.patch(f"/Groups/{ids[i]}", [op])).status_code == 204
        results.append((await tree(portal, t), await placements(portal, t)))
    assert results[0] == results[1]


async def test_concurrent_writes_needing_the_same_new_path_make_it_once(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    """On PostgreSQL the requests run in parallel transactions: the tenant lock and the second
    read of the tree keep them from making `Sales/EMEA` twice."""
    t = await make_tenant(portal, http)
    await set_policy(portal, t, department_source="attribute")
    await asyncio.gather(
        *(t.create_user(f"u{n}@x.example", **enterprise(department="Sales/EMEA")) for n in range(12))
    )
    assert await tree(portal, t) == {("Sales",): True, ("Sales", "EMEA"): True}
    assert set((await placements(portal, t)).values()) == {("Sales", "EMEA")}
