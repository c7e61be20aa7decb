"""The engine's lifecycle scenarios, provisioned into the portal in process (both databases).

Each test loads a directory, assigns groups or users, runs cycles, and after every cycle
compares the portal's whole state with what the directory says it should be
(`scenario_helpers.expected_users` / `expected_groups`): which users are there, active or not,
with their names, title, email, department and manager, and which groups, with exactly which
members. Scenarios whose requests differ between the two PATCH dialects run in both.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from enlist.lms.api.runtime import Portal
from enlist.provisioning import operations
from enlist.provisioning.directory import lifecycle
from enlist.provisioning.mapping.mappings import default_group_mapping, default_user_mapping, mapping_to_json
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store.tables import link_members, links
from tests.e2e.engine_harness import TENANT_URL, Harness, assign_groups, harness
from tests.e2e.scenario_helpers import (
    ADA,
    BOB,
    CEO,
    DAN,
    EVE,
    TargetState,
    assert_clean,
    assign_users,
    base,
    cycle_logs,
    expected_groups,
    expected_users,
    group_id,
    group_of,
    portal_state,
    portal_status,
    set_settings,
    sync_recorded,
    unassign,
    user_id,
    user_of,
)

DIALECTS = pytest.mark.parametrize("dialect", ["rfc", "entra"])
ASSIGNED = ("Leadership", "Engineering", "Sales")
FAY = "fay@contoso.com"
ZED = "zed@contoso.com"


async def start(
    portal: Portal,
    service: Service,
    dialect: str = "rfc",
    *,
    data: dict[str, Any] | None = None,
    groups: tuple[str, ...] = ASSIGNED,
    **settings: Any,
) -> tuple[Harness, dict[str, Any]]:
    h = await harness(portal, service, dialect=dialect)
    if settings:
        await set_settings(h, **settings)
    data = data if data is not None else base()
    await h.load(data)
    if groups:
        await assign_groups(h, *groups)
    return h, data


async def check(
    h: Harness,
    data: dict[str, Any],
    *,
    active: set[str],
    disabled: set[str] = frozenset(),  # type: ignore[assignment]
    groups: tuple[str, ...] = ASSIGNED,
    flatten: bool = False,
) -> TargetState:
    """The portal holds exactly what the directory says, for these users and groups."""
    state = await portal_state(h)
    assert state.users == expected_users(data, active, disabled)
    assert state.groups == expected_groups(data, groups, active, flatten=flatten)
    return state


def counts(**nonzero: int) -> dict[str, int]:
    keys = ("created", "updated", "disabled", "deleted", "skipped", "failed", "staged")
    return {k: nonzero.get(k, 0) for k in keys}


def ops(body: dict[str, Any]) -> list[tuple[str, str, Any]]:
    return [(op["op"], op.get("path"), op.get("value")) for op in body["Operations"]]


def bool_on_wire(dialect: str, value: bool) -> Any:
    return value if dialect == "rfc" else ("True" if value else "False")


def op_name(dialect: str, name: str) -> str:
    return name if dialect == "rfc" else name.capitalize()


async def initial(h: Harness, data: dict[str, Any], dialect: str = "rfc", **expect: Any) -> TargetState:
    summary, _ = await sync_recorded(h, dialect)
    assert_clean(summary)
    assert summary.kind == "initial"
    return await check(h, data, **expect)


# -- attribute changes and renames ------------------------------------------------------------------


@DIALECTS
async def test_attribute_change_is_one_patch_with_only_the_changed_attributes(
    portal: Portal, service: Service, dialect: str
) -> None:
    h, data = await start(portal, service, dialect)
    before = await initial(h, data, dialect, active={CEO, ADA, BOB})

    ada = user_of(data, ADA)
    ada.update(jobTitle="Principal engineer", surname="King", displayName="Ada King")
    await h.load(data)
    summary, sent = await sync_recorded(h, dialect)

    assert_clean(summary)
    assert summary.counts == counts(updated=1)
    [patch] = sent.writes()
    assert (patch.method, patch.path) == ("PATCH", f"/Users/{before.user_ids[ADA]}")
    replace = op_name(dialect, "replace")
    assert sorted(ops(patch.body)) == [
        (replace, "displayName", "Ada King"),
        (replace, "name.familyName", "King"),
        (replace, "name.formatted", "Ada King"),
        (replace, "title", "Principal engineer"),
    ]
    [record] = [r for r in await cycle_logs(h, summary.cycle_id) if r["action"] != "other"]
    assert (record["action"], record["status"], record["source_name"]) == ("update", "success", ADA)
    assert record["target_id"] == before.user_ids[ADA]
    assert {m["displayName"]: (m["oldValue"], m["newValue"]) for m in record["modified"]} == {
        "displayName": ("Ada Lovelace", "Ada King"),
        "name.familyName": ("Lovelace", "King"),
        "name.formatted": ("Ada Lovelace", "Ada King"),
        "title": ("Engineer", "Principal engineer"),
    }
    after = await check(h, data, active={CEO, ADA, BOB})
    assert after.user_ids == before.user_ids


@DIALECTS
async def test_group_rename_renames_the_same_target_group(
    portal: Portal, service: Service, dialect: str
) -> None:
    h, data = await start(portal, service, dialect)
    before = await initial(h, data, dialect, active={CEO, ADA, BOB})

    sales = group_of(data, "Sales")
    sales.update(id=await group_id(h, "Sales"), displayName="Sales EMEA")
    await h.load(data)
    summary, sent = await sync_recorded(h, dialect)

    assert_clean(summary)
    assert summary.counts == counts(updated=1)
    [patch] = sent.writes()
    assert (patch.method, patch.path) == ("PATCH", f"/Groups/{before.group_ids['Sales']}")
    assert ops(patch.body) == [(op_name(dialect, "replace"), "displayName", "Sales EMEA")]
    after = await check(h, data, active={CEO, ADA, BOB}, groups=("Leadership", "Engineering", "Sales EMEA"))
    assert after.group_ids["Sales EMEA"] == before.group_ids["Sales"]
    assert after.user_ids == before.user_ids


# -- memberships and assignments ------------------------------------------------------------------


@DIALECTS
async def test_user_moved_between_assigned_groups_moves_membership_and_stays_active(
    portal: Portal, service: Service, dialect: str
) -> None:
    h, data = await start(portal, service, dialect)
    before = await initial(h, data, dialect, active={CEO, ADA, BOB})

    group_of(data, "Sales")["members"] = []
    group_of(data, "Engineering")["members"] = [ADA, BOB]
    await h.load(data)
    summary, sent = await sync_recorded(h, dialect)

    assert_clean(summary)
    assert summary.counts["disabled"] == 0
    assert summary.counts["created"] == 0
    bob = before.user_ids[BOB]
    assert not [s for s in sent.writes() if s.path.startswith("/Users/")], "bob's user object is left alone"
    group_writes = {s.path: s.body for s in sent.writes()}
    assert set(group_writes) == {
        f"/Groups/{before.group_ids['Sales']}",
        f"/Groups/{before.group_ids['Engineering']}",
    }
    assert ops(group_writes[f"/Groups/{before.group_ids['Engineering']}"]) == [
        (op_name(dialect, "add"), "members", [{"value": bob}])
    ]
    removal = ops(group_writes[f"/Groups/{before.group_ids['Sales']}"])
    if dialect == "rfc":
        assert removal == [("remove", f'members[value eq "{bob}"]', None)]
    else:
        assert removal == [("Remove", "members", [{"value": bob}])]
    await check(h, data, active={CEO, ADA, BOB})


@DIALECTS
async def test_unassigned_group_disables_members_without_other_assignment_and_is_deleted(
    portal: Portal, service: Service, dialect: str
) -> None:
    data = base()
    group_of(data, "Sales")["members"] = [BOB, CEO]  # the ceo is also assigned through Leadership
    h, data = await start(portal, service, dialect, data=data)
    before = await initial(h, data, dialect, active={CEO, ADA, BOB})
    assert before.groups["Sales"] == {BOB, CEO}

    await unassign(h, "group", "Sales")
    summary, sent = await sync_recorded(h, dialect)

    assert_clean(summary)
    assert summary.counts["disabled"] == 1
    assert summary.counts["deleted"] == 1
    assert summary.counts["created"] == 0
    writes = [(s.method, s.path) for s in sent.writes()]
    assert ("DELETE", f"/Groups/{before.group_ids['Sales']}") in writes
    disables = [s for s in sent.writes() if s.path == f"/Users/{before.user_ids[BOB]}"]
    assert [ops(s.body) for s in disables] == [
        [(op_name(dialect, "replace"), "active", bool_on_wire(dialect, False))]
    ]
    assert not [s for s in sent.writes() if s.path == f"/Users/{before.user_ids[CEO]}"]
    after = await check(h, data, active={CEO, ADA}, disabled={BOB}, groups=("Leadership", "Engineering"))
    assert after.user_ids[BOB] == before.user_ids[BOB], "disabled, still there"
    assert await portal_status(h, f"/Groups/{before.group_ids['Sales']}") == 404


async def test_user_unassigned_directly_is_disabled(portal: Portal, service: Service) -> None:
    h, data = await start(portal, service, groups=("Leadership",))
    await assign_users(h, EVE)
    await initial(h, data, active={CEO, EVE}, groups=("Leadership",))

    await unassign(h, "user", EVE)
    summary, _ = await sync_recorded(h)

    assert_clean(summary)
    assert summary.counts == counts(disabled=1)
    await check(h, data, active={CEO}, disabled={EVE}, groups=("Leadership",))

    # Assigned again: re-enabled, same object.
    await assign_users(h, EVE)
    summary, _ = await sync_recorded(h)
    assert_clean(summary)
    assert summary.counts["created"] == 0
    await check(h, data, active={CEO, EVE}, groups=("Leadership",))


@pytest.mark.parametrize("how", ["soft", "hard"])
async def test_deleted_group_is_deleted_and_its_members_without_other_assignment_disabled(
    portal: Portal, service: Service, how: str
) -> None:
    """A group deleted from the directory takes its assignment with it: the group leaves the
    target and its members who have no other assignment are disabled (§2.6, §3.6)."""
    data = base()
    group_of(data, "Sales")["members"] = [BOB, CEO]  # the ceo is also assigned through Leadership
    h, data = await start(portal, service, data=data)
    before = await initial(h, data, active={CEO, ADA, BOB})

    sales = await group_id(h, "Sales")
    async with service.db.write() as conn:
        if how == "soft":
            assert await lifecycle.soft_delete_group(conn, sales)
        else:
            await lifecycle.hard_delete_group(conn, sales)
    summary, _ = await sync_recorded(h)

    assert_clean(summary)
    await check(h, data, active={CEO, ADA}, disabled={BOB}, groups=("Leadership", "Engineering"))
    assert await portal_status(h, f"/Groups/{before.group_ids['Sales']}") == 404
    assert (summary.counts["deleted"], summary.counts["disabled"]) == (1, 1)


# -- disable, re-enable, soft and hard delete ---------------------------------------------------


@DIALECTS
async def test_account_disabled_then_enabled_again(portal: Portal, service: Service, dialect: str) -> None:
    h, data = await start(portal, service, dialect)
    before = await initial(h, data, dialect, active={CEO, ADA, BOB})

    user_of(data, BOB)["accountEnabled"] = False
    await h.load(data)
    summary, sent = await sync_recorded(h, dialect)
    assert_clean(summary)
    assert summary.counts["disabled"] == 1
    bob_writes = [s for s in sent.writes() if s.path == f"/Users/{before.user_ids[BOB]}"]
    assert [ops(s.body) for s in bob_writes] == [
        [(op_name(dialect, "replace"), "active", bool_on_wire(dialect, False))]
    ]
    await check(h, data, active={CEO, ADA}, disabled={BOB})

    user_of(data, BOB)["accountEnabled"] = True
    await h.load(data)
    summary, sent = await sync_recorded(h, dialect)
    assert_clean(summary)
    assert summary.counts["created"] == 0
    assert summary.counts["disabled"] == 0
    bob_writes = [s for s in sent.writes() if s.path == f"/Users/{before.user_ids[BOB]}"]
    assert [ops(s.body) for s in bob_writes] == [
        [(op_name(dialect, "replace"), "active", bool_on_wire(dialect, True))]
    ]
    after = await check(h, data, active={CEO, ADA, BOB})
    assert after.user_ids == before.user_ids


async def test_soft_delete_disables_and_restore_enables_again(portal: Portal, service: Service) -> None:
    h, data = await start(portal, service)
    before = await initial(h, data, active={CEO, ADA, BOB})
    bob = await user_id(h, BOB)

    async with service.db.write() as conn:
        assert await lifecycle.soft_delete_user(conn, bob)
    summary, sent = await sync_recorded(h)
    assert_clean(summary)
    assert summary.counts["disabled"] == 1
    assert summary.counts["deleted"] == 0
    assert "DELETE" not in {s.method for s in sent.writes()}
    await check(h, data, active={CEO, ADA}, disabled={BOB})

    async with service.db.write() as conn:
        assert await lifecycle.restore_user(conn, bob)
    summary, _ = await sync_recorded(h)
    assert_clean(summary)
    assert summary.counts["created"] == 0
    after = await check(h, data, active={CEO, ADA, BOB})
    assert after.user_ids == before.user_ids


@pytest.mark.parametrize(
    ("provision_groups", "flatten"),
    [(True, False), (True, True), (False, False)],
    ids=["groups", "flattened", "users-only"],
)
async def test_soft_deleted_assigned_group_takes_its_members_out_of_scope_and_restoring_it_brings_them_back(
    portal: Portal, service: Service, provision_groups: bool, flatten: bool
) -> None:
    """Whatever the group settings: the members of an assigned group that is soft-deleted are
    disabled (the group, when provisioned, deleted), and when it is restored they are active
    again in the same target users (the group, and with flattening its nested groups, made
    again). Engineering's direct member is Ada; Design (Dan) is nested in it."""
    settings = {"provision_groups": provision_groups, "flatten_nested_groups": flatten}
    h, data = await start(portal, service, **settings)
    kept = ("Leadership", "Sales")
    groups = (*ASSIGNED, "Design") if flatten else ASSIGNED
    members = {ADA, DAN} if flatten else {ADA}
    shown = groups if provision_groups else ()
    before = await initial(h, data, active={CEO, BOB} | members, groups=shown, flatten=flatten)
    engineering = await group_id(h, "Engineering")

    async with service.db.write() as conn:
        assert await lifecycle.soft_delete_group(conn, engineering)
    summary, _ = await sync_recorded(h)
    assert_clean(summary)
    assert summary.counts["disabled"] == len(members)
    await check(h, data, active={CEO, BOB}, disabled=members, groups=kept if provision_groups else ())

    async with service.db.write() as conn:
        assert await lifecycle.restore_group(conn, engineering)
    summary, _ = await sync_recorded(h)
    assert_clean(summary)
    after = await check(h, data, active={CEO, BOB} | members, groups=shown, flatten=flatten)
    assert after.user_ids == before.user_ids


