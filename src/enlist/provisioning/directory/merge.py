"""How an import applies a file entry to an object the directory may have already.

- **Merging.** An entry that matches an existing object keeps the attributes it does not carry
  (a one-column row no longer wipes a person's name, mail, title and manager); an attribute it
  carries empty clears it. Defaults the parser fills in (`accountEnabled`, `mailNickname`,
  `securityEnabled`, `mailEnabled`) apply only to new objects. A group that does not carry
  `members` (or `groupMembers`) keeps those members. A new object is the entry as given.
- **References.** A manager, a member or a nested group may be in the file or already in the
  directory (any user, by userPrincipalName; a group by displayName, which must then name one
  group). What neither has is reported with the entry's place, and nothing is imported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.provisioning.directory import store
from enlist.provisioning.directory.errors import InvalidFileError
from enlist.provisioning.directory.feed import chunks
from enlist.provisioning.directory.files import GroupEntry, UserEntry
from enlist.provisioning.directory.tables import dir_groups, dir_users


def _merged(stored: Mapping[str, Any], given: Mapping[str, Any], carried: frozenset[str]) -> dict[str, Any]:
    kept = {k: v for k, v in stored.items() if k not in carried and k != "objectId"}
    return {**kept, **{k: v for k, v in given.items() if k in carried}}


async def _by_key(
    conn: AsyncConnection, table: sa.Table, key: str, values: Iterable[str]
) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for part in chunks(sorted(set(values))):
        rows = await conn.execute(sa.select(table.c[key], table.c.id).where(table.c[key].in_(part)))
        for value, object_id in rows:
            found.setdefault(value, []).append(object_id)
    return found


async def user_states(
    conn: AsyncConnection, entries: Sequence[UserEntry], ids: dict[str, str]
) -> list[store.UserState]:
    """The state to write for each entry (`ids`: the file's UPNs, case-folded -> object id)."""
    stored = await store.get_users(conn, ids.values())
    wanted = {e.manager.casefold() for e in entries if e.manager and e.manager.casefold() not in ids}
    outside = await _by_key(conn, dir_users, "upn_ci", wanted)
    problems: list[str] = []
    states: list[store.UserState] = []
    for entry in entries:
        object_id = ids[entry.upn.casefold()]
        old = stored.get(object_id)
        attributes: Mapping[str, Any] = entry.attributes
        if old is not None and entry.carried is not None:
            attributes = _merged(old.attributes, entry.attributes, entry.carried)
        manager_id = old.manager_id if old is not None else None
        if old is None or entry.carried is None or "manager" in entry.carried:
            manager_id = None
            if entry.manager:
                key = entry.manager.casefold()
                manager_id = ids.get(key) or next(iter(outside.get(key, [])), None)
                if manager_id is None:
                    problems.append(
                        f"{entry.where}: manager {entry.manager!r} is not a user of the file or the directory"
                    )
        states.append(store.UserState(object_id, attributes, manager_id))
    if problems:
        raise InvalidFileError(problems)
    return states


async def group_states(
    conn: AsyncConnection, entries: Sequence[GroupEntry], ids: dict[str, str]
) -> list[store.GroupState]:
    stored = await store.get_groups(conn, ids.values())
    states = []
    for entry in entries:
        object_id = ids[entry.display_name.casefold()]
        old = stored.get(object_id)
        attributes: Mapping[str, Any] = entry.attributes
        if old is not None and entry.carried is not None:
            attributes = _merged(old.attributes, entry.attributes, entry.carried)
        states.append(store.GroupState(object_id, attributes))
    return states


async def memberships(
    conn: AsyncConnection, entries: Sequence[GroupEntry], user_ids: dict[str, str], group_ids: dict[str, str]
) -> dict[str, tuple[list[str], list[str]]]:
    """Each group's direct members to write: `(users, groups)` by object id."""
    stored = await store.get_groups(conn, group_ids.values())
    users_out = await _by_key(
        conn, dir_users, "upn_ci", {m.casefold() for e in entries for m in e.members} - user_ids.keys()
    )
    groups_out = await _by_key(
        conn,
        dir_groups,
        "display_name_ci",
        {n.casefold() for e in entries for n in e.group_members} - group_ids.keys(),
    )
    problems: list[str] = []
    result: dict[str, tuple[list[str], list[str]]] = {}
    for entry in entries:
        group_id = group_ids[entry.display_name.casefold()]
        old = stored.get(group_id)
        keep = old is not None and entry.carried is not None
        users: set[str] = set()
        groups: set[str] = set()
        if keep and "members" not in (entry.carried or ()):
            users = set(old.member_user_ids) if old else set()
        else:
            for upn in entry.members:
                found = user_ids.get(upn.casefold()) or next(iter(users_out.get(upn.casefold(), [])), None)
                if found is None:
                    problems.append(
                        f"{entry.where}: member {upn!r} is not a user of the file or the directory"
                    )
                else:
                    users.add(found)
        if keep and "groupMembers" not in (entry.carried or ()):
            groups = set(old.member_group_ids) if old else set()
        else:
            for name in entry.group_members:
                candidates = [group_ids[name.casefold()]] if name.casefold() in group_ids else []
                candidates = candidates or groups_out.get(name.casefold(), [])
                if not candidates:
                    problems.append(
                        f"{entry.where}: group member {name!r} is not a group of the file or the directory"
                    )
                elif len(candidates) > 1:
                    problems.append(
                        f"{entry.where}: group member {name!r} names {len(candidates)} groups; give their ids"
                    )
                elif candidates[0] == group_id:
                    problems.append(f"{entry.where}: a group cannot be a member of itself")
                else:
                    groups.add(candidates[0])
        result[group_id] = (sorted(users), sorted(groups))
    if problems:
        raise InvalidFileError(problems)
    return result
