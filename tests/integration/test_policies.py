"""Tenant policies over SCIM: seat limit, required fields, what DELETE does, groups and placement.

A policy is changed the way the CLI and admin pages change it (`save_policy` with
`with_changes`); the service reads it from the authenticated tenant on the next request. A user's
department is read straight from the `users` table joined to `departments`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from enlist.lms.store import tenants as tenant_store
from enlist.lms.store.tables import departments, group_members, user_emails, users
from tests.helpers import GROUP, SCIM, USER, ScimTenant, make_tenant

if TYPE_CHECKING:
    import httpx2

    from enlist.lms.api.runtime import Portal

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


async def set_policy(portal: Portal, t: ScimTenant, **changes: str) -> None:
    async with portal.db.write() as conn:
        tenant = await tenant_store.get_tenant(conn, t.tenant.slug)
        await tenant_store.save_policy(conn, tenant, tenant.policy.with_changes(changes))
    async with portal.db.read() as conn:
        t.tenant = await tenant_store.get_tenant(conn, t.tenant.slug)


def assert_scim_error(response: httpx2.Response, status: int, *words: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(SCIM)
    body = response.json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    for word in words:
        assert word.lower() in body["detail"].lower(), body["detail"]
    return dict(body)


async def user_row(portal: Portal, user_id: str) -> dict[str, Any] | None:
    async with portal.db.read() as conn:
        row = (await conn.execute(sa.select(users).where(users.c.id == user_id))).first()
    return dict(row._mapping) if row else None


async def user_count(portal: Portal, t: ScimTenant) -> int:
    async with portal.db.read() as conn:
        query = sa.select(sa.func.count()).select_from(users).where(users.c.tenant_id == t.tenant.id)
        return int((await conn.execute(query)).scalar_one())


async def department_of(portal: Portal, user_id: str) -> str:
    """The name of the department the user is in, from the `users` row."""
    async with portal.db.read() as conn:
        name = (
            await conn.execute(
                sa.select(departments.c.name)
                .select_from(users.join(departments, departments.c.id == users.c.department_id))
                .where(users.c.id == user_id)
            )
        ).scalar_one()
    return str(name)


async def group_department(portal: Portal, t: ScimTenant, group_id: str) -> dict[str, Any] | None:
    async with portal.db.read() as conn:
        row = (
            await conn.execute(
                sa.select(departments).where(
                    (departments.c.tenant_id == t.tenant.id) & (departments.c.source_group_id == group_id)
                )
            )
        ).first()
    return dict(row._mapping) if row else None


async def department_count(portal: Portal, t: ScimTenant) -> int:
    async with portal.db.read() as conn:
        query = (
            sa.select(sa.func.count()).select_from(departments).where(departments.c.tenant_id == t.tenant.id)
        )
        return int((await conn.execute(query)).scalar_one())


async def add_member(t: ScimTenant, group_id: str, user_id: str) -> None:
    response = await t.patch(
        f"/Groups/{group_id}", [{"op": "add", "path": "members", "value": [{"value": user_id}]}]
    )
    assert response.status_code == 204, response.text


async def remove_member(t: ScimTenant, group_id: str, user_id: str) -> None:
    response = await t.patch(
        f"/Groups/{group_id}", [{"op": "remove", "path": f'members[value eq "{user_id}"]'}]
    )
    assert response.status_code == 204, response.text


async def set_active(t: ScimTenant, user_id: str, active: bool) -> httpx2.Response:
    return await t.patch(f"/Users/{user_id}", [{"op": "replace", "path": "active", "value": active}])


# --- seat limit ----------------------------------------------------------------------------------


@pytest.fixture
async def full(portal: Portal, http: httpx2.AsyncClient) -> ScimTenant:
    """A tenant with `seat_limit=2` and both seats taken by active users."""
    t = await make_tenant(portal, http)
    await set_policy(portal, t, seat_limit="2")
    await t.create_user("ada@example.com", active=True)
    await t.create_user("bob@example.com", active=True)
    return t


async def test_an_active_create_past_the_seat_limit_is_403_saying_so_and_creates_nothing(
    portal: Portal, full: ScimTenant
) -> None:
    before = await user_count(portal, full)
    response = await full.post("/Users", {"schemas": [USER], "userName": "carol@example.com", "active": True})
    assert_scim_error(response, 403, "seat limit")
    assert await user_count(portal, full) == before
    assert await full.find_user("carol@example.com") is None


async def test_a_create_without_active_counts_as_active_against_the_seat_limit(
    portal: Portal, full: ScimTenant
) -> None:
    response = await full.post("/Users", {"schemas": [USER], "userName": "carol@example.com"})
    assert_scim_error(response, 403, "seat limit")
    assert await full.find_user("carol@example.com") is None


async def test_an_inactive_user_can_be_created_past_the_seat_limit(portal: Portal, full: ScimTenant) -> None:
    created = await full.create_user("carol@example.com", active=False)
    assert created["active"] is False
    assert (await user_row(portal, created["id"]) or {})["status"] == "inactive"


@pytest.mark.parametrize("how", ["patch", "put"])
async def test_reactivating_past_the_seat_limit_is_refused_and_the_user_stays_inactive(
    portal: Portal, full: ScimTenant, how: str
) -> None:
    carol = await full.create_user("carol@example.com", active=False)
    if how == "patch":
        response = await set_active(full, carol["id"], True)
    else:
        response = await full.put(
            f"/Users/{carol['id']}", {"schemas": [USER], "userName": "carol@example.com", "active": True}
        )
    assert_scim_error(response, 403, "seat limit")
    after = await full.get(f"/Users/{carol['id']}")
    assert after.json()["active"] is False
    assert after.json()["meta"]["version"] == carol["meta"]["version"]
    assert (await user_row(portal, carol["id"]) or {})["status"] == "inactive"


async def test_deactivating_a_user_frees_a_seat(full: ScimTenant) -> None:
    ada = await full.find_user("ada@example.com")
    assert ada is not None
    assert (await set_active(full, ada["id"], False)).status_code == 200
    carol = await full.create_user("carol@example.com", active=True)
    assert carol["active"] is True


async def test_deleting_a_user_frees_a_seat(full: ScimTenant) -> None:
    ada = await full.find_user("ada@example.com")
    assert ada is not None
    assert (await full.delete(f"/Users/{ada['id']}")).status_code == 204
    await full.create_user("carol@example.com", active=True)


async def test_restoring_a_deleted_user_past_the_seat_limit_is_refused(
    portal: Portal, full: ScimTenant
) -> None:
    ada = await full.find_user("ada@example.com")
    assert ada is not None
    assert (await full.delete(f"/Users/{ada['id']}")).status_code == 204
    await full.create_user("carol@example.com", active=True)
    response = await full.post("/Users", {"schemas": [USER], "userName": "ada@example.com", "active": True})
    assert_scim_error(response, 403, "seat limit")
    assert (await user_row(portal, ada["id"]) or {})["status"] == "terminated"


async def test_updating_an_active_user_at_the_seat_limit_is_allowed(full: ScimTenant) -> None:
    ada = await full.find_user("ada@example.com")
    assert ada is not None
    response = await full.patch(
        f"/Users/{ada['id']}", [{"op": "replace", "path": "displayName", "value": "Ada"}]
    )
    assert response.status_code == 200, response.text


# --- required fields -----------------------------------------------------------------------------


@pytest.fixture
async def strict(portal: Portal, http: httpx2.AsyncClient) -> ScimTenant:
    t = await make_tenant(portal, http)
    await set_policy(portal, t, required_fields="email,name.familyName")
    return t


EMAIL = [{"value": "ada@example.com", "type": "work", "primary": True}]
NAME = {"givenName": "Ada", "familyName": "Lovelace"}


@pytest.mark.parametrize(
    ("attrs", "named"),
    [
        pytest.param({"name": NAME}, "email", id="no-emails"),
        pytest.param({"emails": [], "name": NAME}, "email", id="empty-emails"),
        pytest.param({"emails": EMAIL}, "name.familyName", id="no-name"),
        pytest.param({"emails": EMAIL, "name": {"givenName": "Ada"}}, "name.familyName", id="no-familyName"),
        pytest.param(
            {"emails": EMAIL, "name": {"givenName": "Ada", "familyName": ""}},
            "name.familyName",
            id="empty-familyName",
        ),
    ],
)
async def test_a_create_missing_a_required_field_is_400_naming_it_and_creates_nothing(
    portal: Portal, strict: ScimTenant, attrs: dict[str, Any], named: str
) -> None:
    response = await strict.post("/Users", {"schemas": [USER], "userName": "ada@example.com", **attrs})
    body = assert_scim_error(response, 400, named)
    assert body.get("scimType") == "invalidValue"
    assert await user_count(portal, strict) == 0


async def test_a_create_with_every_required_field_succeeds(strict: ScimTenant) -> None:
    created = await strict.create_user("ada@example.com", emails=EMAIL, name=NAME)
    assert created["name"]["familyName"] == "Lovelace"


async def test_a_replace_that_drops_a_required_field_is_400_and_leaves_the_user_as_it_was(
    strict: ScimTenant,
) -> None:
    created = await strict.create_user("ada@example.com", emails=EMAIL, name=NAME)
    response = await strict.put(
        f"/Users/{created['id']}", {"schemas": [USER], "userName": "ada@example.com", "name": NAME}
    )
    assert_scim_error(response, 400, "email")
    after = await strict.get(f"/Users/{created['id']}")
    assert after.json() == created


# --- delete policy -------------------------------------------------------------------------------


@pytest.fixture
async def staffed(
    portal: Portal, http: httpx2.AsyncClient
) -> tuple[ScimTenant, dict[str, Any], dict[str, Any]]:
    """A tenant with Ada in the group Staff."""
    t = await make_tenant(portal, http)
    ada = await t.create_user("ada@example.com", emails=EMAIL, active=True)
    staff = await t.create_group("Staff", [ada["id"]])
    return t, ada, staff


async def memberships_of(portal: Portal, user_id: str) -> list[str]:
    async with portal.db.read() as conn:
        rows = await conn.execute(
            sa.select(group_members.c.group_id).where(group_members.c.user_id == user_id)
        )
        return [r[0] for r in rows]


async def test_delete_terminates_by_default_hiding_the_user_but_keeping_the_row(
    portal: Portal, staffed: tuple[ScimTenant, dict[str, Any], dict[str, Any]]
) -> None:
    t, ada, _staff = staffed
    assert t.tenant.policy.delete_policy == "terminate"
    assert (await t.delete(f"/Users/{ada['id']}")).status_code == 204
    assert (await t.get(f"/Users/{ada['id']}")).status_code == 404
    assert await t.find_user("ada@example.com") is None
    row = await user_row(portal, ada["id"])
    assert row is not None
    assert row["status"] == "terminated"
    assert row["user_name"] == "ada@example.com"


async def test_a_terminated_user_has_left_every_group(
    portal: Portal, staffed: tuple[ScimTenant, dict[str, Any], dict[str, Any]]
) -> None:
    t, ada, staff = staffed
    assert (await t.delete(f"/Users/{ada['id']}")).status_code == 204
    assert await t.members(staff["id"]) == set()
    assert await memberships_of(portal, ada["id"]) == []


async def test_creating_a_terminated_login_again_restores_the_same_user_with_201(
    portal: Portal, staffed: tuple[ScimTenant, dict[str, Any], dict[str, Any]]
) -> None:
    t, ada, staff = staffed
    assert (await t.delete(f"/Users/{ada['id']}")).status_code == 204
    response = await t.post("/Users", {"schemas": [USER], "userName": "ADA@example.com", "active": True})
    assert response.status_code == 201, response.text
    restored = response.json()
    assert restored["id"] == ada["id"]
    assert restored["userName"] == "ADA@example.com"
    assert restored["active"] is True
    assert (await t.get(f"/Users/{ada['id']}")).status_code == 200
    assert (await user_row(portal, ada["id"]) or {})["status"] == "active"
    assert await t.members(staff["id"]) == set()
    assert await user_count(portal, t) == 1


async def test_delete_with_the_erase_policy_removes_the_row_and_everything_pointing_at_it(
    portal: Portal, staffed: tuple[ScimTenant, dict[str, Any], dict[str, Any]]
) -> None:
    t, ada, staff = staffed
    report = await t.create_user(
        "bob@example.com",
        **{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": ada["id"]}},
    )
    await set_policy(portal, t, delete_policy="erase")
    assert (await t.delete(f"/Users/{ada['id']}")).status_code == 204
    assert (await t.get(f"/Users/{ada['id']}")).status_code == 404
    assert await user_row(portal, ada["id"]) is None
    assert await memberships_of(portal, ada["id"]) == []
    async with portal.db.read() as conn:
        emails = (await conn.execute(sa.select(user_emails).where(user_emails.c.user_id == ada["id"]))).all()
    assert emails == []
    assert await t.members(staff["id"]) == set()
    assert (await user_row(portal, report["id"]) or {})["manager_id"] is None


async def test_creating_an_erased_login_again_makes_a_new_user(
    portal: Portal, staffed: tuple[ScimTenant, dict[str, Any], dict[str, Any]]
) -> None:
    t, ada, _staff = staffed
    await set_policy(portal, t, delete_policy="erase")
    assert (await t.delete(f"/Users/{ada['id']}")).status_code == 204
    again = await t.create_user("ada@example.com")
    assert again["id"] != ada["id"]


# --- group modes and placement -------------------------------------------------------------------


async def sales_and_engineering(t: ScimTenant, members: list[str] | None = None) -> tuple[str, str]:
    sales = await t.create_group("Sales", members)
    engineering = await t.create_group("Engineering", members)
    return sales["id"], engineering["id"]


async def test_with_group_mode_both_a_scim_group_becomes_a_department_under_the_root(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    assert t.tenant.policy.group_mode == "both"
    group = await t.create_group("Sales")
    department = await group_department(portal, t, group["id"])
    assert department is not None
    assert department["name"] == "Sales"
    assert department["parent_id"] == t.tenant.root_department_id


async def test_renaming_a_group_renames_its_department(portal: Portal, http: httpx2.AsyncClient) -> None:
    t = await make_tenant(portal, http)
    group = await t.create_group("Sales")
    response = await t.patch(
        f"/Groups/{group['id']}", [{"op": "replace", "path": "displayName", "value": "Revenue"}]
    )
    assert response.status_code == 204, response.text
    assert (await group_department(portal, t, group["id"]) or {})["name"] == "Revenue"


async def test_a_user_in_two_department_groups_is_placed_by_name_by_default(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    ada = await t.create_user("ada@example.com")
    sales, engineering = await sales_and_engineering(t)
    await add_member(t, sales, ada["id"])
    await add_member(t, engineering, ada["id"])
    assert await department_of(portal, ada["id"]) == "Engineering"


async def test_a_placement_pattern_wins_over_the_tie_break(portal: Portal, http: httpx2.AsyncClient) -> None:
    t = await make_tenant(portal, http)
    await set_policy(portal, t, placement="Sales*")
    ada = await t.create_user("ada@example.com")
    sales, engineering = await sales_and_engineering(t)
    await add_member(t, engineering, ada["id"])
    await add_member(t, sales, ada["id"])
    assert await department_of(portal, ada["id"]) == "Sales"


async def test_leaving_the_chosen_group_moves_the_user_to_the_other(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    ada = await t.create_user("ada@example.com")
    _sales, engineering = await sales_and_engineering(t, [ada["id"]])
    assert await department_of(portal, ada["id"]) == "Engineering"
    await remove_member(t, engineering, ada["id"])
    assert await department_of(portal, ada["id"]) == "Sales"


async def test_leaving_the_last_group_moves_the_user_back_to_the_root(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    ada = await t.create_user("ada@example.com")
    sales = await t.create_group("Sales", [ada["id"]])
    assert await department_of(portal, ada["id"]) == "Sales"
    await remove_member(t, sales["id"], ada["id"])
    assert await department_of(portal, ada["id"]) == t.tenant.name


async def test_deleting_the_chosen_group_removes_its_department_and_re_places_its_users(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    ada = await t.create_user("ada@example.com")
    bob = await t.create_user("bob@example.com")
    sales, engineering = await sales_and_engineering(t, [ada["id"]])
    await add_member(t, engineering, bob["id"])
    assert await department_of(portal, ada["id"]) == "Engineering"
    assert (await t.delete(f"/Groups/{engineering}")).status_code == 204
    assert await group_department(portal, t, engineering) is None
    assert await department_of(portal, ada["id"]) == "Sales"
    assert await department_of(portal, bob["id"]) == t.tenant.name
    assert await group_department(portal, t, sales) is not None


async def test_with_group_mode_groups_no_department_is_made_and_users_stay_in_the_root(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    await set_policy(portal, t, group_mode="groups")
    departments_before = await department_count(portal, t)
    ada = await t.create_user("ada@example.com")
    sales, engineering = await sales_and_engineering(t, [ada["id"]])
    assert await group_department(portal, t, sales) is None
    assert await group_department(portal, t, engineering) is None
    assert await department_count(portal, t) == departments_before
    assert await department_of(portal, ada["id"]) == t.tenant.name
    assert await t.members(sales) == {ada["id"]}


ORDER_POLICIES = [
    pytest.param({}, id="default-name-tie-break"),
    pytest.param({"placement": "Sales*"}, id="placement-Sales"),
    pytest.param({"placement": "Eng*,Sales*"}, id="placement-Eng-then-Sales"),
    pytest.param({"placement": "Marketing"}, id="placement-matching-nothing"),
]


@pytest.mark.parametrize("policy", ORDER_POLICIES)
async def test_placement_never_depends_on_the_order_memberships_arrived(
    portal: Portal, http: httpx2.AsyncClient, policy: dict[str, str]
) -> None:
    placed: list[str] = []
    for name, order in (("first", ["Sales", "Engineering"]), ("second", ["Engineering", "Sales"])):
        t = await make_tenant(portal, http, name)
        await set_policy(portal, t, **policy)
        ada = await t.create_user("ada@example.com")
        group_ids = {group: (await t.create_group(group))["id"] for group in ("Sales", "Engineering")}
        for group in order:
            await add_member(t, group_ids[group], ada["id"])
        placed.append(await department_of(portal, ada["id"]))
    assert placed[0] == placed[1]
    assert placed[0] in ("Sales", "Engineering")


@pytest.mark.parametrize("policy", ORDER_POLICIES)
async def test_placement_never_depends_on_the_order_groups_were_created(
    portal: Portal, http: httpx2.AsyncClient, policy: dict[str, str]
) -> None:
    placed: list[str] = []
    for name, order in (("first", ["Sales", "Engineering"]), ("second", ["Engineering", "Sales"])):
        t = await make_tenant(portal, http, name)
        await set_policy(portal, t, **policy)
        ada = await t.create_user("ada@example.com")
        for group in order:
            await t.create_group(group, [ada["id"]])
        placed.append(await department_of(portal, ada["id"]))
    assert placed[0] == placed[1]


async def test_placement_is_the_same_whether_a_group_was_renamed_before_or_after_the_user_joined(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    """Same final groups, same rule, so the same department: a rename re-places the members."""
    early = await make_tenant(portal, http, "early")
    ada = await early.create_user("ada@example.com")
    await early.create_group("Accounts", [ada["id"]])
    await early.create_group("Engineering", [ada["id"]])

    late = await make_tenant(portal, http, "late")
    bob = await late.create_user("ada@example.com")
    sales = await late.create_group("Sales", [bob["id"]])
    await late.create_group("Engineering", [bob["id"]])
    assert await department_of(portal, bob["id"]) == "Engineering"
    response = await late.patch(
        f"/Groups/{sales['id']}", [{"op": "replace", "path": "displayName", "value": "Accounts"}]
    )
    assert response.status_code == 204, response.text

    assert await department_of(portal, ada["id"]) == "Accounts"
    assert await department_of(portal, bob["id"]) == "Accounts"


async def test_a_group_replaced_with_put_re_places_the_members_it_gains_and_loses(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    ada = await t.create_user("ada@example.com")
    bob = await t.create_user("bob@example.com")
    sales = await t.create_group("Sales", [ada["id"]])
    response = await t.put(
        f"/Groups/{sales['id']}",
        {"schemas": [GROUP], "displayName": "Sales", "members": [{"value": bob["id"]}]},
    )
    assert response.status_code == 200, response.text
    assert await department_of(portal, ada["id"]) == t.tenant.name
    assert await department_of(portal, bob["id"]) == "Sales"
