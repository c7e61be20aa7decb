"""From an OpenLDAP tree to the portal: a real slapd → `source sync` (syncrepl deltas) → an
application assigned to groups → a cycle into the portal's real SCIM endpoint. After the first
read, after a delta with a hire, a move between OUs, a rename (the portal keeps its user), a
disable (ppolicy's pwdAccountLockedTime), a deletion, a group change and manager changes, and
after a re-creation of the deleted person, the portal equals the tree: its active users are
exactly the enabled members of the assigned groups, with the tree's managers; its groups the
assigned groups with those members. Both SCIM dialects, both databases."""

from __future__ import annotations

from typing import Any

import ldap
import pytest

from enlist.lms.api.runtime import Portal
from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from tests.e2e.engine_harness import assign_groups, harness
from tests.e2e.source_portal import portal_state, read_and_cycle
from tests.integration.ldap.helpers import group, modify, ou, person
from tests.ldap_servers.slapd import READER_PASSWORD, Slapd
from tests.ldap_servers.slapd_world import ldap_settings, shared_slapd

ASSIGNED = ("Engineering", "Sales")
LOCKED = "000001010000Z"


def expected(conn: Any, branch: str) -> tuple[dict[str, str | None], dict[str, set[str]]]:
    """What the portal must hold, read from the tree itself: `{mail: manager's mail}` of the
    enabled members of the assigned groups, and `{group: member mails}` of those groups."""
    people = {
        dn.casefold(): attrs
        for dn, attrs in conn.search_s(
            branch,
            ldap.SCOPE_SUBTREE,
            "(objectClass=inetOrgPerson)",
            ["mail", "manager", "pwdAccountLockedTime"],
        )
    }
    enabled = {dn: a for dn, a in people.items() if not a.get("pwdAccountLockedTime")}

    def mail(dn: str) -> str | None:
        found = people.get(dn.casefold())
        return found["mail"][0].decode() if found else None

    groups: dict[str, set[str]] = {}
    for _, attrs in conn.search_s(branch, ldap.SCOPE_SUBTREE, "(objectClass=groupOfNames)", ["cn", "member"]):
        name = attrs["cn"][0].decode()
        if name in ASSIGNED:
            groups[name] = {
                str(mail(m.decode())) for m in attrs["member"] if m.decode().casefold() in enabled
            }
    active: dict[str, str | None] = {}
    for members in groups.values():
        for member in members:
            dn = next(d for d, a in enabled.items() if a["mail"][0].decode() == member)
            boss = enabled[dn].get("manager")
            active[member] = mail(boss[0].decode()) if boss else None
    return active, groups


@pytest.fixture
def slapd() -> Slapd:
    return shared_slapd()


@pytest.mark.parametrize("dialect", ["rfc", "entra"])
async def test_the_portal_equals_the_ldap_tree_after_each_cycle(
    portal: Portal, service: Service, slapd: Slapd, dialect: str
) -> None:
    branch = slapd.branch()
    conn = slapd.admin()
    ceo, _ = person(conn, branch, "ceo", title="CEO")
    ada, _ = person(conn, branch, "ada", manager=ceo)
    bob, _ = person(conn, branch, "bob", manager=ceo)
    dan, _ = person(conn, branch, "dan", manager=ceo)
    eve, _ = person(conn, branch, "eve")
    engineering, _ = group(conn, branch, "Engineering", [ada, ceo])
    sales, _ = group(conn, branch, "Sales", [bob, dan])
    group(conn, branch, "Auditors", [eve])
    await operations.add(
        service, "corp", "ldap", ldap_settings(slapd, branch), {"bind_password": READER_PASSWORD}
    )
    first = await read_and_cycle(service, None, dialect)
    assert (first["kind"], first["users_created"], first["groups_created"]) == ("full", 5, 3)
    h = await harness(portal, service, dialect=dialect)
    await assign_groups(h, *ASSIGNED)
    await read_and_cycle(service, h, dialect)
    want = expected(conn, branch)
    assert want[0] == {
        "ceo@example.com": None,
        "ada@example.com": "ceo@example.com",
        "bob@example.com": "ceo@example.com",
        "dan@example.com": "ceo@example.com",
    }
    assert await portal_state(h) == want
    ada_in_portal = (await h.portal_users())["ada@example.com"]["id"]

    frank, _ = person(conn, branch, "frank", manager=ceo)  # a hire
    support = ou(conn, f"ou=people,{branch}", "Support")
    conn.rename_s(bob, "uid=bob", newsuperior=support)  # a move between OUs
    bob = f"uid=bob,{support}"
    conn.rename_s(ada, "uid=ada.lovelace", delold=1)  # a rename
    ada = f"uid=ada.lovelace,ou=people,{branch}"
    modify(conn, ada, mail="ada.lovelace@example.com")
    modify(conn, bob, pwdAccountLockedTime=LOCKED, manager=ada)  # a disable, a manager change
    conn.delete_s(dan)  # a deletion
    modify(conn, sales, member=[bob, eve])  # a group change: eve comes into scope
    modify(conn, engineering, member=[ada, ceo, frank])
    modify(conn, eve, manager=ada)
    delta = await read_and_cycle(service, h, dialect)
    assert (delta["kind"], delta["users_created"], delta["users_deleted"]) == ("delta", 1, 1)
    want = expected(conn, branch)
    assert want[0] == {
        "ceo@example.com": None,
        "ada.lovelace@example.com": "ceo@example.com",
        "eve@example.com": "ada.lovelace@example.com",
        "frank@example.com": "ceo@example.com",
    }
    assert await portal_state(h) == want
    users = await h.portal_users()
    assert users["ada.lovelace@example.com"]["id"] == ada_in_portal, "a rename keeps the portal's user"
    assert users["bob@example.com"]["active"] is False
    assert "dan@example.com" not in users or users["dan@example.com"]["active"] is False

    dan, _ = person(conn, branch, "dan", manager=ceo)  # re-created: a new entry, a new entryUUID
    modify(conn, sales, member=[bob, eve, dan])
    modify(conn, bob, pwdAccountLockedTime=None)  # enabled again
    again = await read_and_cycle(service, h, dialect)
    # The re-created entry takes its soft-deleted namesake back (ADR 0022): restored, not new.
    assert (again["kind"], again["users_created"], again["users_deleted"]) == ("delta", 0, 0)
    want = expected(conn, branch)
    assert {"dan@example.com", "bob@example.com"} <= set(want[0])
    assert await portal_state(h) == want
