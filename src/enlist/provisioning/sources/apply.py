"""Applying a staged round to the directory, in the caller's ONE write transaction.

Over the directory's own writers (`store`, `lifecycle`), so every change reaches the change feed
the engine's incremental cycles read. The rules (ADR 0018):

- An object is found by (source, source id). A new one gets the source's id as its directory id
  when that id is a GUID no other object has (Graph's ids are: the directory's `objectId` then
  equals Entra's), else a new GUID. A rename keeps the object.
- A record merges into the stored object: attributes it does not carry are kept, `None` clears.
  A record of a soft-deleted object restores it.
- A full round soft-deletes this source's live objects it did not list; any round soft-deletes
  the objects an explicit `Removal` names. Nothing is ever hard-deleted here.
- Before anything is written, the removals are counted: more than the source's
  `deletion_threshold` (0: no limit) holds the round (`RoundHeldError`), unless allowed.
- A userPrincipalName another source's (or a hand-imported) user has already is a conflict: the
  record is not applied, and the conflict is reported; objects are never merged across sources.
- A manager or member is looked up among this source's objects; one the source does not have is
  reported and left out.
- A new user whose userPrincipalName is that of one of this source's soft-deleted users takes
  that user back (its source id becomes the new one, and it is restored): a person deleted and
  re-created in a directory whose new entry gets a new id (LDAP's entryUUID, AD without the
  Recycle Bin) keeps its object, and so its portal account (ADR 0022).

Cost: a constant number of statements per chunk of `staging.CHUNK` objects, never one per
object or membership, each an index lookup by key of at most a chunk (the directory and the
staging table are never joined in SQL: PostgreSQL plans such a join from statistics that do
not know the rows just staged). `tests/integration/sources/test_apply_statement_counts.py`
holds both properties.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.provisioning.directory import lifecycle, store
from enlist.provisioning.directory.feed import Change, append, chunks
from enlist.provisioning.directory.tables import dir_group_members, dir_groups, dir_users
from enlist.provisioning.sources.model import RoundKind, Unchanged
from enlist.provisioning.sources.staging import (
    CHUNK,
    FoldedGroup,
    FoldedUser,
    folded_groups,
    folded_users,
    listed_among,
    mark_counted,
    removed_objects,
)
from enlist.provisioning.sources.tables import source_staging

COUNT_KEYS = (
    "users_created",
    "users_updated",
    "users_deleted",
    "groups_created",
    "groups_updated",
    "groups_deleted",
    "memberships_added",
    "memberships_removed",
)


class RoundHeldError(Exception):
    """The round would remove more objects than the source's deletion threshold allows."""

    def __init__(self, removals: int, threshold: int) -> None:
        super().__init__(
            f"the read would remove {removals} objects, more than the deletion threshold ({threshold}): "
            "nothing was applied; check the source, then run `source sync NAME --allow-deletes` "
            "(or raise deletion_threshold)"
        )
        self.removals = removals
        self.threshold = threshold


@dataclass
class ApplyReport:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))
    conflicts: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(self.counts.values())


@dataclass(frozen=True, slots=True)
class RoundRef:
    """Which round to apply: the source's row id and name (its owner name), the round's id."""

    source: int
    name: str
    round_id: str
    kind: RoundKind


async def count_removals(conn: AsyncConnection, ref: RoundRef) -> int:
    """How many live objects applying the round would soft-delete.

    Chunk by chunk (a constant number of statements per `CHUNK` objects), each statement an
    index lookup by key: an anti-join of the directory with the staging table lets PostgreSQL,
    whose statistics do not know yet about the rows just staged, pick a nested loop that reads
    the whole round once per directory object."""
    total = 0
    for kind, table in (("user", dir_users), ("group", dir_groups)):
        async for named in removed_objects(conn, ref.source, ref.round_id, kind):
            query = sa.select(sa.func.count()).where(_live(table, ref.name) & table.c.source_id.in_(named))
            total += (await conn.execute(query)).scalar_one()
        if ref.kind == "full":
            async for unlisted in _unlisted(conn, ref, kind, table):
                total += len(unlisted)
    return int(total)