async def test_hard_delete_deletes_from_the_target(portal: Portal, service: Service) -> None:
    h, data = await start(portal, service)
    before = await initial(h, data, active={CEO, ADA, BOB})

    # Bob is hard-deleted while active; Ada goes through the recycle bin first.
    async with service.db.write() as conn:
        await lifecycle.hard_delete_user(conn, await user_id(h, BOB))
        assert await lifecycle.soft_delete_user(conn, await user_id(h, ADA))
    summary, sent = await sync_recorded(h)
    assert_clean(summary)
    assert summary.counts["deleted"] == 1
    assert summary.counts["disabled"] == 1
    assert ("DELETE", f"/Users/{before.user_ids[BOB]}") in [(s.method, s.path) for s in sent.writes()]
    assert await portal_status(h, f"/Users/{before.user_ids[BOB]}") == 404
    await check(h, data, active={CEO}, disabled={ADA})

    async with service.db.write() as conn:
        await lifecycle.hard_delete_user(conn, await user_id(h, ADA))
    summary, sent = await sync_recorded(h)
    assert_clean(summary)
    # Dan, whose manager Ada was, changes too (his manager is cleared); he is not in scope.
    assert summary.counts == counts(deleted=1, skipped=1)
    assert [(s.method, s.path) for s in sent.writes()] == [("DELETE", f"/Users/{before.user_ids[ADA]}")]
    assert await portal_status(h, f"/Users/{before.user_ids[ADA]}") == 404
    await check(h, data, active={CEO})


