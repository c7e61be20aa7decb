"""The LDAP operations a read sends: a delta's do not grow with the tree (the same changes in a
tree ten times larger cost the same operations), and a full read's grow with its pages and DN
lookups (batched), not with its entries. Counts, never times (the timings are bench S8's)."""

from __future__ import annotations

from typing import Any

import ldap

from enlist.provisioning.sources.ldap.reader import LdapReader
from tests.integration.ldap.helpers import collect, group, modify, person, reader_settings
from tests.ldap_servers.slapd import Slapd


def _tree(slapd: Slapd, users: int) -> tuple[str, list[str], list[str]]:
    branch = slapd.branch()
    conn = slapd.admin()
    people = []
    for i in range(users):
        manager = {"manager": people[i // 10 * 10]} if i % 10 else {}
        people.append(person(conn, branch, f"u{i:04d}", **manager)[0])
    groups = [group(conn, branch, f"g{g:03d}", people[g :: users // 10])[0] for g in range(users // 10)]
    return branch, people, groups


def _change(conn: Any, people: list[str], groups: list[str]) -> None:
    for n in range(9):
        modify(conn, people[n], title="Changed")
    conn.modify_s(groups[0], [(ldap.MOD_DELETE, "member", [people[0].encode()])])


async def test_a_delta_costs_the_same_operations_in_a_tree_ten_times_larger(slapd: Slapd) -> None:
    operations = []
    for users in (30, 300):
        branch, people, groups = _tree(slapd, users)
        reader = LdapReader(reader_settings(slapd, branch, page_size=50))
        _, cursor, _ = await collect(reader)
        full = reader.counter.operations
        _change(slapd.admin(), people, groups)
        reader.counter.operations = 0
        pages, _, kind = await collect(reader, cursor)
        assert kind == "delta"
        assert sum(len(p.users) for p in pages) == 9
        operations.append((full, reader.counter.operations))
    (small_full, small_delta), (large_full, large_delta) = operations
    assert small_delta == large_delta
    # bind, root DSE, the contextCSN (root DSE and suffix), the pages (330 entries of 50: 7 more
    # than 33 entries), and the DN lookups the page cache did not answer: far fewer than entries.
    assert large_full - small_full < 330 / 10
