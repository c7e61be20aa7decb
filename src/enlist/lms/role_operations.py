"""Portal roles and smart groups, whichever front end asks: `enlist lms role …`, `enlist lms
smart-group …`, the JSON API (`enlist.lms.api.roles`) and the user's page all call these, in
the caller's transaction, and show the message of one of `EXPECTED` when one is raised.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.lms.domain.roles import RoleGrant, RoleRule, RoleRuleError, UnknownRoleRuleError, checked_rule
from enlist.lms.domain.smart_groups import (
    SmartGroup,
    SmartGroupError,
    SmartMembership,
    UnknownSmartGroupError,
    checked_name,
)
from enlist.lms.domain.tenants import Tenant
from enlist.lms.store import department_tree as tree_store
from enlist.lms.store import roles as role_store
from enlist.lms.store import smart_groups as smart_store
from enlist.lms.store.tables import users

EXPECTED = (RoleRuleError, SmartGroupError, tree_store.DepartmentError)
NOT_FOUND = (UnknownRoleRuleError, UnknownSmartGroupError)
"""Of `EXPECTED`: what names a rule or smart group that does not exist (the API's 404)."""


class UnknownUserError(LookupError):
    """No user of the tenant has this id."""


@dataclass(frozen=True, slots=True)
class Access:
    """What the rules give one user now: roles and smart groups, each with its reason."""

    roles: list[RoleGrant]
    smart_groups: list[SmartMembership]

    def to_json(self) -> dict[str, object]:
        return {
            "roles": [grant.to_json() for grant in self.roles],
            "smartGroups": [membership.to_json() for membership in self.smart_groups],
        }


async def add_role_rule(
    conn: AsyncConnection, tenant: Tenant, group: str, role: str, department: str | None
) -> RoleRule:
    """`role add` / POST: members of IdP group `group` get `role`; a department admin's
    department is given by id or name."""
    name, checked = checked_rule(group, role, department)
    department_id = None
    if department:
        department_id = (await tree_store.find_department(conn, tenant, department)).id
    rule_id = await role_store.add_rule(conn, tenant, name, checked, department_id)
    return next(rule for rule in await role_store.list_rules(conn, tenant) if rule.id == rule_id)


async def list_role_rules(conn: AsyncConnection, tenant: Tenant) -> list[RoleRule]:
    """`role list` / GET: the tenant's rules, oldest first."""
    return await role_store.list_rules(conn, tenant)


async def remove_role_rule(conn: AsyncConnection, tenant: Tenant, rule_id: int) -> RoleRule:
    """`role remove` / DELETE: the rule stops granting at once; returns it."""
    return await role_store.remove_rule(conn, tenant, rule_id)


async def role_holders(conn: AsyncConnection, tenant: Tenant, role: str) -> list[str]:
    """`role list --holders ROLE`: ids of the users the rules give `role` now."""
    checked_rule("-", role, "-" if role == "department_admin" else None)
    return await role_store.holders(conn, tenant, role)


async def add_smart_group(conn: AsyncConnection, tenant: Tenant, name: str, rule: str) -> SmartGroup:
    """`smart-group add` / POST: a smart group whose members are the users `rule` selects."""
    return await smart_store.add_group(conn, tenant, checked_name(name), rule.strip())


async def list_smart_groups(conn: AsyncConnection, tenant: Tenant) -> list[SmartGroup]:
    """`smart-group list` / GET."""
    return await smart_store.list_groups(conn, tenant)


async def show_smart_group(
    conn: AsyncConnection, tenant: Tenant, name_or_id: str
) -> tuple[SmartGroup, list[tuple[str, str]]]:
    """`smart-group show` / GET one: the group and its members now, (id, userName) in login order."""
    group = await smart_store.find_group(conn, tenant, name_or_id)
    return group, await smart_store.members(conn, tenant, group)


async def remove_smart_group(conn: AsyncConnection, tenant: Tenant, name_or_id: str) -> SmartGroup:
    """`smart-group remove` / DELETE."""
    group = await smart_store.find_group(conn, tenant, name_or_id)
    await smart_store.remove_group(conn, tenant, group)
    return group


async def access_of(conn: AsyncConnection, tenant: Tenant, user_id: str) -> Access:
    """The user's roles and smart groups with their reasons; `UnknownUserError` when the tenant
    has no such user."""
    known = await conn.scalar(
        sa.select(users.c.id).where((users.c.tenant_id == tenant.id) & (users.c.id == user_id))
    )
    if known is None:
        raise UnknownUserError(user_id)
    roles = (await role_store.roles_of(conn, tenant, [user_id]))[user_id]
    return Access(roles, await smart_store.memberships_of(conn, tenant, user_id))