def _live(table: sa.Table, name: str) -> sa.ColumnElement[bool]:
    return (table.c.source == name) & table.c.deleted_at.is_(None)


async def _unlisted(
    conn: AsyncConnection, ref: RoundRef, kind: str, table: sa.Table
) -> AsyncIterator[list[str]]:
    """The directory ids of this source's live objects the round has no record of, in chunks:
    keyset-paged through the `(source, source_id)` index, each chunk checked against the
    staging index (two statements a chunk). Soft-deleting a chunk's objects while iterating is
    safe: the next chunk starts after the last source id seen."""
    after: str | None = None
    while True:
        query = (
            sa.select(table.c.id, table.c.source_id)
            .where(_live(table, ref.name) & table.c.source_id.is_not(None))
            .order_by(table.c.source_id)
            .limit(CHUNK)
        )
        if after is not None:
            query = query.where(table.c.source_id > after)
        rows = (await conn.execute(query)).all()
        if not rows:
            return
        listed = await listed_among(conn, ref.source, ref.round_id, kind, [r.source_id for r in rows])
        yield [r.id for r in rows if r.source_id not in listed]
        after = rows[-1].source_id


async def apply_round(
    conn: AsyncConnection, ref: RoundRef, *, threshold: int, allow_deletes: bool, now: datetime
) -> ApplyReport:
    """Apply the staged round `ref` in `conn`'s transaction; raises `RoundHeldError` (before any
    write) when it removes more than `threshold` objects and deletes are not allowed."""
    if conn.dialect.name == "postgresql":
        # asyncpg prepares each statement once per connection, and PostgreSQL soon keeps one
        # generic plan for it: planned while the round's first chunk was written, when the
        # directory looked empty, a seq scan testing each row against 500 parameters stays the
        # plan as the table grows to the whole tenant (15.6 s of a 20,000-user read). A plan per
        # execution sees the table as it is now; `LOCAL`: this transaction only.
        await conn.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))
    removals = await count_removals(conn, ref)
    if threshold and removals > threshold and not allow_deletes:
        raise RoundHeldError(removals, threshold)
    await lifecycle.purge_deleted(conn, now)
    report = ApplyReport()
    skipped: set[str] = set()
    async for chunk in folded_users(conn, ref.source, ref.round_id):
        await _users(conn, ref, chunk, report, skipped, now)
    async for groups in folded_groups(conn, ref.source, ref.round_id):
        await _groups(conn, ref, groups, report, now)
    if ref.kind == "full":
        for kind, table in (("user", dir_users), ("group", dir_groups)):
            await _remove_unlisted(conn, ref, kind, table, report, now)
    async for chunk in folded_users(conn, ref.source, ref.round_id):
        await _managers(conn, ref, [u for u in chunk if u.source_id not in skipped], report, now)
    async for groups in folded_groups(conn, ref.source, ref.round_id):
        await _members(conn, ref, groups, report, now)
    await conn.execute(
        source_staging.delete().where(
            (source_staging.c.source == ref.source) & (source_staging.c.round_id == ref.round_id)
        )
    )
    return report


async def _owned(conn: AsyncConnection, table: sa.Table, name: str, source_ids: list[str]) -> dict[str, Any]:
    """This source's objects among `source_ids`, by source id."""
    found: dict[str, Any] = {}
    columns = [table.c.id, table.c.source_id, table.c.attributes, table.c.deleted_at]
    if table is dir_users:
        columns.append(table.c.manager_id)
    for part in chunks(source_ids):
        rows = await conn.execute(
            sa.select(*columns).where((table.c.source == name) & table.c.source_id.in_(part))
        )
        found.update((r.source_id, r) for r in rows)
    return found


