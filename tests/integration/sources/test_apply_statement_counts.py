"""A source read costs a constant number of SQL statements per page, never one per object.

The same rounds are read for a tenant of 200 users and one of 2,000 (every user with a manager,
groups of 10 members): a first full round that creates everything, then a second that changes
every user, drops a tenth of them (unlisted: soft-deleted) and moves a member of every group.
Between the two tenants only the number of pages grows, so the statements may grow by a
constant per extra page; a statement per user, group or membership would add hundreds. Each
statement's shape is checked as well as the total, so a new per-object statement is named.

Statements are counted, not timed (SQLAlchemy's `before_cursor_execute`, which an executemany
fires once). The figures behind this bound are in docs/performance.md: PostgreSQL's planner,
which knows nothing yet of the rows a round has just staged, turned a set-based anti-join into
a nested loop per object; the apply path now asks only index lookups of at most a chunk.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from enlist.provisioning.sources.model import GroupRecord, Page, UserRecord
from enlist.provisioning.sources.read import read_source
from tests.databases import recorded_statements
from tests.integration.provisioning.test_source_apply import ScriptedRound, ScriptedSource

PAGE = 500  # the file source's page
GROUP_SIZE = 10
SMALL, BIG = 200, 2_000
# Statements a read may add per extra page of 500 objects (measured: 28 on SQLite, 36 on
# PostgreSQL: each chunk of 500 is looked up, compared and written in a few statements).
PER_PAGE = 50
# The same for any one statement's shape (measured: at most 3; PostgreSQL's feed lock 9).
PER_PAGE_EACH = 10


def users(n: int, tenant: str, second: bool) -> list[UserRecord]:
    kept = n - n // 10 if second else n
    return [
        UserRecord(
            f"u{i:06d}",
            {
                "userPrincipalName": f"u{i}@{tenant}.example",
                "department": f"D{i % 7}",
                "jobTitle": "Engineer" if second else "Developer",
            },
            f"u{i // 10:06d}" if i else None,
        )
        for i in range(kept)
    ]


def groups(n: int, second: bool) -> list[GroupRecord]:
    shift = 1 if second else 0  # the second round moves one member into each group, one out
    return [
        GroupRecord(
            f"g{j:05d}",
            {"displayName": f"Team {j}"},
            frozenset(f"u{i % n:06d}" for i in range(j * GROUP_SIZE + shift, (j + 1) * GROUP_SIZE + shift)),
            frozenset(),
            members_complete=True,
        )
        for j in range(n // GROUP_SIZE)
    ]


def pages(n: int, tenant: str, *, second: bool) -> list[Page]:
    u, g = users(n, tenant, second), groups(n, second)
    return [Page(users=tuple(u[i : i + PAGE])) for i in range(0, len(u), PAGE)] + [
        Page(groups=tuple(g[i : i + PAGE])) for i in range(0, len(g), PAGE)
    ]


def shape(sql: str, _parameters: object) -> str:
    """The statement without its parameter lists (an IN of 500 ids is one shape)."""
    flat = " ".join(sql.split())
    return re.sub(r"\((?:\s*(?:\?|\$\d+(?:::[A-Z ]+)?|%\(\w+\)s)\s*,?)+\)", "(…)", flat)


def is_heartbeat(statement: str) -> bool:
    # The lease is renewed on a timer as well as per page: the timer's count depends on time.
    return statement.startswith("UPDATE sources SET lease_expires_at")


async def read_rounds(service: Service, n: int) -> tuple[list[Counter[str]], int]:
    """The statements of a tenant of `n` users' two reads (shape: count), and its pages."""
    name = f"hr{n}"
    await operations.add(service, name, "file", {}, {})
    reader = ScriptedSource()
    first, second = pages(n, name, second=False), pages(n, name, second=True)
    reader.rounds = [ScriptedRound("full", first, "c1"), ScriptedRound("full", second, "c2")]
    counted: list[Counter[str]] = []
    for expected in (first, second):
        source = await operations.get(service, name)
        with recorded_statements(service.db, shape) as seen:
            result = await read_source(service, source, reader=reader, allow_deletes=True)
        assert result.records == sum(len(p.users) + len(p.groups) for p in expected)
        assert not result.report.conflicts
        assert not result.report.warnings
        counted.append(Counter(s for s in seen if not is_heartbeat(s)))
    return counted, len(first)


def growth(small: Counter[str], big: Counter[str]) -> dict[str, int]:
    return {s: big[s] - small[s] for s in big.keys() | small.keys() if big[s] > small[s]}


async def test_a_read_adds_a_constant_number_of_statements_per_page_not_per_object(
    service: Service,
) -> None:
    small, small_pages = await read_rounds(service, SMALL)
    big, big_pages = await read_rounds(service, BIG)
    extra_pages = big_pages - small_pages
    assert extra_pages == math.ceil(BIG / PAGE) - math.ceil(SMALL / PAGE)
    for round_name, s, b in (("first", small[0], big[0]), ("second", small[1], big[1])):
        grown = growth(s, b)
        added = b.total() - s.total()
        assert added <= PER_PAGE * extra_pages, (
            round_name,
            added,
            sorted(grown.items(), key=lambda i: -i[1]),
        )
        per_object = {sql: n for sql, n in grown.items() if n > PER_PAGE_EACH * extra_pages}
        assert not per_object, (round_name, per_object)


def joins_the_round_with_the_directory(statement: str) -> bool:
    return "source_staging" in statement and bool(
        re.search(r"\bdir_(users|groups|group_members)\b", statement)
    )


async def test_no_statement_joins_the_staged_round_with_the_directory(service: Service) -> None:
    """A join of the staging table with the directory is planned from statistics that do not
    know yet the rows just staged: on PostgreSQL a nested loop reading the whole round once per
    directory object (17.6 s of a 32 s read of 5,000 users). The apply path asks each table by
    key, a chunk at a time, and joins in Python."""
    counted, _pages = await read_rounds(service, SMALL)
    joins = sorted({s for c in counted for s in c if joins_the_round_with_the_directory(s)})
    assert not joins


async def test_the_rounds_apply_what_they_say(service: Service) -> None:
    """The counted rounds do the work they are counted for (else a cheap round proves nothing)."""
    await operations.add(service, "hr", "file", {}, {})
    reader = ScriptedSource()
    reader.rounds = [
        ScriptedRound("full", pages(SMALL, "hr", second=False), "c1"),
        ScriptedRound("full", pages(SMALL, "hr", second=True), "c2"),
    ]
    source = await operations.get(service, "hr")
    first = (await read_source(service, source, reader=reader)).report.counts
    source = await operations.get(service, "hr")
    second = (await read_source(service, source, reader=reader, allow_deletes=True)).report.counts
    groups_n = SMALL // GROUP_SIZE
    assert first == {
        "users_created": SMALL,
        "users_updated": 0,
        "users_deleted": 0,
        "groups_created": groups_n,
        "groups_updated": 0,
        "groups_deleted": 0,
        "memberships_added": SMALL,
        "memberships_removed": 0,
    }
    assert second == {
        "users_created": 0,
        "users_updated": SMALL - SMALL // 10,
        "users_deleted": SMALL // 10,
        "groups_created": 0,
        "groups_updated": 0,
        "groups_deleted": 0,
        "memberships_added": groups_n,
        "memberships_removed": groups_n,
    }
