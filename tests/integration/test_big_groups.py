"""Big groups: a membership change costs the same whatever the group's size.

Speed is guarded by what makes it: the statements a request runs. Adding or removing one member
must run the same number of statements on a group of 10 and of 2,000, none of which reads the
group's member list; a read with `excludedAttributes=members` must not touch memberships at all.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractContextManager

import httpx2
import pytest
import sqlalchemy as sa

from enlist.db.rows import new_id, now
from enlist.lms.api.runtime import Portal
from enlist.lms.store import tenants as tenant_store
from enlist.lms.store.tables import group_members, users
from tests.databases import recorded_statements
from tests.helpers import GROUP, PATCH_OP, ScimTenant, make_tenant


def statements(portal: Portal) -> AbstractContextManager[list[str]]:
    """Every SQL statement the portal's database runs inside the block."""
    return recorded_statements(portal.db, lambda sql, _parameters: " ".join(sql.split()))


async def bulk_users(portal: Portal, t: ScimTenant, count: int) -> list[str]:
    """Users written straight to the store (fast), as SCIM would have made them."""
    ids = [new_id() for _ in range(count)]
    moment = now()
    rows = [
        {
            "id": uid,
            "tenant_id": t.tenant.id,
            "user_name": f"u{i}@example.com",
            "user_name_ci": f"u{i}@example.com",
            "status": "active",
            "doc": {"userName": f"u{i}@example.com"},
            "version": 1,
            "created_at": moment,
            "updated_at": moment,
            "status_changed_at": moment,
            "department_id": t.tenant.root_department_id,
        }
        for i, uid in enumerate(ids)
    ]
    async with portal.db.write() as conn:
        await conn.execute(users.insert(), rows)
    return ids


async def group_of(portal: Portal, t: ScimTenant, name: str, members: list[str]) -> str:
    group = await t.create_group(name)
    async with portal.db.write() as conn:
        await conn.execute(
            group_members.insert(),
            [
                {"group_id": group["id"], "user_id": m, "tenant_id": t.tenant.id, "added_at": now()}
                for m in members
            ],
        )
    return str(group["id"])


def reads_whole_membership(statement: str) -> bool:
    """A statement that lists a group's members (no user id in its condition)."""
    lowered = statement.lower()
    return (
        "from group_members" in lowered
        and "group_members.user_id in" not in lowered
        and ("group_members.user_id =" not in lowered)
    )


async def test_adding_and_removing_one_member_costs_the_same_in_small_and_big_groups(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    people = await bulk_users(portal, t, 2012)
    small = await group_of(portal, t, "Small", people[:10])
    big = await group_of(portal, t, "Big", people[10:2010])
    counts = {}
    for name, group_id in (("small", small), ("big", big)):
        newcomer = people[2010] if name == "small" else people[2011]
        with statements(portal) as add_sql:
            r = await t.patch(
                f"/Groups/{group_id}", [{"op": "Add", "path": "members", "value": [{"value": newcomer}]}]
            )
            assert r.status_code == 204
        with statements(portal) as remove_sql:
            r = await t.patch(
                f"/Groups/{group_id}", [{"op": "Remove", "path": "members", "value": [{"value": newcomer}]}]
            )
            assert r.status_code == 204
        assert not [s for s in add_sql + remove_sql if reads_whole_membership(s)]
        counts[name] = (len(add_sql), len(remove_sql))
    assert counts["small"] == counts["big"]
    assert await t.members(small) == set(people[:10])


async def test_excluding_members_never_reads_memberships(portal: Portal, http: httpx2.AsyncClient) -> None:
    t = await make_tenant(portal, http)
    people = await bulk_users(portal, t, 50)
    group_id = await group_of(portal, t, "Sales", people)
    with statements(portal) as sql:
        by_id = await t.get(f"/Groups/{group_id}", excludedAttributes="members")
        by_name = await t.get("/Groups", filter='displayName eq "sales"', excludedAttributes="members")
    assert by_id.status_code == by_name.status_code == 200
    assert "members" not in by_id.json()
    assert "members" not in by_name.json()["Resources"][0]
    assert not [s for s in sql if "group_members" in s.lower()]


async def test_parallel_patches_on_one_group_lose_no_member(portal: Portal, http: httpx2.AsyncClient) -> None:
    """Forty concurrent single-member adds, then twenty concurrent removes: the final member set
    equals the serial result (on PostgreSQL the requests really run in parallel transactions)."""
    t = await make_tenant(portal, http)
    people = await bulk_users(portal, t, 40)
    group_id = (await t.create_group("Everyone"))["id"]

    async def add(uid: str) -> int:
        r = await t.patch(
            f"/Groups/{group_id}", [{"op": "Add", "path": "members", "value": [{"value": uid}]}]
        )
        return r.status_code

    async def remove(uid: str) -> int:
        r = await t.patch(f"/Groups/{group_id}", [{"op": "remove", "path": f'members[value eq "{uid}"]'}])
        return r.status_code

    assert set(await asyncio.gather(*(add(u) for u in people))) == {204}
    assert set(await asyncio.gather(*(remove(u) for u in people[:20]))) == {204}
    assert await t.members(group_id) == set(people[20:])
    async with portal.db.read() as conn:
        version = (
            await conn.execute(sa.text("SELECT version FROM groups WHERE id = :g"), {"g": group_id})
        ).scalar()
    assert version == 1 + 40 + 20


# --- Whole member lists (Okta's PUT, full push and authentik's replace) -----------------------------


def writes(sql: list[str]) -> list[str]:
    return [s for s in sql if s.split(" ", 1)[0].lower() in {"insert", "update", "delete"}]


def full_list_shapes(members: list[str], name: str = "Big") -> dict[str, tuple[str, dict[str, object]]]:
    """How each client sends a group's whole member list: (method, body)."""
    listed = [{"value": m, "display": f"{m}@example.com"} for m in members]
    return {
        "okta custom app PUT": ("PUT", {"schemas": [GROUP], "displayName": name, "members": listed}),
        "okta full push replace": (
            "PATCH",
            {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "members", "value": listed}]},
        ),
        "authentik path-less replace": (
            "PATCH",
            {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"members": listed}}]},
        ),
    }


