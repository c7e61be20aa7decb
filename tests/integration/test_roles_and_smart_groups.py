"""Portal roles granted by IdP groups and smart groups selected by a SCIM filter (issue 14).

Both are read from the rules and the current users, groups, memberships and department tree
(ADR 0037): whatever order the identity provider's requests and the admin's rules arrive in, the
same final state gives the same roles and smart groups, with the same reasons.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enlist.lms import operations, role_operations
from enlist.lms.api.runtime import Portal
from enlist.lms.domain.roles import RoleRuleError
from enlist.lms.domain.smart_groups import SmartGroupError
from enlist.lms.store import roles as role_store
from enlist.lms.store import smart_groups as smart_store
from enlist.lms.store import tenants as tenant_store
from tests.databases import recorded_statements
from tests.helpers import GROUP, USER, ScimTenant, make_tenant

_tenants = itertools.count()
SMART_RULE = 'department sw "Sales" and title co "manager"'


async def access(portal: Portal, t: ScimTenant, user_id: str) -> dict[str, Any]:
    async with portal.db.read() as conn:
        return (await role_operations.access_of(conn, t.tenant, user_id)).to_json()


async def reasons(portal: Portal, t: ScimTenant, user_id: str) -> tuple[list[str], list[str]]:
    found = await access(portal, t, user_id)
    return [r["reason"] for r in found["roles"]], [s["reason"] for s in found["smartGroups"]]


class World:
    """One arrival of the steps below; `ids` holds what SCIM answered."""

    def __init__(self, portal: Portal, t: ScimTenant) -> None:
        self.portal, self.t, self.ids = portal, t, {}  # type: ignore[var-annotated]

    async def admin(self, work: Callable[[Any], Awaitable[object]]) -> None:
        async with self.portal.db.write() as conn:
            tenant = await tenant_store.get_tenant(conn, self.t.tenant.slug)
            await work(conn)
            self.t.tenant = tenant

    async def user(self, key: str, title: str) -> None:
        body = {"schemas": [USER], "userName": f"{key}@acme.example", "title": title}
        self.ids[key] = (await self.t.post("/Users", body)).json()["id"]

    async def group(self, key: str, name: str, external_id: str) -> None:
        body = {"schemas": [GROUP], "displayName": name, "externalId": external_id}
        response = await self.t.post("/Groups", body)
        assert response.status_code == 201, response.text
        self.ids[key] = response.json()["id"]

    async def member(self, group: str, user: str) -> None:
        op = [{"op": "add", "path": "members", "value": [{"value": self.ids[user]}]}]
        response = await self.t.patch(f"/Groups/{self.ids[group]}", op)
        assert response.status_code in (200, 204), response.text


async def _hand_made_sales(world: World) -> None:
    async def work(conn: Any) -> None:
        await operations.create_department(conn, world.t.tenant, "Sales", None)
        await operations.move_department(conn, world.t.tenant, "EMEA", "Sales")

    await world.admin(work)


# Each step: (name, what it needs done first, what it does).
STEPS: dict[str, tuple[tuple[str, ...], Callable[[World], Awaitable[None]]]] = {
    "ann": ((), lambda w: w.user("ann", "Sales Manager")),
    "bob": ((), lambda w: w.user("bob", "Engineer")),
    "managers": ((), lambda w: w.group("managers", "Sales Managers", "ext-managers")),
    "emea": ((), lambda w: w.group("emea", "EMEA", "ext-emea")),
    "ann in managers": (("ann", "managers"), lambda w: w.member("managers", "ann")),
    "bob in managers": (("bob", "managers"), lambda w: w.member("managers", "bob")),
    "ann in emea": (("ann", "emea"), lambda w: w.member("emea", "ann")),
    "bob in emea": (("bob", "emea"), lambda w: w.member("emea", "bob")),
    "emea under sales": (("emea",), _hand_made_sales),
    "manager rule": (
        (),
        lambda w: w.admin(
            lambda c: role_operations.add_role_rule(c, w.t.tenant, "sales managers", "manager", None)
        ),
    ),
    "admin rule": (
        ("emea under sales",),  # names a department, so it needs the tree
        lambda w: w.admin(
            lambda c: role_operations.add_role_rule(c, w.t.tenant, "ext-emea", "department_admin", "Sales")
        ),
    ),
    "smart group": (
        (),
        lambda w: w.admin(
            lambda c: role_operations.add_smart_group(c, w.t.tenant, "Sales leads", SMART_RULE)
        ),
    ),
}

EXPECTED_ANN = (
    [
        "manager because member of IdP group Sales Managers",
        "administrator of Sales because member of IdP group EMEA",
    ],
    [f"member of smart group Sales leads because {SMART_RULE}"],
)
EXPECTED_BOB = (
    [
        "manager because member of IdP group Sales Managers",
        "administrator of Sales because member of IdP group EMEA",
    ],
    [],
)


def arrival(order: list[str]) -> list[str]:
    """`order` with each step moved after the steps it needs (otherwise kept as drawn)."""
    done: list[str] = []
    waiting = list(order)
    while waiting:
        ready = next(step for step in waiting if all(need in done for need in STEPS[step][0]))
        waiting.remove(ready)
        done.append(ready)
    return done


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(sorted(STEPS)))
async def test_roles_and_smart_groups_do_not_depend_on_arrival_order(
    portal: Portal, http: httpx2.AsyncClient, order: list[str]
) -> None:
    t = await make_tenant(portal, http, f"order{next(_tenants)}")
    world = World(portal, t)
    for step in arrival(order):
        await STEPS[step][1](world)
    assert await reasons(portal, t, world.ids["ann"]) == EXPECTED_ANN, order
    assert await reasons(portal, t, world.ids["bob"]) == EXPECTED_BOB, order


async def test_removing_a_rule_or_a_membership_takes_the_role_away_at_once(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    world = World(portal, t)
    for step in ("ann", "managers", "ann in managers", "manager rule"):
        await STEPS[step][1](world)
    async with portal.db.read() as conn:
        rule = (await role_operations.list_role_rules(conn, t.tenant))[0]
        assert await role_operations.role_holders(conn, t.tenant, "manager") == [world.ids["ann"]]
    op = [{"op": "remove", "path": f'members[value eq "{world.ids["ann"]}"]'}]
    assert (await t.patch(f"/Groups/{world.ids['managers']}", op)).status_code in (200, 204)
    assert await reasons(portal, t, world.ids["ann"]) == ([], [])
    await world.member("managers", "ann")
    assert (await reasons(portal, t, world.ids["ann"]))[0] == [EXPECTED_ANN[0][0]]
    async with portal.db.write() as conn:
        await role_operations.remove_role_rule(conn, t.tenant, rule.id)
    assert await reasons(portal, t, world.ids["ann"]) == ([], [])


async def test_a_smart_group_follows_a_change_of_title_and_of_the_department_tree(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    world = World(portal, t)
    for step in ("ann", "emea", "ann in emea", "smart group"):
        await STEPS[step][1](world)
    async with portal.db.read() as conn:
        assert (await role_operations.show_smart_group(conn, t.tenant, "sales LEADS"))[1] == []
    await _hand_made_sales(world)  # EMEA moves under Sales: ann's department is now Sales/EMEA
    async with portal.db.read() as conn:
        assert (await role_operations.show_smart_group(conn, t.tenant, "Sales leads"))[1] == [
            (world.ids["ann"], "ann@acme.example")
        ]
    op = [{"op": "replace", "path": "title", "value": "Engineer"}]
    assert (await t.patch(f"/Users/{world.ids['ann']}", op)).status_code in (200, 204)
    assert await reasons(portal, t, world.ids["ann"]) == ([], [])


@pytest.mark.parametrize(
    ("rule", "members"),
    [
        ('department eq "Sales"', []),
        ('department eq "sales/emea"', ["ann"]),
        ('department sw "Sales"', ["ann"]),
        ('department sw "Sale"', []),  # whole names: "Sale" is not a parent of Sales/EMEA
        ('department ew "EMEA"', ["ann"]),
        ('department co "les/em"', ["ann"]),
        ('department ne "Sales/EMEA"', ["bob"]),
        ("department pr", ["ann"]),
        ('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department sw "Sales"', ["ann"]),
        ('title co "manager" or userName sw "bob"', ["ann", "bob"]),
        ('not (department sw "Sales")', ["bob"]),
    ],
)
async def test_each_department_operator_selects_by_the_path_from_the_root(
    portal: Portal, http: httpx2.AsyncClient, rule: str, members: list[str]
) -> None:
    t = await make_tenant(portal, http)
    world = World(portal, t)
    for step in ("ann", "bob", "emea", "ann in emea", "emea under sales"):
        await STEPS[step][1](world)
    async with portal.db.write() as conn:
        await role_operations.add_smart_group(conn, t.tenant, "g", rule)
        found = (await role_operations.show_smart_group(conn, t.tenant, "g"))[1]
    assert [name.split("@")[0] for _, name in found] == members


@pytest.mark.parametrize(
    ("group", "role", "department", "words"),
    [
        ("Sales", "owner", None, "unknown role"),
        ("Sales", "department_admin", None, "needs a department"),
        ("Sales", "manager", "Sales", "not given per department"),
        ("  ", "manager", None, "names an IdP group"),
    ],
)
async def test_a_bad_role_rule_is_refused_with_what_to_change(
    portal: Portal, http: httpx2.AsyncClient, group: str, role: str, department: str | None, words: str
) -> None:
    t = await make_tenant(portal, http)
    async with portal.db.write() as conn:
        with pytest.raises(RoleRuleError, match=words):
            await role_operations.add_role_rule(conn, t.tenant, group, role, department)
        assert await role_operations.list_role_rules(conn, t.tenant) == []


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ('title co "x', "not a SCIM filter"),
        ('nickName eq "x"', "not supported"),
        ('department gt "x"', "department is compared with"),
    ],
)
async def test_a_smart_group_rule_the_portal_cannot_filter_on_is_refused(
    portal: Portal, http: httpx2.AsyncClient, rule: str, words: str
) -> None:
    t = await make_tenant(portal, http)
    async with portal.db.write() as conn:
        with pytest.raises(SmartGroupError, match=words):
            await role_operations.add_smart_group(conn, t.tenant, "g", rule)


async def test_the_same_rule_twice_is_refused(portal: Portal, http: httpx2.AsyncClient) -> None:
    t = await make_tenant(portal, http)
    async with portal.db.write() as conn:
        await role_operations.add_role_rule(conn, t.tenant, "Sales", "manager", None)
        with pytest.raises(RoleRuleError, match="already gives"):
            await role_operations.add_role_rule(conn, t.tenant, "SALES", "manager", None)
        await role_operations.add_smart_group(conn, t.tenant, "g", "title pr")
        with pytest.raises(SmartGroupError, match="already has"):
            await role_operations.add_smart_group(conn, t.tenant, "G", "title pr")


async def statements_for_everyone(portal: Portal, t: ScimTenant, people: int) -> tuple[int, int, int]:
    """Statements to read every user's roles, a smart group's members and a role's holders, in a
    tenant of `people` users who are all in the rule's group."""
    ids = [(await t.create_user(f"u{n}@acme.example", title="Manager"))["id"] for n in range(people)]
    await t.create_group("Leads", ids)
    async with portal.db.write() as conn:
        await role_operations.add_role_rule(conn, t.tenant, "Leads", "manager", None)
        await role_operations.add_smart_group(conn, t.tenant, "Managers", 'title eq "manager"')
    counts = []
    for read in (
        lambda c: role_store.roles_of(c, t.tenant, ids),
        lambda c: role_operations.show_smart_group(c, t.tenant, "Managers"),
        lambda c: role_operations.role_holders(c, t.tenant, "manager"),
    ):
        with recorded_statements(portal.db, lambda sql, _p: sql) as seen:
            async with portal.db.read() as conn:
                found = await read(conn)
        assert len(found if isinstance(found, (list, dict)) else found[1]) == people
        counts.append(len([sql for sql in seen if sql.lstrip().upper().startswith(("SELECT", "WITH"))]))
    return counts[0], counts[1], counts[2]


