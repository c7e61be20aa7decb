"""Preview runs the next cycle's planning and sends nothing: across the scenario suite (initial
cycle; creates, an attribute change, membership adds and removes; a group leaving scope; a
person soft-deleted, disabled; without `active`, deleted; past the threshold, staged) its counts
and items equal those of the real cycle that follows it, compared item by item, and the portal's
objects and every provisioning table are the same before and after it (ADR 0038)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from enlist.db.leases import owner_id
from enlist.lms.api.runtime import Portal
from enlist.provisioning import operations
from enlist.provisioning.engine.preview import Preview, items_of_cycle, preview_cycle
from enlist.provisioning.engine.runner import CycleBusyError, claim
from enlist.provisioning.engine.summary import COUNTS, CycleSummary
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store.tables import metadata
from tests.e2e.engine_harness import Harness, assign_groups, harness
from tests.e2e.test_engine_lifecycle import company, person, set_settings, unassign_groups, upn


async def provisioning_tables(h: Harness) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every provisioning table, in a stable order."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with h.service.db.read() as conn:
        for table in metadata.sorted_tables:
            found = await conn.execute(sa.select(table))
            rows[table.name] = sorted((tuple(repr(v) for v in r) for r in found), key=repr)
    return rows


async def portal_state(h: Harness) -> Any:
    return await h.portal_users(), await h.portal_groups()


def key(item: dict[str, Any]) -> tuple[str, str, str]:
    return (item["kind"], item["source_id"] or "", item["action"])


async def preview_then_cycle(h: Harness) -> tuple[Preview, CycleSummary]:
    """Preview (proving it changes nothing), then the real cycle; their counts and items agree."""
    tables, target = await provisioning_tables(h), await portal_state(h)
    async with h.target("rfc") as client:
        preview = await preview_cycle(h.service, await h.app(), target=client)
    assert await provisioning_tables(h) == tables
    assert await portal_state(h) == target
    summary, _ = await h.sync()
    assert preview.status == "planned", preview.error
    assert {k: preview.counts[k] for k in COUNTS} == {k: summary.counts[k] for k in COUNTS}
    async with h.service.db.read() as conn:
        app = await app_store.get_app(conn, h.app_name)
        done = await items_of_cycle(conn, app.id, summary.cycle_id)
    assert sorted(preview.items, key=key) == sorted(done, key=key)
    assert preview.to_json()["reads_target"] is True
    return preview, summary


async def test_a_preview_lists_exactly_what_the_following_cycle_does_and_changes_nothing(
    portal: Portal, service: Service
) -> None:
    h = await harness(portal, service)
    people = company(10, {"Alpha": range(6), "Beta": range(6, 10)})
    await h.load(people)
    await assign_groups(h, "Alpha", "Beta")

    initial, summary = await preview_then_cycle(h)  # initial: everything is created
    assert initial.kind == "initial"
    assert summary.counts["created"] == 12, summary
    assert initial.writes_withheld > 0

    # Incremental: a new person, a changed title, membership added and removed.
    people["users"].append(person(10))
    people["users"][1]["jobTitle"] = "Lead"
    people["groups"][0]["members"] = [upn(i) for i in (0, 1, 2, 3, 4, 10, 7)]
    await h.load(people, replace=True)
    changed, summary = await preview_then_cycle(h)
    assert changed.kind == "incremental"
    assert summary.counts["created"] == 1, summary
    titles = [i for i in changed.items if i["action"] == "update" and i["changes"].get("title")]
    assert [t["changes"]["title"] for t in titles] == [{"old": "Staff", "new": "Lead"}]
    members = [i for i in changed.items if "members" in i["changes"]]
    assert members, changed.items

    # A group leaves scope: its people are disabled (the app's setting), the group deleted.
    await unassign_groups(h, "Beta")
    left, summary = await preview_then_cycle(h)
    assert summary.counts["disabled"] >= 1, summary
    assert any(i["action"] == "disable" for i in left.items)

    # A person soft-deleted in the directory is disabled: the mappings have `active`.
    people["users"] = [u for u in people["users"] if u["userPrincipalName"] != upn(2)]
    people["groups"][0]["members"].remove(upn(2))
    await h.load(people, replace=True)
    gone, summary = await preview_then_cycle(h)
    assert summary.counts["disabled"] == 1, summary
    assert [i["object"] for i in gone.items if i["action"] == "disable"] == [upn(2)]

    # Without an `active` mapping (the app's choice), a person leaving is deleted instead.
    await operations.unmap(h.service, await h.app(), "user", "active")
    people["users"] = [u for u in people["users"] if u["userPrincipalName"] != upn(3)]
    people["groups"][0]["members"].remove(upn(3))
    await h.load(people, replace=True)
    deleted, summary = await preview_then_cycle(h)
    assert summary.counts["deleted"] == 1, summary
    assert [i["object"] for i in deleted.items if i["action"] == "delete"] == [upn(3)]

    # Past the deletion threshold: the removals are staged, in the preview as in the cycle.
    await set_settings(h, deletion_threshold=2)
    await unassign_groups(h, "Alpha")
    staged, summary = await preview_then_cycle(h)
    assert summary.counts["staged"] >= 2, summary
    assert staged.counts["disabled"] == 0
    assert staged.counts["deleted"] == 0


async def test_a_preview_is_refused_while_a_cycle_holds_the_lease_and_changes_nothing(
    portal: Portal, service: Service
) -> None:
    h = await harness(portal, service)
    await h.load(company(3, {"Alpha": range(3)}))
    await assign_groups(h, "Alpha")
    holder = owner_id()
    assert await claim(h.service, await h.app(), holder)
    tables = await provisioning_tables(h)
    async with h.target("rfc") as client:
        with pytest.raises(CycleBusyError):
            await preview_cycle(h.service, await h.app(), target=client)
    assert await provisioning_tables(h) == tables
    assert await portal_state(h) == ({}, {})
