"""The directory's repository: reads, upserts, memberships and the change feed, over one connection.

Rules every function keeps (deletion and restore, in `lifecycle`, keep them too):

- Every write appends to the change feed in the caller's transaction (see `feed`), so a change
  and its entry commit together or not at all. A write that changes nothing records nothing.
- Reads return every object, soft-deleted ones included (`deleted_at` says which): the engine,
  like Entra, must see a soft delete to disable the account. An id that is absent was never
  there or was hard-deleted.
- Attributes are stored as given, minus `id`, `objectId`, `manager` and null values (null means
  unset, as in Graph's delta responses); reads add `objectId`.
- Member ids are trusted: the caller (the importer) resolves them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.provisioning.directory.errors import ConflictError, ObjectNotFoundError
from enlist.provisioning.directory.feed import Change, ChangeKind, append, chunks, lock_feed, record, utcnow
from enlist.provisioning.directory.model import ChangeEntry, SourceGroup, SourceUser
from enlist.provisioning.directory.tables import dir_changes, dir_group_members, dir_groups, dir_users

Outcome = Literal["created", "updated", "unchanged"]

_RESERVED = frozenset({"id", "objectId", "manager"})


@dataclass(frozen=True, slots=True)
class UserState:
    """What a writer sets for a user: its Graph attributes (with `userPrincipalName`) and manager."""

    id: str
    attributes: Mapping[str, Any]
    manager_id: str | None = None
    # (source name, the source's id): written when the user is created, never changed after.
    owner: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class GroupState:
    """What a writer sets for a group: its Graph attributes (with `displayName`)."""

    id: str
    attributes: Mapping[str, Any]
    owner: tuple[str, str] | None = None  # as `UserState.owner`


class MembershipDelta(NamedTuple):
    added: int
    removed: int


# Reads ------------------------------------------------------------------------------------------

_USER_COLUMNS = (dir_users.c.id, dir_users.c.attributes, dir_users.c.manager_id, dir_users.c.deleted_at)
_GROUP_COLUMNS = (dir_groups.c.id, dir_groups.c.attributes, dir_groups.c.deleted_at)


def _user(row: Any) -> SourceUser:
    return SourceUser(row.id, {**row.attributes, "objectId": row.id}, row.manager_id, row.deleted_at)


async def iter_users(conn: AsyncConnection, page_size: int = 500) -> AsyncIterator[list[SourceUser]]:
    """Every user once, soft-deleted ones included, in pages ordered by id (keyset paging: a page
    costs the same wherever it is)."""
    after: str | None = None
    while True:
        query = sa.select(*_USER_COLUMNS).order_by(dir_users.c.id).limit(page_size)
        if after is not None:
            query = query.where(dir_users.c.id > after)
        rows = (await conn.execute(query)).all()
        if rows:
            yield [_user(r) for r in rows]
        if len(rows) < page_size:
            return
        after = rows[-1].id


async def get_users(conn: AsyncConnection, ids: Iterable[str]) -> dict[str, SourceUser]:
    """The users among `ids` that exist (soft-deleted or not)."""
    found: dict[str, SourceUser] = {}
    for part in chunks(sorted(set(ids))):
        rows = await conn.execute(sa.select(*_USER_COLUMNS).where(dir_users.c.id.in_(part)))
        found.update((r.id, _user(r)) for r in rows)
    return found


async def get_user_by_upn(conn: AsyncConnection, upn: str) -> SourceUser | None:
    """The user with that userPrincipalName, compared case-insensitively."""
    query = sa.select(*_USER_COLUMNS).where(dir_users.c.upn_ci == upn.casefold())
    row = (await conn.execute(query)).first()
    return _user(row) if row else None


async def _groups(conn: AsyncConnection, rows: Sequence[Any]) -> list[SourceGroup]:
    members: dict[str, tuple[set[str], set[str]]] = {r.id: (set(), set()) for r in rows}
    m = dir_group_members.c
    for part in chunks(list(members)):
        found = await conn.execute(
            sa.select(m.group_id, m.member_id, m.member_type).where(m.group_id.in_(part))
        )
        for group_id, member_id, member_type in found:
            members[group_id][0 if member_type == "user" else 1].add(member_id)
    return [
        SourceGroup(
            r.id,
            {**r.attributes, "objectId": r.id},
            frozenset(members[r.id][0]),
            frozenset(members[r.id][1]),
            r.deleted_at,
        )
        for r in rows
    ]


async def iter_groups(conn: AsyncConnection, page_size: int = 500) -> AsyncIterator[list[SourceGroup]]:
    """Every group once, soft-deleted ones included, with their direct members, in pages by id."""
    after: str | None = None
    while True:
        query = sa.select(*_GROUP_COLUMNS).order_by(dir_groups.c.id).limit(page_size)
        if after is not None:
            query = query.where(dir_groups.c.id > after)
        rows = (await conn.execute(query)).all()
        if rows:
            yield await _groups(conn, rows)
        if len(rows) < page_size:
            return
        after = rows[-1].id


async def get_groups(conn: AsyncConnection, ids: Iterable[str]) -> dict[str, SourceGroup]:
    """The groups among `ids` that exist, with their direct members."""
    found: dict[str, SourceGroup] = {}
    for part in chunks(sorted(set(ids))):
        rows = (await conn.execute(sa.select(*_GROUP_COLUMNS).where(dir_groups.c.id.in_(part)))).all()
        found.update((g.id, g) for g in await _groups(conn, rows))
    return found


async def get_group_by_name(conn: AsyncConnection, display_name: str) -> SourceGroup | None:
    """The group with that displayName, compared case-insensitively. Sources may have two groups
    with one name (ADR 0018): then `ConflictError`, naming their ids, rather than either."""
    query = sa.select(*_GROUP_COLUMNS).where(dir_groups.c.display_name_ci == display_name.casefold())
    rows = (await conn.execute(query.limit(10))).all()
    if len(rows) > 1:
        ids = ", ".join(sorted(r.id for r in rows))
        raise ConflictError(f"{len(rows)} groups are named {display_name!r} ({ids}): name one by its id")
    return (await _groups(conn, rows))[0] if rows else None


async def groups_containing(conn: AsyncConnection, member_ids: Iterable[str]) -> dict[str, set[str]]:
    """`{member_id: {group_id, …}}`: the groups each of `member_ids` is a direct member of (every
    id asked is a key, with an empty set when it is in no group)."""
    result: dict[str, set[str]] = {m: set() for m in member_ids}
    m = dir_group_members.c
    for part in chunks(sorted(result)):
        rows = await conn.execute(sa.select(m.member_id, m.group_id).where(m.member_id.in_(part)))
        for member_id, group_id in rows:
            result[member_id].add(group_id)
    return result


async def reports_of(conn: AsyncConnection, manager_ids: Iterable[str]) -> set[str]:
    """The ids of the users whose manager is one of `manager_ids` (direct reports)."""
    found: set[str] = set()
    for part in chunks(sorted(set(manager_ids))):
        rows = await conn.execute(sa.select(dir_users.c.id).where(dir_users.c.manager_id.in_(part)))
        found.update(r[0] for r in rows)
    return found


async def current_seq(conn: AsyncConnection) -> int:
    """The seq of the latest change (0 for an empty feed): read it before a full read, and every
    change the full read missed is in `changes_since` that seq."""
    query = sa.select(sa.func.coalesce(sa.func.max(dir_changes.c.seq), 0))
    return int((await conn.execute(query)).scalar_one())


async def changes_since(conn: AsyncConnection, seq: int, limit: int | None = None) -> list[ChangeEntry]:
    """The changes after `seq`, oldest first (at most `limit`). Seqs may have gaps; one object
    may appear several times (coalesce by object)."""
    c = dir_changes.c
    query = sa.select(c.seq, c.kind, c.object_id, c.member_id).where(c.seq > seq).order_by(c.seq)
    if limit is not None:
        query = query.limit(limit)
    return [ChangeEntry(*row) for row in await conn.execute(query)]


# Upserts ----------------------------------------------------------------------------------------


def _clean(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if k not in _RESERVED and v is not None}


def _owner(owner: tuple[str, str] | None) -> dict[str, str]:
    return {"source": owner[0], "source_id": owner[1]} if owner else {}


_OWNER_COLUMNS = frozenset({"id", "source", "source_id"})


def _name(attributes: Mapping[str, Any], name: str, what: str) -> str:
    value = attributes.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} has no {name}")
    return value


async def upsert_users(
    conn: AsyncConnection, users: Sequence[UserState], *, now: datetime | None = None
) -> dict[str, Outcome]:
    """Create or update users by id, comparing with what is stored: an unchanged user is not
    written and records no change. A soft-deleted user stays soft-deleted (`restore_users`).
    Raises `ConflictError` when a userPrincipalName is another user's."""
    rows: dict[str, dict[str, Any]] = {}
    for state in users:
        if state.id in rows:
            raise ValueError(f"user {state.id} is given twice")
        attributes = _clean(state.attributes)
        upn = _name(attributes, "userPrincipalName", f"user {state.id}")
        rows[state.id] = {
            "id": state.id,
            "upn": upn,
            "upn_ci": upn.casefold(),
            "attributes": attributes,
            "manager_id": state.manager_id,
            "account_enabled": attributes.get("accountEnabled", True) is not False,
            **_owner(state.owner),
        }
    return await _upsert(conn, dir_users, "user", rows, ("attributes", "manager_id"), "upn_ci", now)


