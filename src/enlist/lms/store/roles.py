"""Role rules in the database, and the roles they grant, read in one statement.

`roles_of` answers a user's roles from the rules and the user's current group memberships: one
SELECT joining `role_rules`, `groups` and `group_members`, so nothing is written when a user, a
group or a membership changes, and nothing loops over users when a rule changes (ADR 0037).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.lms.domain.roles import RoleGrant, RoleRule, RoleRuleError, UnknownRoleRuleError, grant_order
from enlist.lms.domain.tenants import Tenant
from enlist.lms.store.tables import departments, group_members, groups, role_rules


async def add_rule(
    conn: AsyncConnection, tenant: Tenant, group: str, role: str, department_id: str | None
) -> int:
    """Store the rule (already checked, `domain.roles.checked_rule`) and return its id;
    `RoleRuleError` when the same rule exists."""
    key = {
        "tenant_id": tenant.id,
        "group_name_ci": group.casefold(),
        "role": role,
        "department_id": department_id or "",
    }
    existing = await conn.scalar(
        sa.select(role_rules.c.id).where(*(role_rules.c[name] == value for name, value in key.items()))
    )
    if existing is not None:
        raise RoleRuleError(f"rule {existing} already gives members of {group!r} this role")
    inserted = await conn.execute(
        role_rules.insert()
        .values(**key, group_name=group, created_at=datetime.now(UTC))
        .returning(role_rules.c.id)
    )
    return int(inserted.scalar_one())


async def remove_rule(conn: AsyncConnection, tenant: Tenant, rule_id: int) -> RoleRule:
    """Delete the tenant's rule `rule_id` and return it; `RoleRuleError` when there is none."""
    found = [rule for rule in await list_rules(conn, tenant) if rule.id == rule_id]
    if not found:
        raise UnknownRoleRuleError(f"tenant {tenant.slug!r} has no role rule {rule_id}")
    await conn.execute(
        role_rules.delete().where((role_rules.c.tenant_id == tenant.id) & (role_rules.c.id == rule_id))
    )
    return found[0]


async def list_rules(conn: AsyncConnection, tenant: Tenant) -> list[RoleRule]:
    """The tenant's rules, oldest first."""
    rows = await conn.execute(
        sa.select(
            role_rules.c.id,
            role_rules.c.group_name,
            role_rules.c.role,
            role_rules.c.department_id,
            departments.c.name,
        )
        .select_from(role_rules.outerjoin(departments, departments.c.id == role_rules.c.department_id))
        .where(role_rules.c.tenant_id == tenant.id)
        .order_by(role_rules.c.id)
    )
    return [RoleRule(row[0], row[1], row[2], row[3] or None, row[4]) for row in rows.all()]


def _granting(tenant_id: int) -> sa.Select[Any]:
    """Rule, group and member for every membership a rule of the tenant matches."""
    names_the_group = (groups.c.display_name_ci == role_rules.c.group_name_ci) | (
        groups.c.external_id == role_rules.c.group_name
    )
    return (
        sa.select(
            group_members.c.user_id,
            role_rules.c.role,
            role_rules.c.department_id,
            departments.c.name,
            groups.c.id,
            groups.c.display_name,
            role_rules.c.id,
        )
        .select_from(
            role_rules.join(groups, (groups.c.tenant_id == role_rules.c.tenant_id) & names_the_group)
            .join(group_members, group_members.c.group_id == groups.c.id)
            .outerjoin(departments, departments.c.id == role_rules.c.department_id)
        )
        .where(role_rules.c.tenant_id == tenant_id)
    )


async def roles_of(conn: AsyncConnection, tenant: Tenant, user_ids: list[str]) -> dict[str, list[RoleGrant]]:
    """Each user's roles with the rule and group granting each: one statement for all of
    `user_ids`. A role two groups grant is listed once per group (each is a reason)."""
    found: dict[str, list[RoleGrant]] = {user_id: [] for user_id in user_ids}
    if not user_ids:
        return found
    rows = await conn.execute(_granting(tenant.id).where(group_members.c.user_id.in_(user_ids)))
    for user_id, role, department_id, department_name, group_id, group_name, rule_id in rows.all():
        found[user_id].append(
            RoleGrant(role, department_id or None, department_name, group_id, group_name, rule_id)
        )
    for grants in found.values():
        grants.sort(key=grant_order)
    return found


async def holders(conn: AsyncConnection, tenant: Tenant, role: str) -> list[str]:
    """The ids of the users the tenant's rules give `role` (in any department), sorted."""
    rows = await conn.execute(
        _granting(tenant.id)
        .with_only_columns(group_members.c.user_id)
        .where(role_rules.c.role == role)
        .distinct()
        .order_by(group_members.c.user_id)
    )
    return list(rows.scalars().all())
