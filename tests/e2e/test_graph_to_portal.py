"""From a Graph tenant to the portal: the fake Graph on loopback → `source sync` (the operation
the CLI runs) → an application assigned to groups → a cycle into the portal's real SCIM
endpoint. After the initial read and after a delta round (a rename, a disable, a deletion, a
membership change, a manager change) and a restore, the portal equals the source: its active users are exactly
the assigned, enabled, live users; its groups the assigned groups with those of their members;
every manager the source's. Both SCIM dialects, both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from enlist.lms.api.runtime import Portal
from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from tests.e2e.engine_harness import Harness, assign_groups, harness
from tests.fakes.graph.app import FakeGraph
from tests.fakes.graph.server import serve
from tests.fakes.graph.tenant import Tenant

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "e2e-graph-secret~"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ASSIGNED = ("Engineering", "Sales")


@pytest.fixture
async def fake() -> AsyncIterator[FakeGraph]:
    graph = FakeGraph()
    graph.tenant.register_app(CLIENT_ID, secret=SECRET)
    async with serve(graph):
        yield graph


def expected(tenant: Tenant) -> tuple[dict[str, str | None], dict[str, set[str]]]:
    """What the portal must hold: `{userName: manager's userName}` of the active users, and
    `{group: member userNames}` of the assigned groups, computed from the fake's own state. A
    disabled or deleted user is out of scope (engine/scope.py), so no group lists it."""
    live = {uid: tenant.live_user(uid) for uid in tenant.users}
    in_scope = {uid: u for uid, u in live.items() if u and u["accountEnabled"]}
    groups = {
        g["displayName"]: {in_scope[m]["userPrincipalName"] for m in tenant.members[gid] if m in in_scope}
        for gid, g in tenant.groups.items()
        if g["displayName"] in ASSIGNED and tenant.live_group(gid)
    }
    assigned = {
        uid for gid, g in tenant.groups.items() if g["displayName"] in ASSIGNED for uid in tenant.members[gid]
    }
    upn = {uid: u["userPrincipalName"] for uid, u in live.items() if u}
    active = {
        upn[uid]: upn.get(tenant.managers.get(uid, ""))
        for uid in assigned
        if live.get(uid) and live[uid]["accountEnabled"]  # type: ignore[index]
    }
    return active, groups


async def portal_state(h: Harness) -> tuple[dict[str, str | None], dict[str, set[str]]]:
    users = await h.portal_users()
    name_of = {u["id"]: name for name, u in users.items()}
    active: dict[str, str | None] = {}
    for name, user in users.items():
        if user["active"]:
            manager = user.get(ENTERPRISE, {}).get("manager", {}).get("value")
            active[name] = name_of.get(manager) if manager else None
    return active, await h.portal_groups()


async def cycle(h: Harness, dialect: str) -> Any:
    summary, _target = await h.sync(dialect)
    assert summary.status == "succeeded", summary
    assert summary.counts["failed"] == 0
    return summary


@pytest.mark.parametrize("dialect", ["rfc", "entra"])
async def test_the_portal_equals_the_graph_tenant_after_the_first_read_and_after_a_delta_round(
    portal: Portal, service: Service, fake: FakeGraph, dialect: str
) -> None:
    t = fake.tenant
    ceo = t.create_user("ceo@contoso.com", displayName="Cleo Ortiz", jobTitle="CEO")
    ada = t.create_user("ada@contoso.com", displayName="Ada Lovelace", jobTitle="Engineer")
    bob = t.create_user("bob@contoso.com", displayName="Bob Stone")
    dan = t.create_user("dan@contoso.com", displayName="Dan Reed")
    eve = t.create_user("eve@contoso.com", displayName="Eve Moss")
    engineering, sales, auditors = (t.create_group(n) for n in ("Engineering", "Sales", "Auditors"))
    for group, member in (
        (engineering, ada),
        (engineering, ceo),
        (sales, bob),
        (sales, dan),
        (auditors, eve),
    ):
        t.add_member(group, member)
    for report in (ada, bob, dan):
        t.set_manager(report, ceo)

    settings = operations.graph_settings(t.tenant_id, CLIENT_ID, fake.graph_base, fake.auth_base)
    await operations.add(service, "entra", "graph", settings, {"client_secret": SECRET})
    first = (await operations.sync(service, "entra", full=False)).to_json()
    assert (first["kind"], first["users_created"], first["groups_created"]) == ("full", 5, 3)
    h = await harness(portal, service, dialect=dialect)
    await assign_groups(h, *ASSIGNED)
    await cycle(h, dialect)
    want = expected(t)
    assert want[0] == {
        "ceo@contoso.com": None,
        "ada@contoso.com": "ceo@contoso.com",
        "bob@contoso.com": "ceo@contoso.com",
        "dan@contoso.com": "ceo@contoso.com",
    }
    assert await portal_state(h) == want
    ada_in_portal = (await h.portal_users())["ada@contoso.com"]["id"]

    t.rename_user(ada, "ada.lovelace@contoso.com")  # a rename
    t.disable_user(bob)  # a disable
    t.delete_user(dan)  # a deletion (to the recycle bin)
    t.add_member(sales, eve)  # a membership change: eve comes into scope
    t.set_manager(bob, ada)  # a manager change
    t.set_manager(eve, ada)
    delta = (await operations.sync(service, "entra", full=False)).to_json()
    assert (delta["kind"], delta["users_deleted"], delta["memberships_added"]) == ("delta", 1, 1)
    await cycle(h, dialect)
    want = expected(t)
    assert want[0] == {
        "ceo@contoso.com": None,
        "ada.lovelace@contoso.com": "ceo@contoso.com",
        "eve@contoso.com": "ada.lovelace@contoso.com",
    }
    assert await portal_state(h) == want
    users = await h.portal_users()
    assert users["ada.lovelace@contoso.com"]["id"] == ada_in_portal, "a rename keeps the portal's user"
    assert users["bob@contoso.com"]["active"] is False
    bob_manager = users["bob@contoso.com"][ENTERPRISE]["manager"]["value"]
    assert bob_manager == ada_in_portal
    assert "dan@contoso.com" not in users or users["dan@contoso.com"]["active"] is False

    t.restore_user(dan)  # a restore from the recycle bin: back in Sales, back in the portal
    restored = (await operations.sync(service, "entra", full=False)).to_json()
    assert (restored["kind"], restored["users_deleted"]) == ("delta", 0)
    await cycle(h, dialect)
    want = expected(t)
    assert "dan@contoso.com" in want[0]
    assert await portal_state(h) == want