async def upsert_user(
    conn: AsyncConnection,
    user_id: str,
    attributes: Mapping[str, Any],
    *,
    manager_id: str | None = None,
    now: datetime | None = None,
) -> Outcome:
    """`upsert_users` for one user."""
    return (await upsert_users(conn, [UserState(user_id, attributes, manager_id)], now=now))[user_id]


async def upsert_groups(
    conn: AsyncConnection, groups: Sequence[GroupState], *, now: datetime | None = None
) -> dict[str, Outcome]:
    """Create or update groups by id (their attributes; members are `set_members`'), recording a
    change only for those that differ from what is stored. Raises `ConflictError` when a
    displayName is another group's."""
    rows: dict[str, dict[str, Any]] = {}
    for state in groups:
        if state.id in rows:
            raise ValueError(f"group {state.id} is given twice")
        attributes = _clean(state.attributes)
        name = _name(attributes, "displayName", f"group {state.id}")
        rows[state.id] = {
            "id": state.id,
            "display_name": name,
            "display_name_ci": name.casefold(),
            "attributes": attributes,
            **_owner(state.owner),
        }
    return await _upsert(conn, dir_groups, "group", rows, ("attributes",), "display_name_ci", now)


async def upsert_group(
    conn: AsyncConnection, group_id: str, attributes: Mapping[str, Any], *, now: datetime | None = None
) -> Outcome:
    """`upsert_groups` for one group."""
    return (await upsert_groups(conn, [GroupState(group_id, attributes)], now=now))[group_id]