# -- nested groups, scoping filters, scope -------------------------------------------------------


async def test_nested_group_members_are_not_provisioned_without_flattening(
    portal: Portal, service: Service
) -> None:
    h, data = await start(portal, service, groups=("Engineering",))
    await initial(h, data, active={ADA}, groups=("Engineering",))


async def test_flattening_provisions_nested_members_into_the_parent_group(
    portal: Portal, service: Service
) -> None:
    h, data = await start(portal, service, groups=("Engineering",), flatten_nested_groups=True)
    nested = ("Engineering", "Design")
    await initial(h, data, active={ADA, DAN}, groups=nested, flatten=True)

    # A user joins the nested group later: provisioned, and a member of both groups.
    fay = {**user_of(data, DAN), "userPrincipalName": FAY, "mail": FAY, "givenName": "Fay"}
    data["users"].append({**fay, "displayName": "Fay Brook", "jobTitle": "Illustrator"})
    group_of(data, "Design")["members"] = [DAN, FAY]
    await h.load(data)
    summary, _ = await sync_recorded(h)
    assert_clean(summary)
    assert summary.counts["created"] == 1
    await check(h, data, active={ADA, DAN, FAY}, groups=nested, flatten=True)

    # And leaves it: disabled, out of both groups.
    group_of(data, "Design")["members"] = [DAN]
    await h.load(data)
    summary, _ = await sync_recorded(h)
    assert_clean(summary)
    assert summary.counts["disabled"] == 1
    await check(h, data, active={ADA, DAN}, disabled={FAY}, groups=nested, flatten=True)


