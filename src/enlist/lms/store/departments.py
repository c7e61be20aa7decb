"""Departments: the tenant's tree, the departments SCIM groups land as, and user placement.

Placement is recomputed only for the users a change touched, with one query for their
department-groups and one update per destination department.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.lms.domain.placement import Membership, choose_department
from enlist.lms.domain.tenants import Tenant
from enlist.lms.store.rows import chunks, new_id, now
from enlist.lms.store.tables import departments, group_members, groups, users


async def ensure_group_department(conn: AsyncConnection, tenant: Tenant, group_id: str, name: str) -> str:
    """The department a SCIM group lands as, created under the root when missing, renamed to
    follow the group."""
    row = (
        await conn.execute(
            sa.select(departments.c.id, departments.c.name).where(
                (departments.c.tenant_id == tenant.id) & (departments.c.source_group_id == group_id)
            )
        )
    ).first()
    if row is not None:
        if row.name != name:
            await conn.execute(departments.update().where(departments.c.id == row.id).values(name=name))
        return str(row.id)
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


async def place_users(conn: AsyncConnection, tenant: Tenant, user_ids: list[str]) -> None:
    """Put each user in the department the tenant's placement rule chooses from their groups."""
    if not tenant.policy.makes_departments or not user_ids:
        return
    unique = sorted(set(user_ids))
    memberships: dict[str, list[Membership]] = defaultdict(list)
    current: dict[str, str | None] = {}
    for part in chunks(unique):
        rows = await conn.execute(
            sa.select(
                group_members.c.user_id,
                groups.c.id,
                groups.c.display_name,
                departments.c.id,
                group_members.c.added_at,
            )
            .join(groups, groups.c.id == group_members.c.group_id)
            .join(departments, departments.c.source_group_id == groups.c.id)
            .where((group_members.c.tenant_id == tenant.id) & group_members.c.user_id.in_(part))
        )
        for user_id, group_id, name, department_id, added_at in rows:
            memberships[user_id].append(Membership(group_id, name, department_id, added_at))
        placed = await conn.execute(
            sa.select(users.c.id, users.c.department_id).where(
                (users.c.tenant_id == tenant.id) & users.c.id.in_(part)
            )
        )
        current.update({row[0]: row[1] for row in placed})
    moves: dict[str, list[str]] = defaultdict(list)
    for user_id in unique:
        if user_id not in current:
            continue
        target = choose_department(tenant.policy, memberships.get(user_id, []), tenant.root_department_id)
        if current[user_id] != target:
            moves[target].append(user_id)
    for department_id, movers in sorted(moves.items()):
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
