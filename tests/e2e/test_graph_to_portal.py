"""From a Graph tenant to the portal: the fake Graph on loopback → `source sync` (the operation
the CLI runs) → an application assigned to groups → a cycle into the portal's real SCIM
endpoint. After the initial read and after a delta round (a rename, a disable, a deletion, a
membership change, a manager change) and a restore, the portal equals the source: its active users are exactly
the assigned, enabled, live users; its groups the assigned groups with those of their members;
every manager the source's. Both SCIM dialects, both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from enlist.lms.api.runtime import Portal
from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from tests.e2e.engine_harness import assign_groups, harness
from tests.e2e.graph_portal import ASSIGNED, ENTERPRISE, cycle, expected, fake_graph, portal_state, seed
from tests.fakes.graph.app import FakeGraph
from tests.integration.sources.graph_helpers import CLIENT_ID, SECRET


@pytest.fixture
async def fake() -> AsyncIterator[FakeGraph]:
    async with fake_graph() as graph:
        yield graph


@pytest.mark.parametrize("dialect", ["rfc", "entra"])
async def test_the_portal_equals_the_graph_tenant_after_the_first_read_and_after_a_delta_round(
    portal: Portal, service: Service, fake: FakeGraph, dialect: str
) -> None:
    t = fake.tenant
    ids = seed(t)
    ada, bob, dan, eve, sales = ids["ada"], ids["bob"], ids["dan"], ids["eve"], ids["sales"]

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