async def test_flattening_a_group_taken_out_of_its_parent_deprovisions_it(
    portal: Portal, service: Service
) -> None:
    """Design stops being nested in the assigned Engineering: Design leaves scope (deleted in the
    target), and Dan, assigned only through it, is disabled and leaves Engineering."""
    h, data = await start(portal, service, groups=("Engineering",), flatten_nested_groups=True)
    before = await initial(h, data, active={ADA, DAN}, groups=("Engineering", "Design"), flatten=True)

    group_of(data, "Engineering")["groupMembers"] = []
    await h.load(data)
    summary, _ = await sync_recorded(h)

    assert_clean(summary)
    await check(h, data, active={ADA}, disabled={DAN}, groups=("Engineering",), flatten=True)
    assert await portal_status(h, f"/Groups/{before.group_ids['Design']}") == 404
    assert (summary.counts["deleted"], summary.counts["disabled"]) == (1, 1)


SCOPING = [
    {
        "title": "Employees only",
        "clauses": [{"attribute": "employeeType", "operator": "EQUALS", "value": "Employee"}],
    }
]


async def test_scoping_filter_excludes_users(portal: Portal, service: Service) -> None:
    data = base()
    for user in data["users"]:
        user["employeeType"] = "Contractor" if user["userPrincipalName"] == BOB else "Employee"
    h, data = await start(portal, service, data=data)
    async with service.db.write() as conn:
        app = await app_store.get_app(conn, h.app_name)
        await app_store.update_app(conn, app.id, scoping=SCOPING)
    await initial(h, data, active={CEO, ADA})

    # Ada falls out of the filter: disabled (employeeType is not a mapped attribute), and
    # removed from Engineering (one group update).
    user_of(data, ADA)["employeeType"] = "Contractor"
    await h.load(data)
    summary, sent = await sync_recorded(h)
    assert_clean(summary)
    assert summary.counts == counts(disabled=1, updated=1)
    assert sorted((s.method, s.path.split("/")[1]) for s in sent.writes()) == [
        ("PATCH", "Groups"),
        ("PATCH", "Users"),
    ]
    await check(h, data, active={CEO}, disabled={ADA})


