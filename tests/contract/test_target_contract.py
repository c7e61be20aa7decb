"""The Target contract: one suite of provisioning scenarios, run against every SCIM target we
support, each reached over real HTTP on loopback.

Targets: the portal (its app served by uvicorn in this process, a tenant and its Secret token;
its database on SQLite, and on PostgreSQL; and a tenant whose DELETE erases), and scim2-server, the python-scim reference server
(a subprocess). The provisioning service's database is SQLite. Each scenario runs the engine
(a directory, one application with Entra's default mappings in the RFC dialect, group and user
assignments, cycles) and, after every step, reads the target back through its own SCIM API and
checks it holds exactly what the directory says (`tests/e2e/scenario_helpers.py` derives that
state from the directory dict): the users in scope active with their attributes and managers,
the ones that left scope disabled, the assigned groups with their active members, and the
target ids kept across renames, disables and restores.

Where the targets differ (where the RFCs leave the service a choice) the difference is a
`Capabilities` flag of the target, and the scenario expects the flagged behaviour exactly, both
ways; no scenario is skipped for a target. Both targets keep the enterprise `manager`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from enlist.db.database import Database
from enlist.lms.api.runtime import MIGRATIONS, VERSION_TABLE, Portal
from enlist.lms.domain.policy import TenantPolicy
from enlist.lms.secrets import load_peppers
from enlist.lms.store import tenants as tenant_store
from enlist.provisioning.mapping.mappings import default_user_mapping
from enlist.provisioning.service import Service
from enlist.settings import Settings
from tests.contract.targets import Capabilities, ContractTarget, Provisioning, without_active
from tests.databases import Templates
from tests.e2e.scenario_helpers import (
    ADA,
    BOB,
    CEO,
    DAN,
    EVE,
    TargetState,
    base,
    expected_groups,
    expected_users,
    group_of,
    user_of,
)
from tests.live import portal_on_loopback
from tests.scim2_server import running_scim2_server

PORTAL = Capabilities(defaults_active=True, revives_deleted_users=True)
PORTAL_ERASING = Capabilities(defaults_active=True, revives_deleted_users=False)
"""The portal with the tenant policy `delete_policy=erase`: a DELETE forgets the person."""
SCIM2_SERVER = Capabilities()

ASSIGNED = ("Leadership", "Engineering", "Sales")
"""Direct members: the CEO, Ada, Bob. Ada and Bob report to the CEO."""


@pytest.fixture
def database_kind() -> str:
    """The provisioning service's database, and the portal's unless a target says otherwise."""
    return "sqlite"


@pytest.fixture(
    params=[
        "portal-sqlite",
        "portal-erase",
        pytest.param("portal-postgres", marks=pytest.mark.postgres),
        pytest.param("scim2-server", marks=pytest.mark.slow),
    ]
)
async def target(
    request: pytest.FixtureRequest, settings: Settings, templates: Templates, tmp_path: Path
) -> AsyncIterator[ContractTarget]:
    name = str(request.param)
    if name == "scim2-server":
        with running_scim2_server(tmp_path) as server:
            yield ContractTarget(name, server.url, server.token, SCIM2_SERVER)
        return
    if name == "portal-postgres":
        if templates.cluster is None:
            templates.cluster = request.getfixturevalue("postgres_cluster")
        url = await templates.fresh("postgres", MIGRATIONS, VERSION_TABLE, tmp_path)
        settings = settings.model_copy(update={"lms_database_url": url})
    erasing = name == "portal-erase"
    portal = Portal(settings, Database(settings.lms_url()), load_peppers(settings))
    try:
        async with portal.db.write() as conn:
            policy = TenantPolicy(delete_policy="erase") if erasing else None
            tenant = await tenant_store.create_tenant(conn, "acme", policy)
            token = await tenant_store.add_token(conn, tenant, portal.peppers.current)
        async with portal_on_loopback(portal) as base_url:
            capabilities = PORTAL_ERASING if erasing else PORTAL
            yield ContractTarget(name, f"{base_url}/scim/v2/acme", token, capabilities)
    finally:
        await portal.db.dispose()


@pytest.fixture
def engine(service: Service) -> Provisioning:
    return Provisioning(service)


async def begin(
    engine: Provisioning, target: ContractTarget, groups: tuple[str, ...] = ASSIGNED, **connect: Any
) -> dict[str, Any]:
    """The base directory loaded, the app connected to `target` with `groups` assigned."""
    await engine.connect(target, **connect)
    data = base()
    await engine.load(data)
    await engine.assign("group", *groups)
    return data


async def expect(
    target: ContractTarget,
    data: dict[str, Any],
    *,
    active: set[str],
    disabled: set[str] = frozenset(),  # type: ignore[assignment]
    groups: tuple[str, ...] = ASSIGNED,
    active_mapped: bool = True,
) -> TargetState:
    """The target holds exactly what the directory `data` says, for these users and groups
    (`active_mapped` False: the app sends no `active`, so the target shows its own default)."""
    state = await target.state()
    users = expected_users(data, active, disabled)
    if not active_mapped and not target.capabilities.defaults_active:
        users = {upn: {**view, "active": None} for upn, view in users.items()}
    assert state.users == users
    assert state.groups == expected_groups(data, groups, active)
    return state


async def initial(engine: Provisioning, target: ContractTarget, data: dict[str, Any]) -> TargetState:
    summary = await engine.cycle()
    assert summary.kind == "initial"
    return await expect(target, data, active={CEO, ADA, BOB})


def rename_user(data: dict[str, Any], old: str, new: str, source_id: str) -> None:
    """Give the user `old` the UPN `new` (and mail), keeping its directory id; references follow."""
    user_of(data, old).update(id=source_id, userPrincipalName=new, mail=new)
    for user in data["users"]:
        if user.get("manager") == old:
            user["manager"] = new
    for group in data["groups"]:
        group["members"] = [new if m == old else m for m in group.get("members", [])]


# -- the scenarios ------------------------------------------------------------------------------


async def test_initial_cycle_creates_users_and_groups_with_members_and_managers(
    engine: Provisioning, target: ContractTarget
) -> None:
    data = await begin(engine, target)
    summary = await engine.cycle()
    assert summary.kind == "initial"
    assert summary.counts["created"] == 6  # 3 users, 3 groups
    state = await expect(target, data, active={CEO, ADA, BOB})
    assert state.groups == {"Leadership": {CEO}, "Engineering": {ADA}, "Sales": {BOB}}

    again = await engine.cycle()
    assert again.kind == "incremental"
    assert again.counts == dict.fromkeys(again.counts, 0), "a cycle with no change sends nothing"
    assert await target.state() == state


async def test_attribute_change_reaches_the_same_target_user(
    engine: Provisioning, target: ContractTarget
) -> None:
    data = await begin(engine, target)
    before = await initial(engine, target, data)

    user_of(data, ADA).update(jobTitle="Principal engineer", department="Platform", surname="King")
    user_of(data, ADA)["displayName"] = "Ada King"
    user_of(data, BOB)["givenName"] = "Robert"
    await engine.load(data)
    summary = await engine.cycle()
    assert (summary.counts["updated"], summary.counts["created"]) == (2, 0)
    after = await expect(target, data, active={CEO, ADA, BOB})
    assert after.user_ids == before.user_ids


async def test_user_rename_keeps_the_link_and_the_target_id(
    engine: Provisioning, target: ContractTarget
) -> None:
    data = await begin(engine, target, (*ASSIGNED, "Design"))
    summary = await engine.cycle()
    before = await expect(target, data, active={CEO, ADA, BOB, DAN}, groups=(*ASSIGNED, "Design"))

    renamed = "ada.king@contoso.com"
    rename_user(data, ADA, renamed, await engine.user_id(ADA))
    await engine.load(data)
    summary = await engine.cycle()
    assert (summary.counts["created"], summary.counts["deleted"], summary.counts["disabled"]) == (0, 0, 0)
    after = await expect(target, data, active={CEO, renamed, BOB, DAN}, groups=(*ASSIGNED, "Design"))
    assert after.user_ids[renamed] == before.user_ids[ADA]
    assert after.users[DAN]["manager"] == renamed


async def test_disabled_account_is_deactivated_and_enabling_it_reactivates_the_same_user(
    engine: Provisioning, target: ContractTarget
) -> None:
    data = await begin(engine, target)
    before = await initial(engine, target, data)

    user_of(data, BOB)["accountEnabled"] = False
    await engine.load(data)
    summary = await engine.cycle()
    assert summary.counts["disabled"] == 1
    await expect(target, data, active={CEO, ADA}, disabled={BOB})

    user_of(data, BOB)["accountEnabled"] = True
    await engine.load(data)
    summary = await engine.cycle()
    assert (summary.counts["created"], summary.counts["disabled"]) == (0, 0)
    after = await expect(target, data, active={CEO, ADA, BOB})
    assert after.user_ids == before.user_ids


async def test_soft_deleted_user_is_disabled_and_restoring_it_reactivates_the_same_user(
    engine: Provisioning, target: ContractTarget
) -> None:
    data = await begin(engine, target)
    before = await initial(engine, target, data)

    await engine.soft_delete_user(BOB)
    summary = await engine.cycle()
    assert (summary.counts["disabled"], summary.counts["deleted"]) == (1, 0)
    await expect(target, data, active={CEO, ADA}, disabled={BOB})

    await engine.restore_user(BOB)
    summary = await engine.cycle()
    assert summary.counts["created"] == 0
    after = await expect(target, data, active={CEO, ADA, BOB})
    assert after.user_ids == before.user_ids


async def test_hard_deleted_user_is_deleted_from_the_target(
    engine: Provisioning, target: ContractTarget
) -> None:
    data = await begin(engine, target)
    before = await initial(engine, target, data)

    await engine.hard_delete_user(BOB)
    data["users"].remove(user_of(data, BOB))
    group_of(data, "Sales")["members"] = []
    summary = await engine.cycle()
    assert summary.counts["deleted"] == 1
    await expect(target, data, active={CEO, ADA})
    assert await target.status(f"/Users/{before.user_ids[BOB]}") == 404


async def test_without_an_active_mapping_a_soft_deleted_user_is_deleted_from_the_target(
    engine: Provisioning, target: ContractTarget
) -> None:
    data = await begin(engine, target, user_mapping=without_active(default_user_mapping()))
    summary = await engine.cycle()
    before = await expect(target, data, active={CEO, ADA, BOB}, active_mapped=False)

    await engine.soft_delete_user(BOB)
    summary = await engine.cycle()
    assert (summary.counts["deleted"], summary.counts["disabled"]) == (1, 0)
    await expect(target, data, active={CEO, ADA}, active_mapped=False)
    assert await target.status(f"/Users/{before.user_ids[BOB]}") == 404

    await engine.restore_user(BOB)
    summary = await engine.cycle()
    assert summary.counts["created"] == 1
    after = await expect(target, data, active={CEO, ADA, BOB}, active_mapped=False)
    revived = after.user_ids[BOB] == before.user_ids[BOB]
    assert revived is target.capabilities.revives_deleted_users


async def test_group_membership_added_and_removed(engine: Provisioning, target: ContractTarget) -> None:
    data = await begin(engine, target)
    before = await initial(engine, target, data)

    # Ada joins Sales (already provisioned); Eve joins Sales (enters scope); Bob leaves it.
    group_of(data, "Sales")["members"] = [ADA, EVE]
    await engine.load(data)
    summary = await engine.cycle()
    assert (summary.counts["created"], summary.counts["disabled"]) == (1, 1)
    middle = await expect(target, data, active={CEO, ADA, EVE}, disabled={BOB})
    assert middle.groups["Sales"] == {ADA, EVE}

    # Ada leaves Sales and stays in scope through Engineering; Bob comes back.
    group_of(data, "Sales")["members"] = [EVE, BOB]
    await engine.load(data)
    summary = await engine.cycle()
    assert (summary.counts["created"], summary.counts["disabled"]) == (0, 0)
    after = await expect(target, data, active={CEO, ADA, BOB, EVE})
    assert after.groups["Sales"] == {BOB, EVE}
    assert after.group_ids == before.group_ids
    assert {upn: after.user_ids[upn] for upn in before.user_ids} == before.user_ids


async def test_group_rename_keeps_the_target_group_and_a_deleted_group_is_deleted(
    engine: Provisioning, target: ContractTarget
) -> None:
    data = await begin(engine, target)
    before = await initial(engine, target, data)

    group_of(data, "Engineering").update(id=await engine.group_id("Engineering"), displayName="Platform")
    await engine.load(data)
    summary = await engine.cycle()
    assert (summary.counts["created"], summary.counts["deleted"]) == (0, 0)
    groups = ("Leadership", "Platform", "Sales")
    renamed = await expect(target, data, active={CEO, ADA, BOB}, groups=groups)
    assert renamed.group_ids["Platform"] == before.group_ids["Engineering"]

    # Sales is deleted from the directory: the group goes, Bob (in no other) is disabled.
    await engine.soft_delete_group("Sales")
    summary = await engine.cycle()
    assert (summary.counts["deleted"], summary.counts["disabled"]) == (1, 1)
    await expect(target, data, active={CEO, ADA}, disabled={BOB}, groups=("Leadership", "Platform"))
    assert await target.status(f"/Groups/{before.group_ids['Sales']}") == 404

    # Sales is restored: made again in the target, with Bob active in it.
    await engine.restore_group("Sales")
    summary = await engine.cycle()
    assert summary.counts["created"] == 1
    restored = await expect(target, data, active={CEO, ADA, BOB}, groups=groups)
    assert restored.user_ids == before.user_ids


async def test_manager_set_changed_and_removed(engine: Provisioning, target: ContractTarget) -> None:
    data = await begin(engine, target)
    await initial(engine, target, data)

    steps: list[tuple[str, str | None]] = [(BOB, ADA), (BOB, None), (CEO, ADA), (CEO, None)]
    for upn, manager in steps:  # changed, removed, set (on a user who had none), removed
        user = user_of(data, upn)
        if manager is None:
            user["manager"] = None  # an import merges: an absent key keeps the manager, null clears it
        else:
            user["manager"] = manager
        await engine.load(data)
        summary = await engine.cycle()
        assert summary.counts["updated"] == 1, (upn, manager)
        state = await expect(target, data, active={CEO, ADA, BOB})
        assert state.users[upn]["manager"] == manager, (upn, manager)

    # A report and its manager enter scope in the same cycle: Dan (Design) reports to Eve
    # (Auditors), who is created after him or before; either way Dan's manager is Eve at the end.
    user_of(data, DAN)["manager"] = EVE
    await engine.load(data)
    await engine.assign("group", "Design", "Auditors")
    summary = await engine.cycle()
    assert summary.counts["created"] == 4  # Dan, Eve, and their groups
    groups = (*ASSIGNED, "Design", "Auditors")
    state = await expect(target, data, active={CEO, ADA, BOB, DAN, EVE}, groups=groups)
    assert state.users[DAN]["manager"] == EVE

    # The manager is deleted from the directory: deleted in the target, the report's manager gone.
    await engine.hard_delete_user(EVE)
    data["users"].remove(user_of(data, EVE))
    user_of(data, DAN).pop("manager")
    group_of(data, "Auditors")["members"] = []
    summary = await engine.cycle()
    assert summary.counts["deleted"] == 1
    state = await expect(target, data, active={CEO, ADA, BOB, DAN}, groups=groups)
    assert state.users[DAN]["manager"] is None


async def test_unassigned_users_leave_scope_and_unassigned_groups_are_deleted(
    engine: Provisioning, target: ContractTarget
) -> None:
    data = await begin(engine, target)
    await engine.assign("user", EVE)
    summary = await engine.cycle()
    before = await expect(target, data, active={CEO, ADA, BOB, EVE})

    await engine.unassign("user", EVE)
    await engine.unassign("group", "Sales")
    summary = await engine.cycle()
    assert (summary.counts["disabled"], summary.counts["deleted"]) == (2, 1)
    after = await expect(
        target, data, active={CEO, ADA}, disabled={BOB, EVE}, groups=("Leadership", "Engineering")
    )
    assert await target.status(f"/Groups/{before.group_ids['Sales']}") == 404
    assert after.user_ids == before.user_ids

    # Assigned again: the same users come back active, Sales is made anew.
    await engine.assign("user", EVE)
    await engine.assign("group", "Sales")
    summary = await engine.cycle()
    assert summary.counts["created"] == 1
    again = await expect(target, data, active={CEO, ADA, BOB, EVE})
    assert again.user_ids == before.user_ids


async def test_many_changes_to_linked_objects_in_one_cycle(
    engine: Provisioning, target: ContractTarget
) -> None:
    """A user renamed, moved between groups and given a new manager, a group renamed, another
    user's manager changed to the renamed one: one incremental cycle, the same target objects."""
    data = await begin(engine, target)
    before = await initial(engine, target, data)

    renamed = "ada.king@contoso.com"
    rename_user(data, ADA, renamed, await engine.user_id(ADA))
    user_of(data, renamed).update(surname="King", displayName="Ada King", manager=BOB)
    user_of(data, BOB)["manager"] = renamed
    group_of(data, "Engineering").update(id=await engine.group_id("Engineering"), displayName="Platform")
    group_of(data, "Platform")["members"] = []
    group_of(data, "Sales")["members"] = [BOB, renamed]
    await engine.load(data)
    summary = await engine.cycle()
    assert (summary.counts["created"], summary.counts["deleted"], summary.counts["disabled"]) == (0, 0, 0)
    groups = ("Leadership", "Platform", "Sales")
    after = await expect(target, data, active={CEO, renamed, BOB}, groups=groups)
    assert after.user_ids[renamed] == before.user_ids[ADA]
    assert after.group_ids["Platform"] == before.group_ids["Engineering"]
    assert (after.users[renamed]["manager"], after.users[BOB]["manager"]) == (BOB, renamed)
    assert after.groups == {"Leadership": {CEO}, "Platform": set(), "Sales": {BOB, renamed}}

    again = await engine.cycle()
    assert again.counts == dict.fromkeys(again.counts, 0), "converged: the next cycle sends nothing"
