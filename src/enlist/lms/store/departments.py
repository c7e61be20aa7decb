"""Departments: the tenant's tree, the departments SCIM groups land as, and user placement.

Placement is recomputed only for the users a change touched, with one query for their
department-groups and one update per destination department.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.db.prepared import Prepared
from enlist.lms.domain.placement import Membership, choose_department
from enlist.lms.domain.tenants import Tenant
from enlist.lms.store.rows import chunks, new_id, now
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
        .where((group_members.c.tenant_id == sa.bindparam("tenant_id")) & users_wanted)
    )


def _placement(users_wanted: sa.ColumnElement[bool]) -> sa.Select[Any]:
    return sa.select(users.c.id, users.c.department_id).where(
        (users.c.tenant_id == sa.bindparam("tenant_id")) & users_wanted
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
        if len(movers) == 1:
            await _MOVE_ONE.run(conn, of_tenant=tenant.id, of_user=movers[0], new_department=department_id)
            continue
        for part in chunks(movers):
            await conn.execute(
                users.update()
                .where((users.c.tenant_id == tenant.id) & users.c.id.in_(part))
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