async def _new_ids(conn: AsyncConnection, source_ids: list[str]) -> dict[str, str]:
    """A directory id for each new object: its source id when that is a GUID nobody has."""
    wanted: dict[str, str] = {}
    for sid in source_ids:
        try:
            wanted[sid] = str(uuid.UUID(sid))
        except ValueError:
            wanted[sid] = str(uuid.uuid4())
    taken: set[str] = set()
    for table in (dir_users, dir_groups):
        for part in chunks(sorted(set(wanted.values()))):
            taken.update(r[0] for r in await conn.execute(sa.select(table.c.id).where(table.c.id.in_(part))))
    return {sid: (str(uuid.uuid4()) if i in taken else i) for sid, i in wanted.items()}


def _merged(stored: dict[str, Any] | None, changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(stored or {})
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


async def _upn_owners(conn: AsyncConnection, name: str, upns: list[str]) -> dict[str, str]:
    """The userPrincipalNames among `upns` (case-folded) that another owner's users have."""
    owners: dict[str, str] = {}
    for part in chunks(upns):
        query = sa.select(dir_users.c.upn_ci, dir_users.c.source).where(
            dir_users.c.upn_ci.in_(part) & (dir_users.c.source != name)
        )
        owners.update((r.upn_ci, r.source) for r in await conn.execute(query))
    return owners


async def _reclaim(conn: AsyncConnection, name: str, chunk: list[FoldedUser], stored: dict[str, Any]) -> bool:
    """Re-key this source's soft-deleted users whose userPrincipalName a new user of the chunk
    has to that new user's source id (see the module docstring); whether any was."""
    new = {
        str(u.attributes["userPrincipalName"]).casefold(): u.source_id
        for u in chunk
        if u.source_id not in stored and not u.removed and u.attributes.get("userPrincipalName")
    }
    listed = {u.source_id for u in chunk}
    reclaimed = False
    for part in chunks(sorted(new)):
        rows = await conn.execute(
            sa.select(dir_users.c.id, dir_users.c.upn_ci, dir_users.c.source_id).where(
                (dir_users.c.source == name)
                & dir_users.c.deleted_at.is_not(None)
                & dir_users.c.upn_ci.in_(part)
            )
        )
        for row in rows.all():
            if row.source_id in listed:
                continue  # the old object is in this round too: it is not gone
            await conn.execute(
                dir_users.update().where(dir_users.c.id == row.id).values(source_id=new[row.upn_ci])
            )
            reclaimed = True
    return reclaimed


async def _users(
    conn: AsyncConnection,
    ref: RoundRef,
    chunk: list[FoldedUser],
    report: ApplyReport,
    skipped: set[str],
    now: datetime,
) -> None:
    stored = await _owned(conn, dir_users, ref.name, [u.source_id for u in chunk])
    if await _reclaim(conn, ref.name, chunk, stored):
        stored = await _owned(conn, dir_users, ref.name, [u.source_id for u in chunk])
    new_ids = await _new_ids(
        conn, [u.source_id for u in chunk if u.source_id not in stored and not u.removed]
    )
    states: list[store.UserState] = []
    upns: dict[str, str] = {}
    for user in chunk:
        row = stored.get(user.source_id)
        if user.removed:
            continue
        attributes = _merged(row.attributes if row else None, user.attributes)
        upn = attributes.get("userPrincipalName")
        if not isinstance(upn, str) or not upn:
            report.warnings.append(f"user {user.source_id} has no userPrincipalName: not applied")
            skipped.add(user.source_id)
            continue
        upns[user.source_id] = upn
        object_id = row.id if row else new_ids[user.source_id]
        manager_id = row.manager_id if row else None
        states.append(store.UserState(object_id, attributes, manager_id, (ref.name, user.source_id)))
    claimed = await _upn_owners(conn, ref.name, sorted({u.casefold() for u in upns.values()}))
    kept: list[store.UserState] = []
    for state in states:
        assert state.owner is not None
        upn = upns[state.owner[1]]
        if upn.casefold() in claimed:
            report.conflicts.append(
                {"userPrincipalName": upn, "source_id": state.owner[1], "owner": claimed[upn.casefold()]}
            )
            skipped.add(state.owner[1])
        else:
            kept.append(state)
    outcomes = await store.upsert_users(conn, kept, now=now)
    to_restore = [
        stored[s.owner[1]].id
        for s in kept
        if s.owner and s.owner[1] in stored and stored[s.owner[1]].deleted_at
    ]
    restored = set(await lifecycle.restore_users(conn, to_restore, now=now))
    removed = [stored[u.source_id].id for u in chunk if u.removed and u.source_id in stored]
    deleted = await lifecycle.soft_delete_users(conn, removed, now=now)
    _count(report, "users", outcomes, restored, len(deleted))
    sids = {s.id: s.owner[1] for s in kept if s.owner}
    counted = [sids[i] for i, o in outcomes.items() if o != "unchanged" or i in restored]
    await mark_counted(conn, ref.source, ref.round_id, "user", counted)


def _count(
    report: ApplyReport, what: str, outcomes: dict[str, store.Outcome], restored: set[str], deleted: int
) -> None:
    report.counts[f"{what}_created"] += sum(1 for o in outcomes.values() if o == "created")
    report.counts[f"{what}_updated"] += sum(
        1 for i, o in outcomes.items() if o == "updated" or (o == "unchanged" and i in restored)
    )
    report.counts[f"{what}_deleted"] += deleted


async def _groups(
    conn: AsyncConnection, ref: RoundRef, chunk: list[FoldedGroup], report: ApplyReport, now: datetime
) -> None:
    stored = await _owned(conn, dir_groups, ref.name, [g.source_id for g in chunk])
    new_ids = await _new_ids(
        conn, [g.source_id for g in chunk if g.source_id not in stored and not g.removed]
    )
    states: list[store.GroupState] = []
    for group in chunk:
        row = stored.get(group.source_id)
        if group.removed:
            continue
        attributes = _merged(row.attributes if row else None, group.attributes)
        if not attributes.get("displayName"):
            report.warnings.append(f"group {group.source_id} has no displayName: not applied")
            continue
        states.append(
            store.GroupState(
                row.id if row else new_ids[group.source_id], attributes, (ref.name, group.source_id)
            )
        )
    outcomes = await store.upsert_groups(conn, states, now=now)
    to_restore = [
        stored[s.owner[1]].id
        for s in states
        if s.owner and s.owner[1] in stored and stored[s.owner[1]].deleted_at
    ]
    restored = set(await lifecycle.restore_groups(conn, to_restore, now=now))
    removed = [stored[g.source_id].id for g in chunk if g.removed and g.source_id in stored]
    deleted = await lifecycle.soft_delete_groups(conn, removed, now=now)
    _count(report, "groups", outcomes, restored, len(deleted))


async def _remove_unlisted(
    conn: AsyncConnection, ref: RoundRef, kind: str, table: sa.Table, report: ApplyReport, now: datetime
) -> None:
    soft_delete = lifecycle.soft_delete_users if kind == "user" else lifecycle.soft_delete_groups
    async for ids in _unlisted(conn, ref, kind, table):
        report.counts[f"{kind}s_deleted"] += len(await soft_delete(conn, ids, now=now))


async def _dir_ids(conn: AsyncConnection, table: sa.Table, name: str, source_ids: set[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in chunks(sorted(source_ids)):
        query = sa.select(table.c.source_id, table.c.id).where(
            (table.c.source == name) & table.c.source_id.in_(part)
        )
        found.update((r.source_id, r.id) for r in await conn.execute(query))
    return found


async def _managers(
    conn: AsyncConnection, ref: RoundRef, chunk: list[FoldedUser], report: ApplyReport, now: datetime
) -> None:
    told = [u for u in chunk if not u.removed and not isinstance(u.manager, Unchanged)]
    if not told:
        return
    ids = await _dir_ids(conn, dir_users, ref.name, {u.source_id for u in told})
    managers = await _dir_ids(
        conn, dir_users, ref.name, {u.manager for u in told if isinstance(u.manager, str)}
    )
    current = await store.get_users(conn, [ids[u.source_id] for u in told if u.source_id in ids])
    states: list[store.UserState] = []
    for user in told:
        found = current.get(ids.get(user.source_id, ""))
        if found is None:
            continue
        manager_id = None
        if isinstance(user.manager, str):
            manager_id = managers.get(user.manager)
            if manager_id is None:
                report.warnings.append(
                    f"user {user.source_id}: manager {user.manager} is not a user of this source"
                )
        if manager_id != found.manager_id:
            states.append(store.UserState(found.id, found.attributes, manager_id))
    outcomes = await store.upsert_users(conn, states, now=now)
    already = {ids[u.source_id] for u in told if u.counted and u.source_id in ids}
    report.counts["users_updated"] += sum(
        1 for i, o in outcomes.items() if o == "updated" and i not in already
    )


async def _members(
    conn: AsyncConnection, ref: RoundRef, chunk: list[FoldedGroup], report: ApplyReport, now: datetime
) -> None:
    """Make the chunk's groups' direct members what the round says, writing only the rows that
    differ and one `membership` change per member added or removed (as `store.set_members`
    does for one group), in a constant number of statements for the whole chunk."""
    live = [g for g in chunk if not g.removed]
    ids = await _dir_ids(conn, dir_groups, ref.name, {g.source_id for g in live})
    wanted_users = set().union(*(g.users | g.removed_members for g in live)) if live else set()
    wanted_groups = set().union(*(g.groups | g.removed_members for g in live)) if live else set()
    users = await _dir_ids(conn, dir_users, ref.name, wanted_users)
    groups = await _dir_ids(conn, dir_groups, ref.name, wanted_groups)
    current = await store.get_groups(conn, [ids[g.source_id] for g in live if g.source_id in ids])
    added: list[tuple[str, str, str]] = []  # (group id, member id, member type)
    removed: list[tuple[str, str]] = []
    changes: list[Change] = []
    for group in live:
        group_id = ids.get(group.source_id)
        if group_id is None or group_id not in current:
            continue
        known_users = {users[u] for u in group.users if u in users}
        known_groups = {groups[g] for g in group.groups if g in groups} - {group_id}
        for missing in sorted((group.users - users.keys()) | (group.groups - groups.keys())):
            report.warnings.append(
                f"group {group.source_id}: member {missing} is not an object of this source"
            )
        stored = current[group_id]
        if not group.complete:
            gone = {users.get(m) for m in group.removed_members} | {
                groups.get(m) for m in group.removed_members
            }
            known_users |= set(stored.member_user_ids) - gone
            known_groups |= set(stored.member_group_ids) - gone
        wanted = {(m, "user") for m in known_users} | {(m, "group") for m in known_groups}
        have = {(m, "user") for m in stored.member_user_ids} | {(m, "group") for m in stored.member_group_ids}
        gone_rows, new_rows = sorted(have - wanted), sorted(wanted - have)
        removed += [(group_id, m) for m, _ in gone_rows]
        added += [(group_id, m, t) for m, t in new_rows]
        changes += [("membership", group_id, m) for m, _ in gone_rows + new_rows]
    m = dir_group_members.c
    if removed:
        await conn.execute(
            dir_group_members.delete().where(
                (m.group_id == sa.bindparam("b_group")) & (m.member_id == sa.bindparam("b_member"))
            ),
            [{"b_group": g, "b_member": i} for g, i in removed],
        )
    if added:
        await conn.execute(
            dir_group_members.insert(),
            [{"group_id": g, "member_id": i, "member_type": t} for g, i, t in added],
        )
    await append(conn, changes, now)
    report.counts["memberships_added"] += len(added)
    report.counts["memberships_removed"] += len(removed)
