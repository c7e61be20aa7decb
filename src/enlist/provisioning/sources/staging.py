"""A round's records, staged a page per transaction and read back folded, an object at a time.

Pages go into `source_staging` as they arrive, so a round's memory is bounded by a page, not by
the source. `folded_users` and `folded_groups` read them back in chunks of objects (keyset
paging by the source's id) with every record of one object folded in the order they arrived:
a later record wins over an earlier one, an attribute a record does not carry is kept from the
earlier ones, and a record after a `Removal` brings the object back. Replaying a page adds the
same records again and folds to the same object, so a replayed page changes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.provisioning.sources.model import UNCHANGED, Page, Unchanged
from enlist.provisioning.sources.tables import source_staging

CHUNK = 500


def page_rows(source: int, round_id: str, page: Page) -> list[dict[str, Any]]:
    """The staging rows of one page, in the page's order (users, groups, removals)."""
    rows: list[dict[str, Any]] = []

    def add(kind: str, op: str, object_id: str, record: dict[str, Any]) -> None:
        rows.append(
            {
                "source": source,
                "round_id": round_id,
                "kind": kind,
                "op": op,
                "object_id": object_id,
                "record": record,
            }
        )

    for user in page.users:
        record: dict[str, Any] = {"a": dict(user.attributes)}
        if not isinstance(user.manager, Unchanged):
            record["m"] = user.manager
        add("user", "upsert", user.source_id, record)
    for group in page.groups:
        add(
            "group",
            "upsert",
            group.source_id,
            {
                "a": dict(group.attributes),
                "u": sorted(group.member_users),
                "g": sorted(group.member_groups),
                "r": sorted(group.removed_members),
                "c": group.members_complete,
            },
        )
    for removal in page.removals:
        add(removal.kind, "remove", removal.source_id, {"reason": removal.reason})
    return rows


async def stage(conn: AsyncConnection, source: int, round_id: str, page: Page) -> int:
    """Stage one page; how many records it held."""
    rows = page_rows(source, round_id, page)
    if rows:
        await conn.execute(source_staging.insert(), rows)
    return len(rows)


async def discard(conn: AsyncConnection, source: int) -> None:
    """Drop every staged record of the source (a finished, failed or abandoned round's)."""
    await conn.execute(source_staging.delete().where(source_staging.c.source == source))


@dataclass
class FoldedUser:
    source_id: str
    attributes: dict[str, Any] = field(default_factory=dict)  # None values clear
    manager: str | Unchanged | None = UNCHANGED
    removed: bool = False
    counted: bool = False  # its creation or update is in the counts already


@dataclass
class FoldedGroup:
    source_id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    complete: bool = False
    users: set[str] = field(default_factory=set)  # the whole list when complete, else additions
    groups: set[str] = field(default_factory=set)
    removed_members: set[str] = field(default_factory=set)
    removed: bool = False


def _fold_user(object_id: str, rows: list[Any]) -> FoldedUser:
    folded = FoldedUser(object_id)
    counted = any(row.counted for row in rows)
    for row in rows:
        if row.op == "remove":
            folded = FoldedUser(object_id, removed=True)
            continue
        folded.removed = False
        folded.attributes.update(row.record["a"])
        if "m" in row.record:
            folded.manager = row.record["m"]
    folded.counted = counted
    return folded


def _fold_group(object_id: str, rows: list[Any]) -> FoldedGroup:
    folded = FoldedGroup(object_id)
    for row in rows:
        if row.op == "remove":
            folded = FoldedGroup(object_id, removed=True)
            continue
        record = row.record
        folded.removed = False
        folded.attributes.update(record["a"])
        users, groups, gone = set(record["u"]), set(record["g"]), set(record["r"])
        if record["c"]:
            folded.complete = True
            folded.users, folded.groups, folded.removed_members = users, groups, set()
        else:
            folded.users = (folded.users | users) - gone
            folded.groups = (folded.groups | groups) - gone
            if not folded.complete:
                folded.removed_members = (folded.removed_members | gone) - users - groups
    return folded