async def _upsert(
    conn: AsyncConnection,
    table: sa.Table,
    kind: ChangeKind,
    rows: dict[str, dict[str, Any]],
    compared: tuple[str, ...],
    unique: str,
    now: datetime | None,
) -> dict[str, Outcome]:
    moment = now or utcnow()
    await lock_feed(conn)
    stored: dict[str, Any] = {}
    for part in chunks(sorted(rows)):
        columns = [table.c[name] for name in (*compared, unique)]
        found = await conn.execute(sa.select(table.c.id, *columns).where(table.c.id.in_(part)))
        stored.update((r.id, r) for r in found)
    outcomes: dict[str, Outcome] = {}
    renamed: list[str] = []
    for object_id, row in rows.items():
        old = stored.get(object_id)
        if old is None:
            outcomes[object_id] = "created"
        elif all(getattr(old, name) == row[name] for name in compared):
            outcomes[object_id] = "unchanged"
        else:
            outcomes[object_id] = "updated"
            if getattr(old, unique) != row[unique]:
                renamed.append(object_id)
    written = [i for i, outcome in outcomes.items() if outcome != "unchanged"]
    seqs = dict(zip(written, await record(conn, [(kind, i, None) for i in written], moment), strict=True))
    created = [{**rows[i], "seq": seqs[i], "updated_at": moment} for i in written if outcomes[i] == "created"]
    updated = [
        {
            **{k: v for k, v in rows[i].items() if k not in _OWNER_COLUMNS},
            "b_id": i,
            "seq": seqs[i],
            "updated_at": moment,
        }
        for i in written
        if outcomes[i] == "updated"
    ]
    by_id = table.update().where(table.c.id == sa.bindparam("b_id"))
    try:
        if renamed:
            # Free the renamed ones' names first, so that a swap or a chain of renames never
            # meets the unique index half-way.
            await conn.execute(by_id, [{"b_id": i, unique: f"#renaming:{i}"} for i in renamed])
        if updated:
            await conn.execute(by_id, updated)
        if created:
            await conn.execute(table.insert(), created)
    except sa.exc.IntegrityError as exc:
        name = "userPrincipalName" if kind == "user" else "displayName"
        raise ConflictError(f"another {kind} already has that {name}") from exc
    return outcomes


# Memberships ------------------------------------------------------------------------------------


async def set_members(
    conn: AsyncConnection,
    group_id: str,
    *,
    users: Iterable[str] = (),
    groups: Iterable[str] = (),
    now: datetime | None = None,
) -> MembershipDelta:
    """Make the group's direct members exactly `users` and `groups` (nested groups), writing only
    the rows that differ and one `membership` change per member added or removed."""
    wanted = {(m, "user") for m in users} | {(m, "group") for m in groups}
    member_ids = {m for m, _ in wanted}
    if len(member_ids) != len(wanted):
        raise ValueError("a member is given both as a user and as a group")
    if group_id in member_ids:
        raise ValueError("a group cannot be a member of itself")
    await lock_feed(conn)
    if (await conn.execute(sa.select(dir_groups.c.id).where(dir_groups.c.id == group_id))).first() is None:
        raise ObjectNotFoundError(f"no group {group_id}")
    m = dir_group_members.c
    rows = await conn.execute(sa.select(m.member_id, m.member_type).where(m.group_id == group_id))
    current = {(member_id, member_type) for member_id, member_type in rows}
    added, removed = sorted(wanted - current), sorted(current - wanted)
    for part in chunks([member_id for member_id, _ in removed]):
        await conn.execute(dir_group_members.delete().where((m.group_id == group_id) & m.member_id.in_(part)))
    if added:
        await conn.execute(
            dir_group_members.insert(),
            [{"group_id": group_id, "member_id": i, "member_type": t} for i, t in added],
        )
    changes: list[Change] = [("membership", group_id, i) for i, _ in removed + added]
    await append(conn, changes, now or utcnow())
    return MembershipDelta(len(added), len(removed))
