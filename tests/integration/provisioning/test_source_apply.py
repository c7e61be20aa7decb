"""Applying rounds of every shape the contract allows: delta rounds (removal only by `Removal`,
member additions and `removed_members`, an unchanged manager), records repeated and out of
order, a cursor that expired, and the cursor stored only with an applied round.

The rounds come from `ScriptedSource`, a source kind of the tests' own that gives the pages it
is handed, exactly as a reader of the contract would.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa

from enlist.provisioning.directory.tables import dir_group_members, dir_groups, dir_users
from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from enlist.provisioning.sources.model import (
    CheckResult,
    CursorExpiredError,
    GroupRecord,
    Page,
    Removal,
    RoundKind,
    SourceUnavailableError,
    UserRecord,
)
from enlist.provisioning.sources.read import read_source


@dataclass
class ScriptedRound:
    kind: RoundKind
    script: list[Page]
    next_cursor: str | None

    async def pages(self) -> AsyncIterator[Page]:
        for page in self.script:
            yield page

    @property
    def cursor(self) -> str | None:
        return self.next_cursor


@dataclass
class ScriptedSource:
    """Gives the next scripted round; `expired` makes a delta start raise `CursorExpiredError`."""

    rounds: list[ScriptedRound] = field(default_factory=list)
    asked: list[tuple[str | None, bool]] = field(default_factory=list)
    expired: bool = False

    async def check(self) -> CheckResult:
        return CheckResult(ok=True, message="scripted")

    async def start_round(self, cursor: str | None, *, full: bool = False) -> ScriptedRound:
        self.asked.append((cursor, full))
        if self.expired and not full:
            self.expired = False
            raise CursorExpiredError("410 resync")
        return self.rounds.pop(0)


def user(sid: str, upn: str, **attributes: Any) -> UserRecord:
    manager = attributes.pop("manager", None) if "manager" in attributes else ...
    if manager is ...:
        return UserRecord(sid, {"userPrincipalName": upn, **attributes})
    return UserRecord(sid, {"userPrincipalName": upn, **attributes}, manager)


async def state(service: Service) -> dict[str, Any]:
    async with service.db.read() as conn:
        users = (await conn.execute(sa.select(dir_users).where(dir_users.c.source == "scripted"))).all()
        groups = (await conn.execute(sa.select(dir_groups).where(dir_groups.c.source == "scripted"))).all()
        members = (await conn.execute(sa.select(dir_group_members))).all()
    sid = {r.id: r.source_id for r in [*users, *groups]}
    return {
        "users": {
            r.source_id: (
                r.attributes,
                sid.get(r.manager_id) if r.manager_id else None,
                r.deleted_at is not None,
            )
            for r in users
        },
        "groups": {
            r.source_id: (
                r.display_name,
                {sid[m.member_id] for m in members if m.group_id == r.id},
                r.deleted_at is not None,
            )
            for r in groups
        },
    }


@pytest.fixture
async def scripted(service: Service) -> ScriptedSource:
    await operations.add(service, "scripted", "file", {}, {})
    return ScriptedSource()


async def run(service: Service, reader: ScriptedSource, *, full: bool = False) -> dict[str, Any]:
    source = await operations.get(service, "scripted")
    return (await read_source(service, source, full=full, reader=reader)).to_json()


async def test_a_delta_removes_only_by_removal_and_merges_attributes(
    service: Service, scripted: ScriptedSource
) -> None:
    scripted.rounds = [
        ScriptedRound("full", [Page(users=(user("a", "a@x.com", jobTitle="Dev"), user("b", "b@x.com", manager="a")))], "c1"),
        ScriptedRound("delta", [Page(users=(user("a", "a@x.com", department="R&D", jobTitle=None),))], "c2"),
        ScriptedRound("delta", [Page(removals=(Removal("user", "a", "deleted"),))], "c3"),
    ]  # fmt: skip
    await run(service, scripted)
    delta = await run(service, scripted)
    assert delta["kind"] == "delta"
    found = await state(service)
    assert found["users"]["a"][0] == {"userPrincipalName": "a@x.com", "department": "R&D"}  # jobTitle cleared
    assert found["users"]["b"][1] == "a"  # b was not in the delta: kept, manager unchanged
    assert found["users"]["b"][2] is False
    removed = await run(service, scripted)
    assert removed["users_deleted"] == 1
    found = await state(service)
    assert found["users"]["a"][2] is True
    assert found["users"]["b"][2] is False
    assert [c for c, _ in scripted.asked] == [None, "c1", "c2"]


async def test_records_repeated_and_out_of_order_apply_as_the_last_one_says(
    service: Service, scripted: ScriptedSource
) -> None:
    pages = [
        Page(groups=(GroupRecord("g", {"displayName": "G"}, frozenset({"a"}), frozenset({"h"}), members_complete=True),)),
        Page(groups=(GroupRecord("h", {"displayName": "G"}, members_complete=True),)),  # the same name: allowed
        Page(users=(user("a", "a@x.com", jobTitle="Old"),), removals=(Removal("user", "b"),)),
        Page(users=(user("b", "b@x.com"), user("a", "a@x.com", jobTitle="New"))),  # b comes back after its removal
    ]  # fmt: skip
    scripted.rounds = [ScriptedRound("full", pages + pages[2:], "c1")]
    result = await run(service, scripted)
    assert (result["users_created"], result["groups_created"], result["memberships_added"]) == (2, 2, 2)
    found = await state(service)
    assert found["users"]["a"][0]["jobTitle"] == "New"
    assert found["users"]["b"][2] is False
    assert found["groups"]["g"] == ("G", {"a", "h"}, False)


async def test_member_additions_and_removals_of_a_delta_change_only_those_members(
    service: Service, scripted: ScriptedSource
) -> None:
    users = tuple(user(s, f"{s}@x.com") for s in ("a", "b", "c"))
    scripted.rounds = [
        ScriptedRound("full", [Page(users=users, groups=(GroupRecord("g", {"displayName": "G"}, frozenset({"a", "b"}), members_complete=True),))], "c1"),
        ScriptedRound("delta", [Page(groups=(GroupRecord("g", {}, frozenset({"c"}), removed_members=frozenset({"a"})),))], "c2"),
    ]  # fmt: skip
    await run(service, scripted)
    delta = await run(service, scripted)
    assert (delta["memberships_added"], delta["memberships_removed"], delta["groups_updated"]) == (1, 1, 0)
    assert (await state(service))["groups"]["g"][1] == {"b", "c"}


async def test_an_expired_cursor_restarts_with_a_full_read(
    service: Service, scripted: ScriptedSource
) -> None:
    scripted.rounds = [
        ScriptedRound("full", [Page(users=(user("a", "a@x.com"), user("b", "b@x.com")))], "c1"),
        ScriptedRound("full", [Page(users=(user("a", "a@x.com"),))], "c2"),
    ]
    await run(service, scripted)
    scripted.expired = True
    result = await run(service, scripted)
    assert result["kind"] == "full"
    assert result["users_deleted"] == 1
    assert scripted.asked == [(None, True), ("c1", False), (None, True)]
    assert (await operations.get(service, "scripted")).cursor == "c2"


async def test_a_failed_round_keeps_the_previous_cursor_and_leaves_no_staged_records(
    service: Service, scripted: ScriptedSource
) -> None:
    class Failing(ScriptedRound):
        async def pages(self) -> AsyncIterator[Page]:
            yield Page(users=(user("z", "z@x.com"),))
            raise SourceUnavailableError("503 after retries")

    scripted.rounds = [
        ScriptedRound("full", [Page(users=(user("a", "a@x.com"),))], "c1"),
        Failing("delta", [], "c2"),
    ]
    await run(service, scripted)
    with pytest.raises(SourceUnavailableError):
        await run(service, scripted)
    after = await operations.get(service, "scripted")
    assert (after.cursor, after.last_status, after.last_error) == ("c1", "failed", "503 after retries")
    assert set((await state(service))["users"]) == {"a"}
    from enlist.provisioning.sources.tables import source_staging  # noqa: PLC0415

    async with service.db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(source_staging))).scalar_one() == 0


async def test_a_new_object_takes_its_guid_source_id_as_directory_id(
    service: Service, scripted: ScriptedSource
) -> None:
    guid = str(uuid.uuid4())
    scripted.rounds = [
        ScriptedRound("full", [Page(users=(user(guid, "g@x.com"), user("not-a-guid", "n@x.com")))], None)
    ]
    await run(service, scripted)
    async with service.db.read() as conn:
        rows = dict((await conn.execute(sa.select(dir_users.c.source_id, dir_users.c.id))).all())
    assert rows[guid] == guid
    assert str(uuid.UUID(rows["not-a-guid"])) == rows["not-a-guid"]


async def test_a_name_two_groups_share_is_refused_as_a_lookup_naming_both(
    service: Service, scripted: ScriptedSource
) -> None:
    from enlist.provisioning.directory import store  # noqa: PLC0415
    from enlist.provisioning.directory.errors import ConflictError  # noqa: PLC0415

    groups = (GroupRecord("g1", {"displayName": "Sales"}), GroupRecord("g2", {"displayName": "sales"}))
    scripted.rounds = [ScriptedRound("full", [Page(groups=groups)], None)]
    await run(service, scripted)
    async with service.db.read() as conn:
        with pytest.raises(ConflictError, match="2 groups are named 'Sales'"):
            await store.get_group_by_name(conn, "Sales")


async def test_a_new_user_with_a_manager_counts_as_created_only(
    service: Service, scripted: ScriptedSource
) -> None:
    users = (user("b", "b@x.com", manager="a"), user("a", "a@x.com"), user("c", "c@x.com", manager="b"))
    scripted.rounds = [ScriptedRound("full", [Page(users=users)], None)]
    result = await run(service, scripted)
    assert (result["users_created"], result["users_updated"]) == (3, 0)


async def test_a_cursor_that_expires_mid_round_restarts_a_full_read_and_applies_only_that(
    service: Service, scripted: ScriptedSource
) -> None:
    class ExpiresMidway(ScriptedRound):
        async def pages(self) -> AsyncIterator[Page]:
            yield Page(users=(user("ghost", "ghost@x.com"),))  # staged, then thrown away
            raise CursorExpiredError("410 Gone: resync required")

    scripted.rounds = [
        ScriptedRound("full", [Page(users=(user("a", "a@x.com"), user("b", "b@x.com")))], "c1"),
        ExpiresMidway("delta", [], "never"),
        ScriptedRound("full", [Page(users=(user("a", "a@x.com"),))], "c2"),
    ]
    await run(service, scripted)
    result = await run(service, scripted)
    assert (result["kind"], result["users_created"], result["users_deleted"]) == ("full", 0, 1)
    assert scripted.asked == [(None, True), ("c1", False), (None, True)]
    assert set((await state(service))["users"]) == {"a", "b"}
    assert (await operations.get(service, "scripted")).cursor == "c2"


async def test_the_lease_is_renewed_between_slow_pages_so_no_one_takes_it_over(
    service: Service, scripted: ScriptedSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio  # noqa: PLC0415
    from datetime import timedelta  # noqa: PLC0415

    from enlist.provisioning.sources import store as source_store  # noqa: PLC0415

    monkeypatch.setattr(source_store, "LEASE", timedelta(seconds=0.6))
    taken: list[bool] = []

    class Slow(ScriptedRound):
        async def pages(self) -> AsyncIterator[Page]:
            yield Page(users=(user("a", "a@x.com"),))
            await asyncio.sleep(1.5)  # longer than the lease: only the renewals keep it
            async with service.db.write() as conn:
                source = await operations.get(service, "scripted")
                taken.append(await source_store.claim(conn, source.id, "other-host:1:abc"))
            yield Page(users=(user("b", "b@x.com"),))

    scripted.rounds = [Slow("full", [], "c1")]
    result = await run(service, scripted)
    assert taken == [False]
    assert result["users_created"] == 2
