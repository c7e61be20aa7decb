"""The membership pass, cut into many slices and batches, still sends each member exactly once.

With slices of a few members and batches of a few groups, an initial cycle crosses many slice
and batch boundaries: every group must still end with exactly its directory members, each
member sent once, and a cycle paused half-way must leave nothing half-recorded for the next.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from enlist.lms.api.runtime import Portal
from enlist.provisioning.directory.importer import import_directory
from enlist.provisioning.directory.sample import generate_large
from enlist.provisioning.engine import references
from enlist.provisioning.engine.runner import run_cycle
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from tests.e2e.engine_harness import Harness, assign_groups, harness

USERS, GROUPS, MEMBERSHIPS = 40, 9, 180


@pytest.fixture(autouse=True)
def small_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(references, "MEMBER_BATCH", 7)  # a slice is one group or two
    monkeypatch.setattr(references, "GROUP_BATCH", 4)  # three batches


async def assigned_company(portal: Portal, service: Service) -> tuple[Harness, dict[str, set[str]]]:
    """A directory of USERS users in GROUPS groups, every group assigned; and `{group: members}`."""
    h = await harness(portal, service)
    company = generate_large(USERS, GROUPS, MEMBERSHIPS)
    async with h.service.db.write() as conn:
        await import_directory(conn, company, replace=False)
    assert company.groups is not None
    await assign_groups(h, *(g.attributes["displayName"] for g in company.groups))
    return h, {g.attributes["displayName"]: set(g.members) for g in company.groups}


async def test_many_slices_and_batches_give_every_group_exactly_its_members(
    portal: Portal, service: Service
) -> None:
    h, expected = await assigned_company(portal, service)

    summary, target = await h.sync("rfc")

    assert summary.status == "succeeded", summary
    assert summary.counts["failed"] == 0
    assert await h.portal_groups() == expected
    member_chunks = sum(-(-len(members) // target.member_chunk) for members in expected.values())
    managers = USERS - 1  # everyone but the first gets a manager, by PATCH once both are linked
    assert target.requests_by_method["PATCH"] == member_chunks + managers  # each member sent once

    again, target = await h.sync("rfc")  # nothing changed: nothing to send
    assert again.status == "succeeded", again
    assert target.requests_by_method["PATCH"] == 0


async def test_a_pause_between_slices_stops_cleanly_and_start_finishes_the_memberships(
    portal: Portal, service: Service
) -> None:
    h, expected = await assigned_company(portal, service)
    patched = 0

    async with h.target("rfc") as target:
        original = target.patch_members

        async def patch_members(group_id: str, add: Sequence[str], remove: Sequence[str]) -> int:
            nonlocal patched
            patched += 1
            if patched == 3:  # the admin presses Pause during the membership pass
                async with service.db.write() as conn:
                    await app_store.pause(conn, await app_store.get_app(conn, h.app_name))
            elif patched > 3:
                await asyncio.sleep(0.3)  # past the engine's once-a-second stop check
            return await original(group_id, add, remove)

        target.patch_members = patch_members  # type: ignore[method-assign]
        stopped = await run_cycle(service, await h.app(), target=target)

    assert stopped.status == "stopped", stopped
    assert patched < GROUPS, "the pass stopped before its last group"
    async with service.db.write() as conn:
        await app_store.start(conn, await app_store.get_app(conn, h.app_name))
    finished, _ = await h.sync("rfc")
    assert finished.status == "succeeded", finished
    assert await h.portal_groups() == expected
    quiet, target = await h.sync("rfc")
    assert quiet.status == "succeeded", quiet
    assert target.requests_by_method["PATCH"] == 0, "every member was recorded once sent"
