"""The Graph reader against the fake Graph over loopback HTTP: full reads and delta rounds
(graph-source.md §8.5 scenarios 1-3), scope, request shapes and request counts."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from enlist.provisioning.sources.model import UNCHANGED, Removal
from tests.fakes.graph.app import FakeGraph
from tests.fakes.graph.faults import Fault
from tests.integration.sources.graph_helpers import Clock, Directory, reader_for, truth


def company(fake: FakeGraph, people: int) -> tuple[list[str], list[str]]:
    """`people` users, every 10th the manager of the next nine, in 3 groups, one nested."""
    tenant = fake.tenant
    users = [tenant.create_user(f"user{i}@contoso.com", department=f"D{i % 4}") for i in range(people)]
    for i, user in enumerate(users):
        if i % 10:
            tenant.set_manager(user, users[i - i % 10])
    groups = [tenant.create_group(name) for name in ("Sales", "Engineering", "All staff")]
    for i, user in enumerate(users):
        tenant.add_member(groups[i % 2], user)
    tenant.add_member(groups[2], groups[0])
    tenant.add_member(groups[2], groups[1])
    return users, groups


async def test_full_read_lists_every_user_group_member_and_manager(fake: FakeGraph) -> None:
    fake.knobs.page_size = 999
    company(fake, 2500)
    reader = reader_for(fake)
    directory = Directory()

    cursor = await directory.apply(await reader.start_round(None))

    assert cursor is not None
    assert directory.view() == truth(fake)
    assert len(directory.users) == 2500
    # 2,500 users in pages of 999 are 3 pages; 3 groups, 1 page.
    assert len(fake.graph_requests("users_delta")) == 3
    assert len(fake.graph_requests("groups_delta")) == 1


async def test_a_delta_round_carries_every_kind_of_change(fake: FakeGraph) -> None:
    users, groups = company(fake, 30)
    reader = reader_for(fake)
    directory = Directory()
    cursor = await directory.apply(await reader.start_round(None))
    tenant = fake.tenant

    newcomer = tenant.create_user("new@contoso.com", department="D9")
    tenant.update_user(users[1], department="Finance")  # selected property
    tenant.update_user(users[2], companyName="Fabrikam")  # not selected: no record
    tenant.rename_user(users[3], "renamed@contoso.com")
    tenant.disable_user(users[4])
    tenant.delete_user(users[5])  # soft: @removed changed
    tenant.delete_user(users[6])
    tenant.restore_user(users[6])  # restored: a plain object again
    tenant.purge_user(users[7])  # @removed deleted
    tenant.set_manager(users[8], users[20])
    tenant.set_manager(users[9], None)
    tenant.add_member(groups[0], newcomer)
    tenant.remove_member(groups[1], users[11])
    nested = tenant.create_group("Nested")
    tenant.add_member(groups[2], nested)
    tenant.update_group(groups[1], displayName="Engineering (all)")

    delta_round = await reader.start_round(cursor)
    pages = [page async for page in delta_round.pages()]
    records = {u.source_id: u for p in pages for u in p.users}
    removals = {r.source_id: r for p in pages for r in p.removals}

    assert delta_round.kind == "delta"
    assert delta_round.cursor is not None
    assert users[2] not in records
    assert removals[users[5]] == Removal("user", users[5], "changed")
    assert removals[users[7]] == Removal("user", users[7], "deleted")
    assert records[users[8]].manager == users[20]
    assert records[users[9]].manager is None
    assert records[users[1]].manager is UNCHANGED  # manager@delta only when the manager changed
    assert records[users[3]].attributes["userPrincipalName"] == "renamed@contoso.com"
    assert records[users[4]].attributes["accountEnabled"] is False

    # Applied, the directory equals the tenant again; a rename kept the object.
    for page in pages:
        for user in page.users:
            directory._user(user)
        for group in page.groups:
            directory._group(group)
        for removal in page.removals:
            directory._remove(removal)
    assert directory.view() == truth(fake)
    assert users[3] in directory.users


async def test_a_delta_round_with_no_change_lists_nothing_and_gives_a_new_cursor(fake: FakeGraph) -> None:
    company(fake, 10)
    reader = reader_for(fake)
    directory = Directory()
    cursor = await directory.apply(await reader.start_round(None))

    delta_round = await reader.start_round(cursor)
    pages = [page async for page in delta_round.pages()]

    assert pages == []
    assert delta_round.cursor is not None
    assert delta_round.cursor != cursor


async def test_a_large_group_split_over_pages_is_one_complete_member_list(fake: FakeGraph) -> None:
    fake.knobs.page_size = 1
    fake.knobs.member_slice = 3
    _users, groups = company(fake, 20)
    directory = Directory()

    await directory.apply(await reader_for(fake).start_round(None))

    assert directory.view() == truth(fake)
    assert len(directory.members[groups[0]]) == 10


@pytest.mark.parametrize("knob", ["duplicates", "replay", "empty_pages"])
async def test_duplicates_replays_and_empty_pages_converge(fake: FakeGraph, knob: str) -> None:
    setattr(fake.knobs, knob, True)
    users, groups = company(fake, 12)
    reader = reader_for(fake)
    directory = Directory()
    cursor = await directory.apply(await reader.start_round(None))
    for _ in range(2):
        fake.tenant.update_user(users[0], department="Moved")
        fake.tenant.remove_member(groups[0], users[2])
        fake.tenant.add_member(groups[0], users[2])
        fake.tenant.set_manager(users[3], users[0])
        cursor = await directory.apply(await reader.start_round(cursor))

    assert directory.view() == truth(fake)


async def test_a_change_not_yet_visible_arrives_in_a_later_round(fake: FakeGraph) -> None:
    users, _ = company(fake, 5)
    reader = reader_for(fake)
    directory = Directory()
    cursor = await directory.apply(await reader.start_round(None))
    fake.tenant.visibility_delay = 30
    fake.tenant.update_user(users[1], department="Late")
    fake.tenant.visibility_delay = 0

    cursor = await directory.apply(await reader.start_round(cursor))
    assert directory.users[users[1]]["department"] != "Late"

    fake.tenant.advance_clock(60)
    await directory.apply(await reader.start_round(cursor))
    assert directory.users[users[1]]["department"] == "Late"


async def test_a_user_purged_without_group_delta_still_leaves_the_directory(fake: FakeGraph) -> None:
    """The OBS of §5.4: group delta may never say a purged member left."""
    users, _groups = company(fake, 6)
    reader = reader_for(fake)
    directory = Directory()
    cursor = await directory.apply(await reader.start_round(None))

    fake.tenant.purge_user(users[2], drop_memberships_in_delta=False)
    await directory.apply(await reader.start_round(cursor))

    assert users[2] not in directory.users
    assert directory.view() == truth(fake)


async def test_a_full_round_after_changes_converges_and_drops_vanished_objects(fake: FakeGraph) -> None:
    users, groups = company(fake, 10)
    reader = reader_for(fake)
    directory = Directory()
    await directory.apply(await reader.start_round(None))
    fake.tenant.purge_user(users[4])
    fake.tenant.delete_group(groups[1])
    fake.tenant.set_manager(users[1], None)  # a full round says "no manager" by leaving it out

    await directory.apply(await reader.start_round(None, full=True))

    assert directory.managers[users[1]] is None

    assert directory.view() == truth(fake)


async def test_request_shapes_are_what_graph_expects(fake: FakeGraph) -> None:
    fake.knobs.page_size = 4
    users, _ = company(fake, 12)
    reader = reader_for(fake)
    directory = Directory()
    cursor = await directory.apply(await reader.start_round(None))
    fake.tenant.update_user(users[0], department="X")
    await directory.apply(await reader.start_round(cursor))

    graph = fake.graph_requests()
    delta_requests = [r for r in graph if r.route in {"users_delta", "groups_delta"}]
    first_of_each = {r.route: r for r in reversed(delta_requests[: len(delta_requests) // 2 + 1])}
    for request in delta_requests:
        query = parse_qs(urlsplit(request.url).query)
        if request in first_of_each.values():
            assert "$select" in query
        else:
            assert "$select" not in query, request.url  # $select only on a round's first request
            assert "$skiptoken" in query or "$deltatoken" in query
    for request in graph:
        assert request.headers.get("client-request-id"), request.url
        assert request.headers.get("x-ms-throttle-priority") == "low"
        assert request.headers["authorization"].startswith("Bearer ")
    for request in fake.requests:
        if request.route == "token":
            assert "authorization" not in request.headers  # no bearer token to the login host


@pytest.mark.parametrize("people", [200, 2000])
async def test_a_100_change_delta_round_sends_the_same_requests_at_any_tenant_size(
    fake: FakeGraph, people: int
) -> None:
    fake.knobs.page_size = 200
    users, groups = company(fake, people)
    reader = reader_for(fake)
    cursor = await Directory().apply(await reader.start_round(None))
    before = len(fake.graph_requests())
    for i in range(60):
        fake.tenant.update_user(users[i], department="Changed")
    for i in range(60, 100):
        fake.tenant.remove_member(groups[i % 2], users[i])

    await Directory().apply(await reader.start_round(cursor))

    # 60 users on one page, 2 groups on another: 2 requests, whether 200 or 2,000 people.
    assert len(fake.graph_requests()) - before == 2


async def test_scope_groups_reads_only_their_transitive_members(fake: FakeGraph) -> None:
    users, groups = company(fake, 20)
    reader = reader_for(fake, scope_groups=(groups[2],))
    only_sales = reader_for(fake, scope_groups=(groups[0],))

    everyone, sales = Directory(), Directory()
    await everyone.apply(await reader.start_round(None))
    cursor = await sales.apply(await only_sales.start_round(None))

    assert set(everyone.users) == set(users)
    assert set(everyone.groups) == set(groups)
    sales_people = set(users[0::2])
    assert set(sales.users) == sales_people
    assert sales.view() == truth(fake, users=sales_people, groups={groups[0]})

    # A user entering the scope changes it: the next round is full and lists them.
    fake.tenant.add_member(groups[0], users[1])
    next_round = await only_sales.start_round(cursor)
    await sales.apply(next_round)
    assert next_round.kind == "full"
    assert users[1] in sales.users


async def test_scope_app_reads_assigned_users_and_direct_members_of_assigned_groups(fake: FakeGraph) -> None:
    users, groups = company(fake, 1300)
    tenant = fake.tenant
    app_id = "9f6b2e3c-0000-4000-8000-00000000a001"
    sp = tenant.create_service_principal(app_id, "iSpring Learn")
    for user in users[:1199]:
        tenant.assign(sp, user)
    tenant.assign(sp, groups[2])  # nested groups' members are not assigned through it
    fake.knobs.page_size = 999
    directory = Directory()
    reader = reader_for(fake, scope_app_id=app_id)

    cursor = await directory.apply(await reader.start_round(None))

    assert set(directory.users) == set(users[:1199])
    assert set(directory.groups) == {groups[2]}
    assert len(fake.graph_requests("assigned_to")) == 2  # 1,200 assignments over 2 pages

    unchanged = await reader.start_round(cursor)
    assert unchanged.kind == "delta"
    tenant.unassign(sp, users[0])
    changed = await reader.start_round(unchanged.cursor or cursor)
    assert changed.kind == "full"
    await directory.apply(changed)
    assert users[0] not in directory.users


async def test_managers_by_batch_read_200_404_and_retried_429(fake: FakeGraph) -> None:
    _users, _ = company(fake, 25)
    clock = Clock()
    reader = reader_for(fake, clock, managers_by_batch=True)
    fake.knobs.page_size = 999
    fake.faults.add("manager", Fault(status=429, retry_after="3"), call=2, times=2)
    directory = Directory()

    await directory.apply(await reader.start_round(None))

    assert directory.view() == truth(fake)
    assert len(fake.graph_requests("batch")) == 3  # 25 users: 20 + 5, and one retry of the throttled two
    assert 3.0 in clock.sleeps