async def test_reading_roles_and_members_takes_the_same_statements_for_5_or_50_users(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    small = await statements_for_everyone(portal, await make_tenant(portal, http, "small"), 5)
    large = await statements_for_everyone(portal, await make_tenant(portal, http, "large"), 50)
    assert small == large == (1, 2, 1)


async def test_a_user_in_several_smart_groups_on_departments_gets_each_with_its_rule(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    world = World(portal, t)
    for step in ("ann", "emea", "ann in emea", "emea under sales"):
        await STEPS[step][1](world)
    rules = {
        "A": 'department sw "Sales"',
        "B": 'department ew "emea" or department eq "Sales"',
        "C": "department pr",
    }
    async with portal.db.write() as conn:
        for name, rule in rules.items():
            await role_operations.add_smart_group(conn, t.tenant, name, rule)
    assert (await reasons(portal, t, world.ids["ann"]))[1] == [
        f"member of smart group {name} because {rule}" for name, rule in rules.items()
    ]


async def test_the_same_rule_gives_the_same_sql_each_time_so_the_compiled_statement_is_reused(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    rule = 'department sw "Sales" or department eq "Support"'
    first, second = (str(smart_store.rule_clause(rule, t.tenant).compile()) for _ in range(2))
    assert first == second
    assert "department_paths_0" in first
    assert "department_paths_1" in first
