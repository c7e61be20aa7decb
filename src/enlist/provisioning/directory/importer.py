"""Import a directory file: upsert users by userPrincipalName and groups by displayName.

`parse_directory_json` and `parse_users_csv` (from `files`) check a file without touching the
database; `import_directory` applies a checked file inside the caller's write transaction, so an
import is all or nothing: a problem found while applying raises, and the transaction rolls back.

Matching: an entry with an id (`id` or `objectId`) is that object (and may rename it); an entry
without one is the object with its name, compared case-insensitively, soft-deleted or not (a
soft-deleted one is restored); otherwise the entry creates an object with a new id. With
`replace`, every object the file lacks is soft-deleted (groups only when the file has `groups`).
An entry merges into the object it matches, and references may name objects already in the
directory (see `merge`). Objects soft-deleted longer than the retention are
purged first, so an import never brings one back from past its retention.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.provisioning.directory import lifecycle, merge, store
from enlist.provisioning.directory.errors import InvalidFileError
from enlist.provisioning.directory.feed import utcnow
from enlist.provisioning.directory.files import (
    DirectoryFile,
    parse_directory_json,
    parse_users_csv,
)
from enlist.provisioning.directory.tables import BUILTIN_OWNER, dir_groups, dir_users

__all__ = ["Counts", "ImportReport", "import_directory", "parse_directory_json", "parse_users_csv"]


@dataclass(frozen=True, slots=True)
class Counts:
    """What an import did to one kind of object. `created + updated + unchanged` is the number
    of entries in the file; `restored` ones are also counted there."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    soft_deleted: int = 0
    restored: int = 0


@dataclass(frozen=True, slots=True)
class ImportReport:
    users: Counts
    groups: Counts
    memberships_added: int = 0
    memberships_removed: int = 0
    purged: int = 0

    def to_json(self) -> dict[str, int]:
        """Flat counts for `--json`: `users_created`, …, `groups_soft_deleted`, …,
        `memberships_added`, `memberships_removed`, `purged`."""
        return {
            **{f"users_{k}": v for k, v in asdict(self.users).items()},
            **{f"groups_{k}": v for k, v in asdict(self.groups).items()},
            "memberships_added": self.memberships_added,
            "memberships_removed": self.memberships_removed,
            "purged": self.purged,
        }


@dataclass(frozen=True, slots=True)
class _Matched:
    ids: dict[str, str]  # the entry's name, case-folded -> object id
    restore: list[str]  # matched objects that are soft-deleted
    missing: list[str]  # live objects the file lacks


async def import_directory(
    conn: AsyncConnection, data: DirectoryFile, *, replace: bool, now: datetime | None = None
) -> ImportReport:
    """Apply `data` to the directory in `conn`'s transaction (run it in `Database.write()`).
    Raises `InvalidFileError` (a reference the file cannot resolve, an id that contradicts the
    directory) or `ConflictError`; the caller's transaction then rolls back, so nothing changes.
    """
    moment = now or utcnow()
    purged = await lifecycle.purge_deleted(conn, moment)
    # Resolve everything before the first write: most problems then cost no rollback at all.
    users = await _match(conn, dir_users, "upn_ci", [(u.upn, u.id, u.where) for u in data.users])
    states = await merge.user_states(conn, data.users, users.ids)
    if data.groups is None:
        return ImportReport(await _apply_users(conn, states, users, replace, moment), Counts(), purged=purged)
    entries = [(g.display_name, g.id, g.where) for g in data.groups]
    groups = await _match(conn, dir_groups, "display_name_ci", entries)
    memberships = await merge.memberships(conn, data.groups, users.ids, groups.ids)

    user_counts = await _apply_users(conn, states, users, replace, moment)
    group_states = await merge.group_states(conn, data.groups, groups.ids)
    outcomes = await store.upsert_groups(conn, group_states, now=moment)
    restored = await lifecycle.restore_groups(conn, groups.restore, now=moment)
    deleted = await lifecycle.soft_delete_groups(conn, groups.missing, now=moment) if replace else []
    added = removed = 0
    for group_id, (member_users, member_groups) in memberships.items():
        delta = await store.set_members(conn, group_id, users=member_users, groups=member_groups, now=moment)
        added, removed = added + delta.added, removed + delta.removed
    group_counts = _counts(outcomes, len(deleted), len(restored))
    return ImportReport(user_counts, group_counts, added, removed, purged)


async def _apply_users(
    conn: AsyncConnection, states: list[store.UserState], users: _Matched, replace: bool, moment: datetime
) -> Counts:
    outcomes = await store.upsert_users(conn, states, now=moment)
    restored = await lifecycle.restore_users(conn, users.restore, now=moment)
    deleted = await lifecycle.soft_delete_users(conn, users.missing, now=moment) if replace else []
    return _counts(outcomes, len(deleted), len(restored))


def _counts(outcomes: dict[str, store.Outcome], soft_deleted: int, restored: int) -> Counts:
    values = list(outcomes.values())
    return Counts(
        values.count("created"), values.count("updated"), values.count("unchanged"), soft_deleted, restored
    )


async def _match(
    conn: AsyncConnection, table: sa.Table, key: str, entries: Sequence[tuple[str, str | None, str]]
) -> _Matched:
    """Decide which object each entry (name, given id, where) is; raises `InvalidFileError` when
    the file and the directory disagree."""
    # Only the objects imported by hand: a source's objects are its own (ADR 0018).
    owned = table.c.source == BUILTIN_OWNER
    rows = (await conn.execute(sa.select(table.c.id, table.c[key], table.c.deleted_at).where(owned))).all()
    by_id = {r.id: r for r in rows}
    by_key = {r[1]: r for r in rows}
    claimed = {given for _, given, _ in entries if given is not None}
    kind, attribute = ("user", "userPrincipalName") if table is dir_users else ("group", "displayName")
    ids: dict[str, str] = {}
    owners: dict[str, str] = {}
    problems: list[str] = []
    for name, given, where in entries:
        folded = name.casefold()
        if folded in ids:
            problems.append(f"{where}: {attribute} {name!r} is given twice")
            continue
        owner = by_key.get(folded)
        if given is not None:
            if owner is not None and owner.id != given and owner.id not in claimed:
                problems.append(
                    f"{where}: {attribute} {name!r} is {kind} {owner.id}'s in the directory, not {given}'s"
                )
            target = given
        elif owner is not None and owner.id not in claimed:
            target = owner.id
        else:  # a new object (or the name's owner is being renamed by another entry)
            target = str(uuid.uuid4())
        if target in owners:
            problems.append(f"{where}: is the same {kind} as {owners[target]} ({target})")
        owners[target] = where
        ids[folded] = target
    if problems:
        raise InvalidFileError(problems)
    matched = set(ids.values())
    return _Matched(
        ids,
        sorted(i for i in matched if i in by_id and by_id[i].deleted_at is not None),
        sorted(r.id for r in rows if r.id not in matched and r.deleted_at is None),
    )