async def _folded(conn: AsyncConnection, source: int, round_id: str, kind: str) -> AsyncIterator[list[Any]]:
    s = source_staging.c
    mine = (s.source == source) & (s.round_id == round_id) & (s.kind == kind)
    after: str | None = None
    while True:
        ids_query = (
            sa.select(s.object_id).where(mine).group_by(s.object_id).order_by(s.object_id).limit(CHUNK)
        )
        if after is not None:
            ids_query = ids_query.where(s.object_id > after)
        ids = [r[0] for r in await conn.execute(ids_query)]
        if not ids:
            return
        rows = await conn.execute(
            sa.select(s.object_id, s.op, s.record, s.counted)
            .where(mine & s.object_id.in_(ids))
            .order_by(s.object_id, s.seq)
        )
        grouped: dict[str, list[Any]] = {i: [] for i in ids}
        for row in rows:
            grouped[row.object_id].append(row)
        fold = _fold_user if kind == "user" else _fold_group
        yield [fold(i, grouped[i]) for i in ids]
        after = ids[-1]


def folded_users(conn: AsyncConnection, source: int, round_id: str) -> AsyncIterator[list[FoldedUser]]:
    """The round's users, folded, in chunks of `CHUNK` ordered by source id."""
    return _folded(conn, source, round_id, "user")


def folded_groups(conn: AsyncConnection, source: int, round_id: str) -> AsyncIterator[list[FoldedGroup]]:
    """The round's groups, folded, in chunks of `CHUNK` ordered by source id."""
    return _folded(conn, source, round_id, "group")


async def mark_counted(
    conn: AsyncConnection, source: int, round_id: str, kind: str, object_ids: list[str]
) -> None:
    """Remember that these objects' creation or update is counted."""
    s = source_staging.c
    mine = (s.source == source) & (s.round_id == round_id) & (s.kind == kind)
    for part in range(0, len(object_ids), CHUNK):
        ids = object_ids[part : part + CHUNK]
        await conn.execute(source_staging.update().where(mine & s.object_id.in_(ids)).values(counted=True))


async def listed_among(
    conn: AsyncConnection, source: int, round_id: str, kind: str, object_ids: Sequence[str]
) -> set[str]:
    """Which of `object_ids` (at most `CHUNK`) the round has a record of, of any op: one
    statement, served by the staging index whatever the planner knows of the table."""
    if not object_ids:
        return set()
    s = source_staging.c
    mine = (s.source == source) & (s.round_id == round_id) & (s.kind == kind)
    rows = await conn.execute(sa.select(s.object_id).where(mine & s.object_id.in_(object_ids)).distinct())
    return {r[0] for r in rows}


async def removed_objects(
    conn: AsyncConnection, source: int, round_id: str, kind: str
) -> AsyncIterator[list[str]]:
    """The round's objects whose last record is a `Removal` (for counting before applying), in
    chunks of at most `CHUNK`, keyset-paged by the source's id: two statements a chunk."""
    s = source_staging.c
    mine = (s.source == source) & (s.round_id == round_id) & (s.kind == kind)
    after: str | None = None
    while True:
        query = (
            sa.select(s.object_id)
            .where(mine & (s.op == "remove"))
            .group_by(s.object_id)
            .order_by(s.object_id)
            .limit(CHUNK)
        )
        if after is not None:
            query = query.where(s.object_id > after)
        ids = [r[0] for r in await conn.execute(query)]
        if not ids:
            return
        rows = await conn.execute(
            sa.select(s.object_id, s.op).where(mine & s.object_id.in_(ids)).order_by(s.object_id, s.seq)
        )
        last: dict[str, str] = {row.object_id: row.op for row in rows}  # seq order: the last record wins
        yield [i for i in ids if last.get(i) == "remove"]
        after = ids[-1]
