"""`enlist provisioning directory export`: the hand-imported directory, in the formats `import` reads.

What it writes, `import` reads back to the same directory: the same ids (`id`), attributes,
managers (by userPrincipalName), members and nested groups (by displayName). Only live objects
of the built-in owner are written (a source's objects are the source's: its next read brings
them back); references may name any object of the directory, since an import resolves them
there too. JSON holds users and groups; CSV holds users only (as `import` reads CSV), one
column per attribute any user has, lists joined with `;`, through `csv_line` (a cell starting a
formula gets a leading `'`, which `import` takes off again; a text that itself starts with
quotes and then a formula character gets one more, so it comes back as it was).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.csv_cells import FORMULA_STARTS, csv_line
from enlist.provisioning.directory.files import USER_LISTS, USER_STRINGS
from enlist.provisioning.directory.tables import BUILTIN_OWNER, dir_group_members, dir_groups, dir_users

_FIRST = ("id", "userPrincipalName", *[n for n in USER_STRINGS if n != "userPrincipalName"], "accountEnabled")


async def export_document(conn: AsyncConnection) -> dict[str, Any]:
    """The hand-imported live users and groups as a JSON import document."""
    upns = dict((await conn.execute(sa.select(dir_users.c.id, dir_users.c.upn))).all())
    names = dict((await conn.execute(sa.select(dir_groups.c.id, dir_groups.c.display_name))).all())
    mine = (dir_users.c.source == BUILTIN_OWNER) & dir_users.c.deleted_at.is_(None)
    users = []
    for row in await conn.execute(sa.select(dir_users).where(mine).order_by(dir_users.c.upn_ci)):
        entry: dict[str, Any] = {"id": row.id, **row.attributes}
        if row.manager_id in upns:
            entry["manager"] = upns[row.manager_id]
        users.append(entry)
    members: dict[str, tuple[list[str], list[str]]] = {}
    m = dir_group_members.c
    for group_id, member_id, member_type in await conn.execute(
        sa.select(m.group_id, m.member_id, m.member_type).order_by(m.group_id, m.member_id)
    ):
        pair = members.setdefault(group_id, ([], []))
        if member_type == "user" and member_id in upns:
            pair[0].append(upns[member_id])
        elif member_type == "group" and member_id in names:
            pair[1].append(names[member_id])
    live = (dir_groups.c.source == BUILTIN_OWNER) & dir_groups.c.deleted_at.is_(None)
    groups = []
    for row in await conn.execute(sa.select(dir_groups).where(live).order_by(dir_groups.c.display_name_ci)):
        member_users, member_groups = members.get(row.id, ([], []))
        groups.append(
            {
                "id": row.id,
                **row.attributes,
                "members": sorted(member_users),
                "groupMembers": sorted(member_groups),
            }
        )
    return {"users": users, "groups": groups}


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = ";".join(str(v) for v in value) if name in USER_LISTS or isinstance(value, list) else str(value)
    # `csv_line` leaves a text starting with `'` as it is; `import` takes one `'` off quotes
    # that lead to a formula character: so `'=x` is written `''=x` to come back as `'=x`.
    return "'" + text if text.startswith("'") and text.lstrip("'").startswith(FORMULA_STARTS) else text


def users_csv(users: list[Mapping[str, Any]]) -> str:
    """The users of an export document as a CSV `import` reads."""
    present = {key for user in users for key in user}
    columns = [c for c in _FIRST if c in present]
    columns += [c for c in USER_LISTS if c in present]
    columns += ["manager"] if "manager" in present else []
    columns += sorted(present - set(columns))
    lines = [csv_line(columns)]
    lines += [csv_line([_cell(c, user.get(c)) for c in columns]) for user in users]
    return "".join(lines)