@pytest.mark.parametrize("shape", list(full_list_shapes([])))
async def test_a_whole_member_list_writes_only_the_change_whatever_the_group_size(
    portal: Portal, http: httpx2.AsyncClient, shape: str
) -> None:
    """The same change (one joiner, one leaver) sent as the whole list runs the same writes in a
    group of 20 and of 2,500: the list is applied as a delta against the stored members."""
    t = await make_tenant(portal, http)
    people = await bulk_users(portal, t, 2_524)
    counted = {}
    for size, members, newcomer in (
        (20, people[:20], people[2_520]),
        (2_500, people[20:2_520], people[2_521]),
    ):
        group_id = await group_of(portal, t, f"G{size}", members)
        wanted = [*members[1:], newcomer]
        method, body = full_list_shapes(wanted, f"G{size}")[shape]
        with statements(portal) as sql:
            r = await t.http.request(method, f"{t.base}/Groups/{group_id}", json=body, headers=t.headers())
        assert r.status_code in (200, 204), r.text
        assert await t.members(group_id) == set(wanted)
        counted[size] = len(writes(sql))
    assert counted[20] == counted[2_500]


BIG = 50_000


def many_add_operations(members: list[str]) -> dict[str, object]:
    operations = [{"op": "add", "path": "members", "value": [{"value": m}]} for m in members]
    return {"schemas": [PATCH_OP], "Operations": operations}


async def test_a_group_of_fifty_thousand_members_arrives_in_every_client_shape(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    """50,000 members: POSTed whole, PUT whole (Okta custom app), replaced in one operation
    (Okta full push, authentik) and added one operation each (authentik with no bulk limit).
    The tenant makes portal groups only: placing 50,000 joiners in a department is the
    placement rule's cost, not the membership's (docs/reference/scim-conformance.md)."""
    t = await make_tenant(portal, http)
    async with portal.db.write() as conn:
        tenant = await tenant_store.get_tenant(conn, t.tenant.slug)
        await tenant_store.save_policy(conn, tenant, tenant.policy.with_changes({"group_mode": "groups"}))
    people = await bulk_users(portal, t, BIG)
    listed = [{"value": m} for m in people]
    created = await t.post("/Groups", {"schemas": [GROUP], "displayName": "Everyone", "members": listed})
    assert created.status_code == 201, created.text[:300]
    group_id = created.json()["id"]
    assert len(await t.members(group_id)) == BIG
    half = people[: BIG // 2]
    put = await t.put(
        f"/Groups/{group_id}",
        {"schemas": [GROUP], "displayName": "Everyone", "members": [{"value": m} for m in half]},
    )
    assert put.status_code == 200, put.text[:300]
    assert await t.members(group_id) == set(half)
    replaced = await t.patch(f"/Groups/{group_id}", [{"op": "replace", "path": "members", "value": listed}])
    assert replaced.status_code == 204, replaced.text[:300]
    assert len(await t.members(group_id)) == BIG
    emptied = await t.patch(f"/Groups/{group_id}", [{"op": "replace", "path": "members", "value": []}])
    assert emptied.status_code == 204
    added = await t.http.patch(
        f"{t.base}/Groups/{group_id}", json=many_add_operations(people), headers=t.headers()
    )
    assert added.status_code == 204, added.text[:300]
    assert len(await t.members(group_id)) == BIG


async def test_a_member_list_past_the_limit_is_refused_naming_it(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    listed = [{"value": f"u{i}"} for i in range(BIG + 1)]
    r = await t.post("/Groups", {"schemas": [GROUP], "displayName": "Too many", "members": listed})
    assert r.status_code == 400
    assert "members has more than 50000 items" in r.json()["detail"]
