"""From a Samba AD domain to the portal: a real DC → `source sync` (DirSync deltas) → an
application assigned to groups → a cycle into the portal's real SCIM endpoint. After the first
read, and after a delta with a hire, a move between OUs, a rename (the portal keeps its user), a
disable (userAccountControl), a deletion (a tombstone), group changes and manager changes, and
after the deleted person is re-created (Samba 4.17 cannot restore from its Recycle Bin), the
portal equals the domain: its active users are exactly the enabled members of the assigned
groups, with the domain's managers; its groups the assigned groups with those members. Both SCIM
dialects, both databases."""

from __future__ import annotations

import uuid
from typing import Any

import ldap
import pytest

from enlist.lms.api.runtime import Portal
from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from tests.e2e.engine_harness import assign_groups, harness
from tests.e2e.source_portal import portal_state, read_and_cycle
from tests.ldap_servers import samba_seed as seed
from tests.ldap_servers.samba import SambaDC
from tests.ldap_servers.samba_fixture import shared_samba_dc
from tests.ldap_servers.samba_world import GROUP_FILTER, USER_FILTER

ASSIGNED = ("Engineering", "Sales")


def expected(conn: Any, base: str) -> tuple[dict[str, str | None], dict[str, set[str]]]:
    """What the portal must hold, read from the domain itself: `{upn: manager's upn}` of the
    enabled members of the assigned groups, and `{group: member upns}` of those groups."""
    people = {
        dn.casefold(): attrs
        for dn, attrs in conn.search_s(
            base, ldap.SCOPE_SUBTREE, USER_FILTER, ["userPrincipalName", "manager", "userAccountControl"]
        )
        if dn
    }
    enabled = {dn: a for dn, a in people.items() if not int(a["userAccountControl"][0]) & 2}

    def upn(dn: str) -> str | None:
        found = people.get(dn.casefold())
        return found["userPrincipalName"][0].decode() if found else None

    groups: dict[str, set[str]] = {}
    for dn, attrs in conn.search_s(base, ldap.SCOPE_SUBTREE, GROUP_FILTER, ["cn", "member"]):
        if dn and attrs["cn"][0].decode() in ASSIGNED:
            members = [m.decode() for m in attrs.get("member", [])]
            groups[attrs["cn"][0].decode()] = {str(upn(m)) for m in members if m.casefold() in enabled}
    active: dict[str, str | None] = {}
    for members in groups.values():
        for member in members:
            dn = next(d for d, a in enabled.items() if a["userPrincipalName"][0].decode() == member)
            boss = enabled[dn].get("manager")
            active[member] = upn(boss[0].decode()) if boss else None
    return active, groups


@pytest.fixture
def samba_dc(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> SambaDC:
    return shared_samba_dc(request.config, tmp_path_factory)


@pytest.mark.parametrize("dialect", ["rfc", "entra"])
async def test_the_portal_equals_the_domain_after_each_cycle(
    portal: Portal, service: Service, samba_dc: SambaDC, dialect: str
) -> None:
    conn = samba_dc.connect()
    tag = uuid.uuid4().hex[:6]  # UPNs are unique in the whole domain, which other tests share
    base = seed.add_ou(conn, f"E2E {tag}", samba_dc.base_dn)
    people, support = seed.add_ou(conn, "People", base), seed.add_ou(conn, "Support", base)

    def hire(name: str, **extra: Any) -> str:
        return seed.add_user(conn, people, name, upn=f"{name}.{tag}@example.test", **extra)

    ceo = hire("ceo", title="CEO")
    ada, bob, dan = (hire(n, manager=ceo) for n in ("ada", "bob", "dan"))
    eve = hire("eve")
    engineering = seed.add_group(conn, base, "Engineering", [ada, ceo])
    sales = seed.add_group(conn, base, "Sales", [bob, dan])
    seed.add_group(conn, base, "Auditors", [eve])
    settings = {"url": samba_dc.url, "bind_dn": samba_dc.admin_dn, "base_dn": base,
                "user_filter": USER_FILTER, "group_filter": GROUP_FILTER}  # fmt: skip
    await operations.add(service, "corp", "ldap", settings, {"bind_password": samba_dc.password})
    first = await read_and_cycle(service, None, dialect)
    assert (first["kind"], first["users_created"], first["groups_created"]) == ("full", 5, 3)
    h = await harness(portal, service, dialect=dialect)
    await assign_groups(h, *ASSIGNED)
    await read_and_cycle(service, h, dialect)
    want = expected(conn, base)
    assert len(want[0]) == 4
    assert await portal_state(h) == want
    ada_in_portal = (await h.portal_users())[f"ada.{tag}@example.test"]["id"]

    frank = hire("frank", manager=ceo)  # a hire
    bob = seed.move(conn, bob, support)  # a move between OUs
    ada = seed.rename(conn, ada, "ada lovelace")  # a rename, and a new UPN
    seed.replace(conn, ada, userPrincipalName=f"ada.lovelace.{tag}@example.test")
    seed.set_disabled(conn, bob, disabled=True)  # a disable
    seed.replace(conn, bob, manager=ada)  # a manager change
    seed.delete(conn, dan)  # a deletion
    conn.modify_s(sales, [(ldap.MOD_REPLACE, "member", [bob.encode(), eve.encode()])])  # eve in scope
    seed.add_members(conn, engineering, [frank])
    seed.replace(conn, eve, manager=ada)
    delta = await read_and_cycle(service, h, dialect)
    assert (delta["kind"], delta["users_created"], delta["users_deleted"]) == ("delta", 1, 1)
    want = expected(conn, base)
    assert set(want[0]) == {f"{n}.{tag}@example.test" for n in ("ceo", "ada.lovelace", "eve", "frank")}
    assert await portal_state(h) == want
    users = await h.portal_users()
    assert users[f"ada.lovelace.{tag}@example.test"]["id"] == ada_in_portal, "a rename keeps the user"
    assert users[f"bob.{tag}@example.test"]["active"] is False

    dan = hire("dan", manager=ceo)  # re-created: a new object, a new objectGUID
    seed.add_members(conn, sales, [dan])
    seed.set_disabled(conn, bob, disabled=False)  # enabled again
    again = await read_and_cycle(service, h, dialect)
    assert (again["kind"], again["users_deleted"]) == ("delta", 0)
    want = expected(conn, base)
    assert {f"dan.{tag}@example.test", f"bob.{tag}@example.test"} <= set(want[0])
    assert await portal_state(h) == want
    seed.delete_tree(conn, base)
    conn.unbind_s()