RUNAWAY = [
    {
        "title": "Not a runaway",
        "clauses": [{"attribute": "employeeType", "operator": "NOT REGEX MATCH", "value": "^(a|a)+$"}],
    }
]


@pytest.mark.parametrize("cycle", ["incremental", "initial"])
async def test_a_scoping_regex_past_its_time_limit_skips_the_user_and_leaves_it_as_it_is(
    portal: Portal, service: Service, cycle: str
) -> None:
    """A pattern that backtracks for ever on one user's value stops at the time limit: that user
    is skipped (neither disabled nor dropped from its groups, nor created), the others go on."""
    data = base()
    for user in data["users"]:
        user["employeeType"] = "Employee"
    h, data = await start(portal, service, data=data)
    async with service.db.write() as conn:
        app = await app_store.get_app(conn, h.app_name)
        await app_store.update_app(conn, app.id, scoping=RUNAWAY)
    await initial(h, data, active={CEO, ADA, BOB})

    user_of(data, ADA)["employeeType"] = "a" * 40 + "!"  # 2^40 paths for a backtracking engine
    data["users"].append({**user_of(data, BOB), "userPrincipalName": FAY, "mail": FAY})
    user_of(data, FAY)["employeeType"] = "a" * 40 + "!"
    group_of(data, "Sales")["members"].append(FAY)
    await h.load(data)
    if cycle == "initial":
        async with service.db.write() as conn:
            await app_store.update_app(conn, (await h.app()).id, watermark=None)
    summary, sent = await sync_recorded(h)

    assert summary.status == "succeeded", summary
    assert summary.kind == cycle
    assert not sent.writes()
    await check(h, data, active={CEO, ADA, BOB})  # Ada still active and in Engineering
    records = {
        r["source_name"]: r for r in await cycle_logs(h, summary.cycle_id) if r["object_kind"] == "user"
    }
    for upn in (ADA, FAY):
        assert records[upn]["status"] == "skipped"
        reasons = [s["details"].get("SkipReason") for s in records[upn]["steps"]]
        assert "ScopingFilterNotEvaluated" in reasons, records[upn]["steps"]
        assert any("took longer than 100 ms" in s["description"] for s in records[upn]["steps"])


