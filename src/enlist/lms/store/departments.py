"""Departments: the tenant's tree, the departments SCIM groups land as, and user placement.

Placement is recomputed only for the users a change touched, with one query for their
department-groups and one update per destination department. A membership change that leaves
the group's name alone needs less: the rule ranks a user's department-groups in one total order
(`choose_department` takes the first), and every write keeps each user in the first of theirs,
so a user who joins a group moves there only when it ranks above the group they are placed by
now, and a user who leaves one needs placing again only when it was that group.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.db.planner import unindexed
from enlist.db.prepared import Prepared
from enlist.db.rows import chunks, new_id, now
from enlist.lms.domain.placement import Membership, choose_department
from enlist.lms.domain.tenants import Tenant
from enlist.lms.store.tables import departments, group_members, groups, users

_OF_GROUP = Prepared(
    sa.select(departments.c.id, departments.c.name).where(
        (departments.c.tenant_id == sa.bindparam("tenant_id"))
        & (departments.c.source_group_id == sa.bindparam("group_id"))
    )
)


async def ensure_group_department(conn: AsyncConnection, tenant: Tenant, group_id: str, name: str) -> str:
    """The department a SCIM group lands as, created under the root when missing, renamed to
    follow the group."""
    row = await _OF_GROUP.first(conn, tenant_id=tenant.id, group_id=group_id)
    if row is not None:
        department_id, current = row
        if current != name:
            await conn.execute(
                departments.update().where(departments.c.id == department_id).values(name=name)
            )
        return str(department_id)
    department_id = new_id()
    await conn.execute(
        departments.insert().values(
            id=department_id,
            tenant_id=tenant.id,
            parent_id=tenant.root_department_id,
            name=name,
            source_group_id=group_id,
            created_at=now(),
        )
    )
    return department_id


async def remove_group_department(conn: AsyncConnection, tenant: Tenant, group_id: str) -> list[str]:
    """Drop the department of a deleted group; returns the users who were in it (to re-place).
    Child departments an admin hung under it move up to its parent."""
    row = (
        await conn.execute(
            sa.select(departments.c.id, departments.c.parent_id).where(
                (departments.c.tenant_id == tenant.id) & (departments.c.source_group_id == group_id)
            )
        )
    ).first()
    if row is None:
        return []
    residents = [
        r[0]
        for r in await conn.execute(
            sa.select(users.c.id).where((users.c.tenant_id == tenant.id) & (users.c.department_id == row.id))
        )
    ]
    await conn.execute(
        users.update()
        .where((users.c.tenant_id == tenant.id) & (users.c.department_id == row.id))
        .values(department_id=tenant.root_department_id)
    )
    await conn.execute(
        departments.update()
        .where((departments.c.tenant_id == tenant.id) & (departments.c.parent_id == row.id))
        .values(parent_id=row.parent_id or tenant.root_department_id)
    )
    await conn.execute(departments.delete().where(departments.c.id == row.id))
    return residents


def _memberships(users_wanted: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """Each wanted user's SCIM groups that land as departments, with the department."""
    return (
        sa.select(
            group_members.c.user_id,
            groups.c.id,
            groups.c.display_name,
            departments.c.id,
            group_members.c.added_at,
        )
        .join(groups, groups.c.id == group_members.c.group_id)
        # The tenant in the join lets the (tenant_id, source_group_id) index find the department.
        .join(
            departments,
            (departments.c.tenant_id == group_members.c.tenant_id)
            & (departments.c.source_group_id == groups.c.id),
        )
        .where((unindexed(group_members.c.tenant_id) == sa.bindparam("tenant_id")) & users_wanted)
    )


def _placement(users_wanted: sa.ColumnElement[bool]) -> sa.Select[Any]:
    return sa.select(users.c.id, users.c.department_id).where(
        (unindexed(users.c.tenant_id) == sa.bindparam("tenant_id")) & users_wanted
    )


_MEMBERSHIPS_OF_ONE = Prepared(_memberships(group_members.c.user_id == sa.bindparam("user_id")))
_PLACEMENT_OF_ONE = Prepared(_placement(users.c.id == sa.bindparam("user_id")))
_MOVE_ONE = Prepared(
    users.update()
    .where((users.c.tenant_id == sa.bindparam("of_tenant")) & (users.c.id == sa.bindparam("of_user")))
    .values(department_id=sa.bindparam("new_department"))
)


