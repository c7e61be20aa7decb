"""The directory's store: the change feed, paging, soft delete, restore and purge."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from enlist.db.database import Database
from enlist.provisioning.directory import lifecycle, store
from enlist.provisioning.directory.errors import ConflictError, NotRestorableError, ObjectNotFoundError
from enlist.provisioning.directory.importer import import_directory
from enlist.provisioning.directory.model import ChangeEntry
from enlist.provisioning.directory.sample import generate_large
from enlist.provisioning.directory.source import DirectorySource
from enlist.provisioning.engine.ports import SourceReadError

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
ANN, BOB, CAT = (
    "aaaaaaaa-0000-4000-8000-000000000001",
    "bbbbbbbb-0000-4000-8000-000000000002",
    "cccccccc-0000-4000-8000-000000000003",
)
TEAM, ALL = "dddddddd-0000-4000-8000-000000000004", "eeeeeeee-0000-4000-8000-000000000005"


def attrs(upn: str, **more: object) -> dict[str, object]:
    return {"userPrincipalName": upn, "accountEnabled": True, **more}


async def small_directory(db: Database) -> None:
    """Ann manages Bob and Cat; Team holds Bob and Cat; All holds Ann and, nested, Team."""
    async with db.write() as conn:
        await store.upsert_user(conn, ANN, attrs("ann@corp.example"), now=T0)
        await store.upsert_user(conn, BOB, attrs("bob@corp.example"), manager_id=ANN, now=T0)
        await store.upsert_user(conn, CAT, attrs("cat@corp.example"), manager_id=ANN, now=T0)
        await store.upsert_group(conn, TEAM, {"displayName": "Team"}, now=T0)
        await store.upsert_group(conn, ALL, {"displayName": "All"}, now=T0)
        await store.set_members(conn, TEAM, users=[BOB, CAT], now=T0)
        await store.set_members(conn, ALL, users=[ANN], groups=[TEAM], now=T0)


async def feed(db: Database, after: int = 0, limit: int | None = None) -> list[ChangeEntry]:
    async with db.read() as conn:
        return await store.changes_since(conn, after, limit)


async def seq(db: Database) -> int:
    async with db.read() as conn:
        return await store.current_seq(conn)


def triples(entries: list[ChangeEntry]) -> list[tuple[str, str, str | None]]:
    return [(e.kind, e.object_id, e.member_id) for e in entries]


async def test_an_empty_directory_is_at_seq_zero(directory_db: Database) -> None:
    assert await seq(directory_db) == 0
    assert await feed(directory_db) == []


async def test_an_upsert_that_changes_nothing_records_nothing(directory_db: Database) -> None:
    document = attrs(
        "ann@corp.example", businessPhones=["+1 555 0100"], extra={"a": [1, 2.5, None]}, jobTitle=None
    )
    async with directory_db.write() as conn:
        assert await store.upsert_user(conn, ANN, document) == "created"
    mark = await seq(directory_db)

    async with directory_db.write() as conn:
        assert await store.upsert_user(conn, ANN, {**document, "objectId": ANN}) == "unchanged"
        assert await store.upsert_user(conn, ANN, document, manager_id=None) == "unchanged"

    assert await seq(directory_db) == mark


async def test_an_upsert_of_another_users_upn_is_a_conflict(directory_db: Database) -> None:
    await small_directory(directory_db)

    with pytest.raises(ConflictError, match="userPrincipalName"):
        async with directory_db.write() as conn:
            await store.upsert_user(conn, "ffffffff-0000-4000-8000-000000000006", attrs("ANN@corp.example"))


async def test_the_feed_returns_exactly_the_changes_after_a_seq(directory_db: Database) -> None:
    await small_directory(directory_db)
    everything = await feed(directory_db)
    assert triples(everything) == [
        ("user", ANN, None),
        ("user", BOB, None),
        ("user", CAT, None),
        ("group", TEAM, None),
        ("group", ALL, None),
        ("membership", TEAM, BOB),
        ("membership", TEAM, CAT),
        ("membership", ALL, ANN),
        ("membership", ALL, TEAM),
    ]
    seqs = [e.seq for e in everything]
    assert seqs == sorted(set(seqs))
    assert await seq(directory_db) == seqs[-1]

    for position, entry in enumerate(everything):
        assert await feed(directory_db, entry.seq) == everything[position + 1 :]
    assert await feed(directory_db, seqs[2], limit=2) == everything[3:5]


async def test_paging_returns_every_user_and_group_exactly_once(directory_db: Database) -> None:
    data = generate_large(users=1234, groups=7, memberships=3000, seed=5)
    async with directory_db.write() as conn:
        await import_directory(conn, data, replace=False)
        first = await store.get_user_by_upn(conn, "user000003@northwind.example")
        assert first is not None
        await lifecycle.soft_delete_user(conn, first.id)

    async with directory_db.read() as conn:
        pages = [page async for page in store.iter_users(conn, page_size=100)]
        groups = [page async for page in store.iter_groups(conn, page_size=3)]
        one_by_one = [page async for page in store.iter_users(conn, page_size=1)]

    ids = [u.id for page in pages for u in page]
    assert len(ids) == len(set(ids)) == 1234
    assert ids == sorted(ids)
    assert [len(p) for p in pages] == [100] * 12 + [34]
    assert first.id in ids  # soft-deleted users are read too
    assert len(one_by_one) == 1234
    assert [len(p) for p in groups] == [3, 3, 1]
    assert sum(len(g.member_user_ids) for page in groups for g in page) == 3000


async def test_get_returns_the_ids_that_exist_with_direct_members(directory_db: Database) -> None:
    await small_directory(directory_db)

    async with directory_db.read() as conn:
        users = await store.get_users(conn, [ANN, BOB, "missing"])
        groups = await store.get_groups(conn, [ALL, "missing"])
        containing = await store.groups_containing(conn, [ANN, BOB, TEAM, "missing"])
        reports = await store.reports_of(conn, [ANN])

    assert set(users) == {ANN, BOB}
    assert users[BOB].manager_id == ANN
    assert users[BOB].attributes["objectId"] == BOB
    assert groups[ALL].member_user_ids == {ANN}
    assert groups[ALL].member_group_ids == {TEAM}  # direct members only: Bob is not expanded
    assert containing == {ANN: {ALL}, BOB: {TEAM}, TEAM: {ALL}, "missing": set()}
    assert reports == {BOB, CAT}


async def test_set_members_writes_only_the_delta(directory_db: Database) -> None:
    await small_directory(directory_db)
    mark = await seq(directory_db)

    async with directory_db.write() as conn:
        same = await store.set_members(conn, TEAM, users=[CAT, BOB])
        delta = await store.set_members(conn, TEAM, users=[CAT, ANN])

    assert same == (0, 0)
    assert delta == (1, 1)
    assert sorted(triples(await feed(directory_db, mark))) == [
        ("membership", TEAM, ANN),
        ("membership", TEAM, BOB),
    ]


async def test_a_soft_deleted_user_is_restorable_for_30_days(directory_db: Database) -> None:
    await small_directory(directory_db)
    async with directory_db.write() as conn:
        assert await lifecycle.soft_delete_user(conn, BOB, now=T0)
        assert not await lifecycle.soft_delete_user(conn, BOB, now=T0)  # already deleted
    mark = await seq(directory_db)

    async with directory_db.write() as conn:
        assert await lifecycle.restore_user(conn, BOB, now=T0 + timedelta(days=30))
        assert not await lifecycle.restore_user(conn, BOB, now=T0 + timedelta(days=30))  # not deleted

    async with directory_db.read() as conn:
        bob = (await store.get_users(conn, [BOB]))[BOB]
        team = (await store.get_groups(conn, [TEAM]))[TEAM]
    assert not bob.soft_deleted
    assert bob.manager_id == ANN
    assert BOB in team.member_user_ids
    assert triples(await feed(directory_db, mark)) == [("user", BOB, None)]


async def test_a_user_deleted_more_than_30_days_ago_cannot_be_restored(directory_db: Database) -> None:
    await small_directory(directory_db)
    async with directory_db.write() as conn:
        await lifecycle.soft_delete_user(conn, BOB, now=T0)

    with pytest.raises(NotRestorableError):
        async with directory_db.write() as conn:
            await lifecycle.restore_user(conn, BOB, now=T0 + timedelta(days=30, seconds=1))
    with pytest.raises(ObjectNotFoundError):
        async with directory_db.write() as conn:
            await lifecycle.restore_user(conn, "never-was")


async def test_soft_deleted_groups_are_restorable_too(directory_db: Database) -> None:
    await small_directory(directory_db)
    async with directory_db.write() as conn:
        assert await lifecycle.soft_delete_group(conn, TEAM, now=T0)
        assert await lifecycle.restore_group(conn, TEAM, now=T0 + timedelta(days=1))
        group = (await store.get_groups(conn, [TEAM]))[TEAM]
    assert group.deleted_at is None
    assert group.member_user_ids == {BOB, CAT}


async def test_purge_hard_deletes_after_30_days_and_records_what_went(directory_db: Database) -> None:
    await small_directory(directory_db)
    async with directory_db.write() as conn:
        await lifecycle.soft_delete_user(conn, ANN, now=T0)
        await lifecycle.soft_delete_group(conn, TEAM, now=T0)
        assert await lifecycle.purge_deleted(conn, T0 + timedelta(days=30)) == 0  # still restorable
    mark = await seq(directory_db)

    async with directory_db.write() as conn:
        assert await lifecycle.purge_deleted(conn, T0 + timedelta(days=30, seconds=1)) == 2

    async with directory_db.read() as conn:
        users = await store.get_users(conn, [ANN, BOB, CAT])
        groups = await store.get_groups(conn, [TEAM, ALL])
        containing = await store.groups_containing(conn, [ANN, TEAM, BOB])
    assert set(users) == {BOB, CAT}
    assert users[BOB].manager_id is None  # their manager is gone
    assert set(groups) == {ALL}
    assert groups[ALL].member_user_ids == groups[ALL].member_group_ids == frozenset()
    assert containing == {ANN: set(), TEAM: set(), BOB: set()}
    assert sorted(triples(await feed(directory_db, mark))) == sorted(
        [
            ("membership", ALL, ANN),
            ("user", BOB, None),  # lost their manager
            ("user", CAT, None),
            ("user", ANN, None),  # gone: get_users no longer has it
            ("membership", ALL, TEAM),
            ("group", TEAM, None),
        ]
    )


async def test_a_hard_delete_is_immediate(directory_db: Database) -> None:
    await small_directory(directory_db)

    async with directory_db.write() as conn:
        await lifecycle.hard_delete_user(conn, CAT)
        await lifecycle.hard_delete_group(conn, ALL)
        assert await store.get_users(conn, [CAT]) == {}
        assert await store.get_groups(conn, [ALL]) == {}
        assert (await store.get_groups(conn, [TEAM]))[TEAM].member_user_ids == {BOB}
    with pytest.raises(ObjectNotFoundError):
        async with directory_db.write() as conn:
            await lifecycle.hard_delete_user(conn, CAT)


async def test_a_second_writer_waits_for_the_first_so_seqs_become_visible_in_order(
    directory_db: Database,
) -> None:
    async def second() -> None:
        async with directory_db.write() as conn:
            await store.upsert_user(conn, BOB, attrs("bob@corp.example"))

    async with directory_db.write() as conn:
        await store.upsert_user(conn, ANN, attrs("ann@corp.example"))
        task = asyncio.create_task(second())
        await asyncio.sleep(0.3)
        assert not task.done()  # it waits for the first writer's commit
    await task

    assert triples(await feed(directory_db)) == [("user", ANN, None), ("user", BOB, None)]


async def test_the_source_port_reads_what_the_store_reads(directory_db: Database) -> None:
    await small_directory(directory_db)
    source = DirectorySource(directory_db)

    users = [u for page in [p async for p in source.iter_users(2)] for u in page]
    groups = [g for page in [p async for p in source.iter_groups(1)] for g in page]

    assert [u.id for u in users] == [ANN, BOB, CAT]
    assert [g.id for g in groups] == [TEAM, ALL]
    assert await source.current_seq() == len(await source.changes_since(0))
    assert set(await source.get_users([BOB])) == {BOB}
    assert set(await source.get_groups([TEAM])) == {TEAM}
    assert await source.groups_containing([TEAM]) == {TEAM: {ALL}}
    assert await source.reports_of([ANN]) == {BOB, CAT}


async def test_a_source_that_cannot_be_read_says_so(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}")  # no tables
    source = DirectorySource(db)
    try:
        with pytest.raises(SourceReadError):
            await source.current_seq()
        with pytest.raises(SourceReadError):
            [page async for page in source.iter_users(10)]
    finally:
        await db.dispose()