async def test_a_mapping_regex_past_its_time_limit_skips_that_user_and_the_cycle_goes_on(
    portal: Portal, service: Service
) -> None:
    h, data = await start(portal, service)
    await operations.map_attribute(
        service,
        await h.app(),
        "user",
        "title",
        "expression",
        'Replace([jobTitle], , "^(\\w|\\w\\w)+!$", , "x", , )',  # no title ends in "!"
        on_create=False,
        matching=None,
        default=None,
    )
    await initial(h, data, active={CEO, ADA, BOB})

    user_of(data, ADA)["jobTitle"] = "a" * 40 + "!?"  # 2^40 ways to fail at the "?"
    user_of(data, BOB)["jobTitle"] = "Sales lead"
    await h.load(data)
    summary, sent = await sync_recorded(h)

    assert summary.status == "succeeded", summary
    assert summary.counts == counts(updated=1, skipped=1)
    assert [(s.method, s.path) for s in sent.writes()] == [
        ("PATCH", f"/Users/{(await portal_state(h)).user_ids[BOB]}")
    ]
    ada = next(r for r in await cycle_logs(h, summary.cycle_id) if r["source_name"] == ADA)
    assert ada["status"] == "skipped"
    skip = next(s for s in ada["steps"] if s["details"].get("SkipReason"))
    assert skip["details"]["SkipReason"] == "MappingEvaluationFailed"
    assert 'mapping for "title": the regular expression' in skip["description"]
    assert "took longer than 100 ms on a 42-character value; simplify it" in skip["description"]


async def test_scope_all_provisions_every_enabled_user(portal: Portal, service: Service) -> None:
    data = base()
    data["users"].append(
        {**user_of(data, EVE), "userPrincipalName": ZED, "mail": ZED, "accountEnabled": False}
    )
    h, data = await start(portal, service, data=data, groups=(), scope="all")
    everyone = {CEO, ADA, BOB, EVE, DAN}
    every_group = ("Leadership", "Engineering", "Sales", "Auditors", "Design")
    await initial(h, data, active=everyone, groups=every_group)

    # The disabled user is enabled: created in the next cycle.
    user_of(data, ZED)["accountEnabled"] = True
    await h.load(data)
    summary, _ = await sync_recorded(h)
    assert_clean(summary)
    assert summary.counts["created"] == 1
    await check(h, data, active=everyone | {ZED}, groups=every_group)


# -- references -----------------------------------------------------------------------------------


@DIALECTS
async def test_manager_assigned_after_the_report_is_set_in_the_next_cycle(
    portal: Portal, service: Service, dialect: str
) -> None:
    h, data = await start(portal, service, dialect, groups=("Engineering",))
    before = await initial(h, data, dialect, active={ADA}, groups=("Engineering",))
    assert before.users[ADA]["manager"] is None

    await assign_groups(h, "Leadership")
    summary, sent = await sync_recorded(h, dialect)
    assert_clean(summary)
    after = await check(h, data, active={CEO, ADA}, groups=("Leadership", "Engineering"))
    assert after.users[ADA]["manager"] == CEO
    ceo = after.user_ids[CEO]
    manager_writes = [s for s in sent.writes() if s.path == f"/Users/{before.user_ids[ADA]}"]
    path = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"
    if dialect == "rfc":
        assert [ops(s.body) for s in manager_writes] == [[("replace", path, {"value": ceo})]]
    else:
        assert [ops(s.body) for s in manager_writes] == [[("Add", path, ceo)]]