def _gather(
    found: Sequence[Sequence[Any]],
    placed: Sequence[Sequence[Any]],
    memberships: dict[str, list[Membership]],
    current: dict[str, str | None],
) -> None:
    for user_id, group_id, name, department_id, added_at in found:
        memberships[user_id].append(Membership(group_id, name, department_id, added_at))
    current.update({row[0]: row[1] for row in placed})


async def place_users(conn: AsyncConnection, tenant: Tenant, user_ids: list[str]) -> None:
    """Put each user in the department the tenant's placement rule chooses from their groups."""
    if not tenant.policy.makes_departments or not user_ids:
        return
    unique = sorted(set(user_ids))
    memberships: dict[str, list[Membership]] = defaultdict(list)
    current: dict[str, str | None] = {}
    if len(unique) == 1:
        # One member added or removed (a PATCH's usual case): prepared single-user statements.
        found = await _MEMBERSHIPS_OF_ONE.rows(conn, tenant_id=tenant.id, user_id=unique[0])
        placed = await _PLACEMENT_OF_ONE.rows(conn, tenant_id=tenant.id, user_id=unique[0])
        _gather(found, placed, memberships, current)
    for part in chunks(unique) if len(unique) > 1 else []:
        found = (
            await conn.execute(_memberships(group_members.c.user_id.in_(part)), {"tenant_id": tenant.id})
        ).all()
        placed = (await conn.execute(_placement(users.c.id.in_(part)), {"tenant_id": tenant.id})).all()
        _gather(found, placed, memberships, current)
    moves: dict[str, list[str]] = defaultdict(list)
    for user_id in unique:
        if user_id not in current:
            continue
        target = choose_department(tenant.policy, memberships.get(user_id, []), tenant.root_department_id)
        if current[user_id] != target:
            moves[target].append(user_id)
    for department_id, movers in sorted(moves.items()):
        await _move(conn, tenant, department_id, movers)


def _joining() -> sa.Select[Any]:
    """For each user of `ids` joining the group `group_id`: where they are placed now, the group
    that department stands for with their membership in it, their membership in the joined group,
    and (when placed in the root) whether any other department-group holds them. On PostgreSQL
    the user rows are locked in id order, so a concurrent placement of the same user is seen.
    Built once (`_JOINING`): its aliases cost more to build than the query takes to run."""
    placed_in = departments.alias("placed_in")
    placed_by = groups.alias("placed_by")
    held = group_members.alias("held")
    joined = group_members.alias("joined")
    elsewhere = (
        sa.exists()
        .where(
            (group_members.c.user_id == users.c.id) & (group_members.c.group_id != sa.bindparam("group_id"))
        )
        .where(
            sa.exists().where(
                (departments.c.tenant_id == group_members.c.tenant_id)
                & (departments.c.source_group_id == group_members.c.group_id)
            )
        )
    )
    return (
        sa.select(
            users.c.id,
            users.c.department_id,
            placed_by.c.id,
            placed_by.c.display_name,
            held.c.added_at,
            joined.c.added_at,
            sa.case((users.c.department_id == sa.bindparam("root_id"), elsewhere), else_=sa.false()),
        )
        .select_from(
            users.outerjoin(
                placed_in,
                (placed_in.c.tenant_id == users.c.tenant_id) & (placed_in.c.id == users.c.department_id),
            )
            .outerjoin(placed_by, placed_by.c.id == placed_in.c.source_group_id)
            .outerjoin(held, (held.c.group_id == placed_by.c.id) & (held.c.user_id == users.c.id))
            .outerjoin(
                joined, (joined.c.group_id == sa.bindparam("group_id")) & (joined.c.user_id == users.c.id)
            )
        )
        .where(
            (unindexed(users.c.tenant_id) == sa.bindparam("tenant_id"))
            & users.c.id.in_(sa.bindparam("ids", expanding=True))
        )
        .order_by(users.c.id)
        .with_for_update(of=users, key_share=True)  # FOR NO KEY UPDATE: what the move takes anyway
    )


_JOINING = _joining()


