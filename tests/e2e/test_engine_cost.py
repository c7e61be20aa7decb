"""What a cycle costs grows with pages and batches, not with objects: counted, never timed.

An initial cycle of a few pages of users into the portal (its real SCIM endpoint, in process) is
watched from both sides: the SQL statements the engine runs (SQLAlchemy's
`before_cursor_execute`) and the requests its SCIM client sends. Links and log records are
written a page at a time, and the membership pass reads the written members and the directory a
batch of groups at a time.
"""

from __future__ import annotations

import math

from enlist.lms.api.runtime import Portal
from enlist.provisioning.directory.importer import import_directory
from enlist.provisioning.directory.sample import generate_large
from enlist.provisioning.engine.cycle import PAGE
from enlist.provisioning.engine.references import GROUP_BATCH
from enlist.provisioning.service import Service
from tests.e2e.engine_harness import Harness, assign_groups, harness, statements

USERS = 2 * PAGE + 50  # three pages
GROUPS = GROUP_BATCH + 10  # two batches of groups


async def company(h: Harness, users: int, groups: int) -> None:
    """`users` users in a manager tree, each in about 4 of `groups` groups, all assigned."""
    async with h.service.db.write() as conn:
        await import_directory(conn, generate_large(users, groups, 4 * users), replace=False)
    await assign_groups(h, *(f"Group {j:05d}" for j in range(groups)))


def count(sql: list[str], start: str, table: str) -> int:
    return sum(1 for s in sql if s.startswith(start) and f" {table} " in f"{s} ")


async def test_an_initial_cycle_costs_statements_per_page_not_per_object(
    portal: Portal, service: Service
) -> None:
    h = await harness(portal, service)
    await company(h, USERS, GROUPS)
    with statements(service) as sql:
        summary, target = await h.sync("rfc")
    assert summary.status == "succeeded", summary
    provisioned = summary.counts["created"] - GROUPS
    assert provisioned > 2 * PAGE  # nearly everyone is in a group: three pages of users
    pages = math.ceil(USERS / PAGE)
    # Links: one upsert per page in the users pass and in the managers pass, one for the groups.
    assert count(sql, "insert into links", "links") <= 2 * pages + 1, sql
    assert count(sql, "update links", "links") == 0
    # No per-user read of links: a keyed read per page and pass, per membership slice.
    assert count(sql, "select", "links") <= 4 * pages + 2 * math.ceil(GROUPS / GROUP_BATCH) + 2
    # Log records: a batch insert per flush, not one per record.
    assert (
        count(sql, "insert into provisioning_log", "provisioning_log")
        <= 4 * pages + 2 * GROUPS // GROUP_BATCH + 4
    )
    # The membership pass reads the written members a batch of groups at a time.
    assert count(sql, "select", "link_members") <= math.ceil(GROUPS / GROUP_BATCH)
    assert target.requests_by_method["POST"] == summary.counts["created"]
    users = await h.portal_users()
    assert len(users) == provisioned