# -- settings ---------------------------------------------------------------------------------------


async def test_skip_out_of_scope_deletions_leaves_unassigned_users_active(
    portal: Portal, service: Service
) -> None:
    h, data = await start(portal, service, groups=("Leadership", "Sales"), skip_out_of_scope_deletions=True)
    await assign_users(h, EVE)
    await initial(h, data, active={CEO, BOB, EVE}, groups=("Leadership", "Sales"))

    await unassign(h, "group", "Sales")
    await unassign(h, "user", EVE)
    summary, sent = await sync_recorded(h)
    assert_clean(summary)
    assert summary.counts["disabled"] == 0
    assert not [s for s in sent.writes() if s.path.startswith("/Users/")]
    await check(h, data, active={CEO, BOB, EVE}, groups=("Leadership",))
    records = {
        r["source_name"]: r for r in await cycle_logs(h, summary.cycle_id) if r["object_kind"] == "user"
    }
    for upn in (BOB, EVE):
        assert records[upn]["status"] == "skipped"
        assert any(
            s["details"].get("SkipReason") == "OutOfScopeDeletionSkipped" for s in records[upn]["steps"]
        )

    # The setting spares unassignment, not a disabled account.
    user_of(data, BOB)["accountEnabled"] = False
    await h.load(data)
    summary, _ = await sync_recorded(h)
    assert_clean(summary)
    assert summary.counts["disabled"] == 1
    await check(h, data, active={CEO, EVE}, disabled={BOB}, groups=("Leadership",))


# -- adoption ---------------------------------------------------------------------------------------


async def add_app(h: Harness, name: str) -> Harness:
    """A second application on the same portal tenant, assigned the same groups."""
    async with h.service.db.write() as conn:
        app = await app_store.create_app(
            conn, name, mapping_to_json(default_user_mapping()), mapping_to_json(default_group_mapping())
        )
        await app_store.connect(conn, app, TENANT_URL, h.service.secrets.seal(h.token))
        await app_store.start(conn, await app_store.get_app(conn, name))
    second = Harness(h.portal, h.service, h.token, app_name=name)
    await assign_groups(second, *ASSIGNED)
    return second


async def test_second_app_on_the_same_portal_adopts_instead_of_duplicating(
    portal: Portal, service: Service
) -> None:
    h, data = await start(portal, service)
    before = await initial(h, data, active={CEO, ADA, BOB})

    second = await add_app(h, "Learning portal again")
    summary, sent = await sync_recorded(second)
    assert_clean(summary)
    assert summary.kind == "initial"
    assert summary.counts["created"] == 0
    assert "POST" not in {s.method for s in sent.writes()}
    after = await check(h, data, active={CEO, ADA, BOB})
    assert (after.user_ids, after.group_ids) == (before.user_ids, before.group_ids)

    # The second app now owns links to the same objects: a change travels through it.
    user_of(data, ADA)["jobTitle"] = "Staff engineer"
    await h.load(data)
    summary, sent = await sync_recorded(second)
    assert_clean(summary)
    assert [(s.method, s.path) for s in sent.writes()] == [("PATCH", f"/Users/{before.user_ids[ADA]}")]
    await check(h, data, active={CEO, ADA, BOB})


async def test_restart_after_losing_links_adopts_instead_of_duplicating(
    portal: Portal, service: Service
) -> None:
    h, data = await start(portal, service)
    before = await initial(h, data, active={CEO, ADA, BOB})

    app = await h.app()
    async with service.db.write() as conn:
        await conn.execute(sa.delete(links).where(links.c.app_id == app.id))
        await conn.execute(sa.delete(link_members).where(link_members.c.app_id == app.id))
        await app_store.restart(conn, app)
    summary, sent = await sync_recorded(h)
    assert_clean(summary)
    assert summary.kind == "initial"
    assert summary.counts["created"] == 0
    assert "POST" not in {s.method for s in sent.writes()}
    after = await check(h, data, active={CEO, ADA, BOB})
    assert (after.user_ids, after.group_ids) == (before.user_ids, before.group_ids)

    # The links are back: the next change is an update of the same object.
    group_of(data, "Sales")["members"] = []
    await h.load(data)
    summary, _ = await sync_recorded(h)
    assert_clean(summary)
    await check(h, data, active={CEO, ADA}, disabled={BOB})