async def place_joiners(
    conn: AsyncConnection,
    tenant: Tenant,
    group_id: str,
    group_name: str,
    department_id: str,
    user_ids: list[str],
) -> None:
    """Place users who just joined the department-group `group_id` (its name unchanged): each
    moves to its department when the rule ranks it above the group that places them now. A user
    whose placement does not match their groups is placed from all their groups (`place_users`)."""
    if not tenant.policy.makes_departments or not user_ids:
        return
    root = tenant.root_department_id
    moving: list[str] = []
    unsure: list[str] = []
    for part in chunks(sorted(set(user_ids))):
        rows = await conn.execute(
            _JOINING, {"tenant_id": tenant.id, "group_id": group_id, "root_id": root, "ids": part}
        )
        for user_id, placed_in, placed_by, name, held_since, joined_at, elsewhere in rows:
            if placed_in == department_id:
                continue
            current: list[Membership] = []
            if joined_at is None:
                unsure.append(user_id)
                continue
            if placed_by is not None and held_since is not None:
                current = [Membership(placed_by, name, placed_in, held_since)]
            elif placed_in != root or elsewhere:
                unsure.append(user_id)
                continue
            joined = Membership(group_id, group_name, department_id, joined_at)
            if choose_department(tenant.policy, [*current, joined], root) == department_id:
                moving.append(user_id)
    await _move(conn, tenant, department_id, moving)
    await place_users(conn, tenant, unsure)


_PLACED_IN = Prepared(
    sa.select(users.c.id).where(
        (users.c.tenant_id == sa.bindparam("tenant_id"))
        & (users.c.id == sa.bindparam("user_id"))
        & (users.c.department_id == sa.bindparam("department_id"))
    )
)


async def place_leavers(
    conn: AsyncConnection, tenant: Tenant, department_id: str, user_ids: list[str]
) -> None:
    """Place users who just left the group of `department_id` (its name unchanged): only those it
    placed are placed again, from the groups they still have."""
    if not tenant.policy.makes_departments or not user_ids:
        return
    unique = sorted(set(user_ids))
    if len(unique) == 1:
        rows = await _PLACED_IN.rows(
            conn, tenant_id=tenant.id, user_id=unique[0], department_id=department_id
        )
        await place_users(conn, tenant, [row[0] for row in rows])
        return
    placed: list[str] = []
    for part in chunks(unique):
        found = await conn.execute(
            sa.select(users.c.id).where(
                (unindexed(users.c.tenant_id) == tenant.id)
                & users.c.id.in_(part)
                & (users.c.department_id == department_id)
            )
        )
        placed.extend(row[0] for row in found)
    await place_users(conn, tenant, placed)


async def _move(conn: AsyncConnection, tenant: Tenant, department_id: str, movers: list[str]) -> None:
    if len(movers) == 1:
        await _MOVE_ONE.run(conn, of_tenant=tenant.id, of_user=movers[0], new_department=department_id)
        return
    for part in chunks(movers):
        await conn.execute(
            users.update()
            .where((unindexed(users.c.tenant_id) == tenant.id) & users.c.id.in_(part))
            .values(department_id=department_id)
        )


async def place_everyone(conn: AsyncConnection, tenant: Tenant) -> int:
    """After the placement rule or the group mode changed: give every SCIM group its department
    (when the tenant makes them) and place every member again. Returns how many were placed."""
    if not tenant.policy.makes_departments:
        return 0
    rows = await conn.execute(
        sa.select(groups.c.id, groups.c.display_name).where(groups.c.tenant_id == tenant.id)
    )
    for group_id, name in rows.all():
        await ensure_group_department(conn, tenant, group_id, name)
    members = await conn.execute(
        sa.select(group_members.c.user_id).where(group_members.c.tenant_id == tenant.id).distinct()
    )
    user_ids = [r[0] for r in members]
    await place_users(conn, tenant, user_ids)
    return len(user_ids)


async def leave_rule_departments(conn: AsyncConnection, tenant: Tenant) -> None:
    """After the department tree rule is switched off: everyone it placed in a department it
    made is back in the root, in one statement, before the groups place their members again
    (a department an admin made keeps its people)."""
    made = sa.select(departments.c.id).where((departments.c.tenant_id == tenant.id) & departments.c.rule_made)
    await conn.execute(
        users.update()
        .where(
            (users.c.tenant_id == tenant.id)
            & (users.c.status != "terminated")
            & users.c.department_id.in_(made)
        )
        .values(department_id=tenant.root_department_id)
    )
