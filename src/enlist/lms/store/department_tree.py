"""The tenant's departments as a tree an admin can read and reshape.

Every tenant has one root department (named after the tenant); every other department hangs
below it, whether an admin created it or a SCIM group landed as it. Reading the tree takes two
queries however large it is: the departments, and the people per department. Reshaping refuses
anything that would detach a department from the root: moving the root itself, or moving a
department under itself or one of its own descendants (a cycle).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.db.rows import new_id, now
from enlist.lms.domain.tenants import Tenant
from enlist.lms.store.tables import departments, users
from enlist.lms.store.tenants import lock_tenant

NAME_LENGTH = 256  # departments.name is String(256)

DepartmentRow = sa.Row[str, str, str | None, str | None]
"""A department as `find_department` answers it: id, name, parent_id, source_group_id."""


class DepartmentError(ValueError):
    """A department that does not exist in the tenant, or a change the tree cannot take."""


@dataclass(frozen=True, slots=True)
class DepartmentNode:
    """A department, the people in it (any status but terminated) and its sub-departments,
    ordered by name. `user_count` counts only the people placed directly in it."""

    id: str
    name: str
    parent_id: str | None
    source_group_id: str | None
    user_count: int
    children: tuple[DepartmentNode, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "parent_id": self.parent_id,
            "source_group_id": self.source_group_id,
            "user_count": self.user_count,
            "children": [child.to_json() for child in self.children],
        }


async def department_tree(conn: AsyncConnection, tenant: Tenant) -> list[DepartmentNode]:
    """The tenant's departments from the root down (a list: a department whose parent is gone
    would be listed beside the root rather than lost)."""
    rows = await _departments(conn, tenant)
    counted = await conn.execute(
        sa.select(users.c.department_id, sa.func.count())
        .where((users.c.tenant_id == tenant.id) & (users.c.status != "terminated"))
        .group_by(users.c.department_id)
    )
    counts: dict[str | None, int] = {row[0]: row[1] for row in counted}
    known = {row.id for row in rows}
    children: dict[str | None, list[DepartmentRow]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r.name.casefold(), r.id)):
        children[row.parent_id if row.parent_id in known else None].append(row)
    # Departments in parent-before-child order, then built child-first: no recursion, so a deep
    # tree cannot exhaust the stack.
    order: list[DepartmentRow] = []
    pending = list(children[None])
    while pending:
        row = pending.pop()
        order.append(row)
        pending.extend(children[row.id])
    built: dict[str, DepartmentNode] = {}
    for row in reversed(order):
        built[row.id] = DepartmentNode(
            id=row.id,
            name=row.name,
            parent_id=row.parent_id,
            source_group_id=row.source_group_id,
            user_count=counts.get(row.id, 0),
            children=tuple(built[child.id] for child in children[row.id]),
        )
    tops = [built[row.id] for row in children[None]]
    return sorted(tops, key=lambda node: node.id != tenant.root_department_id)


async def create_department(
    conn: AsyncConnection, tenant: Tenant, name: str, parent_id: str | None = None
) -> str:
    """Create a department under `parent_id` (the root when None); returns its id."""
    clean = name.strip()
    if not clean:
        raise DepartmentError("a department needs a name that is not blank")
    if len(clean) > NAME_LENGTH:
        raise DepartmentError(f"a department name has at most {NAME_LENGTH} characters")
    parent = parent_id or tenant.root_department_id
    exists = await conn.scalar(
        sa.select(departments.c.id).where(
            (departments.c.tenant_id == tenant.id) & (departments.c.id == parent)
        )
    )
    if exists is None:
        raise DepartmentError(f"no department {parent!r} in tenant {tenant.slug!r} to create it under")
    department_id = new_id()
    await conn.execute(
        departments.insert().values(
            id=department_id, tenant_id=tenant.id, parent_id=parent, name=clean, created_at=now()
        )
    )
    return department_id


async def move_department(
    conn: AsyncConnection, tenant: Tenant, department_id: str, new_parent_id: str
) -> None:
    """Hang `department_id` (with everything below it) under `new_parent_id`."""
    # Two moves checked at once could each pass the cycle check and together make a cycle;
    # on PostgreSQL they queue on the tenant row (SQLite writers are serial already).
    await lock_tenant(conn, tenant.id)
    rows = {row.id: row for row in await _departments(conn, tenant)}
    for wanted in (department_id, new_parent_id):
        if wanted not in rows:
            raise DepartmentError(
                f"no department {wanted!r} in tenant {tenant.slug!r}; "
                "give the id or the name of one of its departments"
            )
    moving, target = rows[department_id].name, rows[new_parent_id].name
    if department_id == tenant.root_department_id:
        raise DepartmentError(
            f"{moving!r} is the root department and cannot move: every other department hangs "
            "below it; move the departments under it instead"
        )
    if new_parent_id == department_id:
        raise DepartmentError(f"{moving!r} cannot move under itself; choose another parent")
    ancestor = rows[new_parent_id].parent_id
    seen: set[str] = set()
    while ancestor is not None and ancestor in rows and ancestor not in seen:
        seen.add(ancestor)
        if ancestor == department_id:
            raise DepartmentError(
                f"{moving!r} cannot move under {target!r}, one of its own sub-departments; "
                f"move {target!r} out first, or choose a parent outside {moving!r}"
            )
        ancestor = rows[ancestor].parent_id
    if rows[department_id].parent_id != new_parent_id:
        await conn.execute(
            departments.update()
            .where((departments.c.tenant_id == tenant.id) & (departments.c.id == department_id))
            .values(parent_id=new_parent_id)
        )


async def remove_department(conn: AsyncConnection, tenant: Tenant, department_id: str) -> int:
    """Remove a department (hand-made, rule-made or a group's): its people and sub-departments
    move up to its parent; the root cannot go. Returns how many people moved up. A department
    the tree rule still needs is made again the next time a user or group needs it (ADR 0034)."""
    await lock_tenant(conn, tenant.id)
    rows = {row.id: row for row in await _departments(conn, tenant)}
    if department_id not in rows:
        raise DepartmentError(f"no department {department_id!r} in tenant {tenant.slug!r}")
    if department_id == tenant.root_department_id:
        raise DepartmentError(
            f"{rows[department_id].name!r} is the root department and cannot be removed: every "
            "other department hangs below it"
        )
    parent = rows[department_id].parent_id or tenant.root_department_id
    moved = await conn.execute(
        users.update()
        .where((users.c.tenant_id == tenant.id) & (users.c.department_id == department_id))
        .values(department_id=parent)
    )
    await conn.execute(
        departments.update()
        .where((departments.c.tenant_id == tenant.id) & (departments.c.parent_id == department_id))
        .values(parent_id=parent)
    )
    await conn.execute(
        departments.delete().where(
            (departments.c.tenant_id == tenant.id) & (departments.c.id == department_id)
        )
    )
    return int(moved.rowcount)


async def find_department(conn: AsyncConnection, tenant: Tenant, name_or_id: str) -> DepartmentRow:
    """The tenant's department with that id, else the one with that name (case-insensitive)."""
    rows = await _departments(conn, tenant)
    for row in rows:
        if row.id == name_or_id:
            return row
    wanted = name_or_id.strip().casefold()
    named = [row for row in rows if row.name.casefold() == wanted]
    if not named:
        raise DepartmentError(f"no department named or with id {name_or_id!r} in tenant {tenant.slug!r}")
    if len(named) > 1:
        ids = ", ".join(row.id for row in sorted(named, key=lambda r: r.id))
        raise DepartmentError(
            f"{len(named)} departments of tenant {tenant.slug!r} are named {name_or_id!r}; "
            f"give the id of the one you mean: {ids}"
        )
    return named[0]


async def _departments(conn: AsyncConnection, tenant: Tenant) -> list[DepartmentRow]:
    result = await conn.execute(
        sa.select(
            departments.c.id, departments.c.name, departments.c.parent_id, departments.c.source_group_id
        ).where(departments.c.tenant_id == tenant.id)
    )
    return list(result.all())
