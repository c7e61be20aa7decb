"""The source directory fails, or answers one page and then fails, in the middle of a cycle: the
engine sends no disable, no delete and drops no membership because of it, the cycle is recorded
as failed with the reason, the watermark stays, and the next cycle with the source back converges
(and then sends the removals that were really due, once).

The target faults (500, 502, 503, 429, hangs, closed connections, bad JSON, wrong ids) are in
`tests/e2e/test_engine_faults.py`; this suite adds the source side. The source is the real
`DirectorySource` behind `FlakySource`, a fake that raises `SourceReadError` (what a source
that cannot read everything must raise) on a chosen call, after yielding half a page where the
call pages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest
import sqlalchemy as sa

from enlist.lms.api.runtime import Portal
from enlist.provisioning.directory.model import ChangeEntry, SourceGroup, SourceUser
from enlist.provisioning.directory.source import DirectorySource
from enlist.provisioning.engine.ports import SourceReadError
from enlist.provisioning.engine.runner import run_cycle
from enlist.provisioning.engine.summary import CycleSummary
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store.tables import cycles
from tests.e2e.engine_harness import Harness, assign_groups, harness

DOMAIN = "contoso.com"
USERS = [f"s{i:02d}@{DOMAIN}" for i in range(12)]
RED, BLUE = USERS[0:6], USERS[6:12]
LEAVER = USERS[1]  # leaves Red (their only group): due to be disabled
DELETED = USERS[7]  # deleted from the directory: due to be disabled (soft delete)
RETITLED = USERS[3]


@pytest.fixture(params=["sqlite"])
def database_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def company(*, changed: bool) -> dict[str, Any]:
    people = [u for u in USERS if not (changed and u == DELETED)]
    return {
        "users": [
            {
                "userPrincipalName": name,
                "mail": name,
                "givenName": f"Given{i}",
                "surname": "Source",
                "displayName": f"Given{i} Source",
                "jobTitle": "Lead" if changed and name == RETITLED else "Staff",
                "accountEnabled": True,
            }
            for i, name in enumerate(USERS)
            if name in people
        ],
        "groups": [
            {"displayName": "Red", "members": [u for u in RED if not (changed and u == LEAVER)]},
            {"displayName": "Blue", "members": [u for u in BLUE if u in people]},
        ],
    }


class FlakySource:
    """`DirectorySource`, except that the `fail_on` call number `at` (1-based) raises
    `SourceReadError`; a paged read first yields half of its page, as a source whose next
    page request failed would have."""

    def __init__(self, inner: DirectorySource, fail_on: str, at: int = 1) -> None:
        self.inner = inner
        self.fail_on = fail_on
        self.at = at
        self.calls: dict[str, int] = {}
        self.failed = False

    def _due(self, name: str) -> bool:
        self.calls[name] = self.calls.get(name, 0) + 1
        if name == self.fail_on and self.calls[name] == self.at:
            self.failed = True
            return True
        return False

    async def current_seq(self) -> int:
        if self._due("current_seq"):
            raise SourceReadError("the directory did not answer (current_seq)")
        return await self.inner.current_seq()

    async def changes_since(self, seq: int) -> list[ChangeEntry]:
        if self._due("changes_since"):
            raise SourceReadError("the directory did not answer (changes_since)")
        return await self.inner.changes_since(seq)

    async def iter_users(self, page_size: int) -> AsyncIterator[list[SourceUser]]:
        due = self._due("iter_users")
        async for page in self.inner.iter_users(page_size):
            if due:
                yield page[: len(page) // 2]
                raise SourceReadError("the directory failed after half a page of users")
            yield page

    async def iter_groups(self, page_size: int) -> AsyncIterator[list[SourceGroup]]:
        due = self._due("iter_groups")
        async for page in self.inner.iter_groups(page_size):
            if due:
                yield page[: len(page) // 2]
                raise SourceReadError("the directory failed after half a page of groups")
            yield page

    async def get_users(self, ids: Iterable[str]) -> dict[str, SourceUser]:
        if self._due("get_users"):
            raise SourceReadError("the directory did not answer (get_users)")
        return await self.inner.get_users(ids)

    async def get_groups(self, ids: Iterable[str]) -> dict[str, SourceGroup]:
        if self._due("get_groups"):
            raise SourceReadError("the directory did not answer (get_groups)")
        return await self.inner.get_groups(ids)

    async def groups_containing(self, member_ids: Iterable[str]) -> dict[str, set[str]]:
        if self._due("groups_containing"):
            raise SourceReadError("the directory did not answer (groups_containing)")
        return await self.inner.groups_containing(member_ids)

    async def reports_of(self, manager_ids: Iterable[str]) -> set[str]:
        if self._due("reports_of"):
            raise SourceReadError("the directory did not answer (reports_of)")
        return await self.inner.reports_of(manager_ids)


# (cycle kind, the call that fails, which call of it)
FAULTS = {
    "incremental: changes fail": ("incremental", "changes_since", 1),
    "incremental: users fail": ("incremental", "get_users", 1),
    "incremental: groups fail": ("incremental", "get_groups", 2),
    "incremental: memberships fail": ("incremental", "groups_containing", 1),
    "initial: half a page of users, then failure": ("initial", "iter_users", 1),
    "initial: half a page of groups, then failure": ("initial", "iter_groups", 1),
    "initial: memberships fail": ("initial", "groups_containing", 1),
    "initial: sequence fails": ("initial", "current_seq", 1),
}


async def snapshot(h: Harness) -> tuple[dict[str, bool], dict[str, set[str]]]:
    """({userName: active}, {group: member userNames}) in the portal."""
    users = await h.portal_users()
    return {name: bool(u.get("active")) for name, u in users.items()}, await h.portal_groups()


async def cycle(h: Harness, source: Any = None) -> CycleSummary:
    app = await h.app()
    async with h.target("rfc") as target:
        return await run_cycle(h.service, app, target=target, source=source)


@pytest.mark.parametrize("name", list(FAULTS))
async def test_a_failing_source_deprovisions_nothing_and_the_next_cycle_converges(
    portal: Portal, service: Service, name: str
) -> None:
    kind, method, at = FAULTS[name]
    h = await harness(portal, service)
    await h.load(company(changed=False))
    await assign_groups(h, "Red", "Blue")
    first = await cycle(h)
    assert first.status == "succeeded", first
    before = await snapshot(h)
    assert before == (dict.fromkeys(USERS, True), {"Red": set(RED), "Blue": set(BLUE)})

    # The directory changes: one user leaves their only group, one is deleted, one retitled.
    await h.load(company(changed=True), replace=True)
    if kind == "initial":
        async with service.db.write() as conn:
            await app_store.restart(conn, await h.app())
    watermark = (await h.app()).watermark

    flaky = FlakySource(DirectorySource(service.db), method, at)
    failed = await cycle(h, flaky)
    assert flaky.failed, f"the fault was never reached: {flaky.calls}"
    assert failed.status == "failed", failed
    assert "the source could not be read, nothing was deprovisioned" in (failed.error or ""), failed
    for removal in ("disabled", "deleted", "staged"):
        assert failed.counts[removal] == 0, failed
    active, groups = await snapshot(h)
    assert active == before[0], "nobody disabled or deleted on a failed source read"
    for group, members in before[1].items():
        assert members - groups[group] <= {LEAVER, DELETED}, "no membership lost but those really due"
    assert (await h.app()).watermark == watermark, "the watermark did not move"
    async with service.db.read() as conn:
        row = (
            await conn.execute(
                sa.select(cycles.c.status, cycles.c.error).where(cycles.c.id == failed.cycle_id)
            )
        ).one()
    assert row.status == "failed"
    assert flaky.fail_on in row.error or "half a page" in row.error, row.error

    # The source is back: the due changes go out, once.
    healed = await cycle(h)
    assert healed.status == "succeeded", healed
    again = await cycle(h)
    assert again.counts == dict.fromkeys(again.counts, 0), again
    active, groups = await snapshot(h)
    assert active == {u: u not in (LEAVER, DELETED) for u in USERS}
    assert groups["Red"] == set(RED) - {LEAVER}
    assert groups["Blue"] == set(BLUE) - {DELETED}
    retitled = (await h.portal_users())[RETITLED]
    assert retitled.get("title") == "Lead", retitled
