"""Smart groups in the database, their members selected in SQL from the stored SCIM filter.

The filter is translated with the SCIM endpoint's own translator (`filter_sql.user_clause`), plus
one attribute only smart groups have: `department`, the path of the user's department from the
root (`Sales/EMEA`, names compared case-insensitively), computed with a recursive CTE. On it,
`sw` means "in this department or below it" (whole names: `sw "Sales"` is not `Salesforce`),
`eq` the department itself, `co`/`ew`/`ne`/`pr` as on any text.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.lms.domain.smart_groups import (
    SmartGroup,
    SmartGroupError,
    SmartMembership,
    UnknownSmartGroupError,
    parsed_rule,
)
from enlist.lms.domain.tenants import Tenant
from enlist.lms.store.filter_sql import MAX_SUBSTRING_OPERAND, user_clause
from enlist.lms.store.tables import departments, smart_groups, users
from enlist.scim.errors import ScimError, invalid_filter
from enlist.scim.filter_ast import And, Compare, Filter, Not, Or, Present
from enlist.scim.schema import ENTERPRISE_USER_SCHEMA_ID


def rule_clause(rule: str, tenant: Tenant, names: Iterator[int] | None = None) -> sa.ColumnElement[bool]:
    """The SQL condition on `users` for a smart group's rule; `SmartGroupError` when the rule does
    not parse or names an attribute or operator the portal cannot filter on. `names` numbers the
    department CTEs: one counter per statement, so each CTE has its own name in it and the same
    rule gives the same SQL (SQLAlchemy caches compiled statements by their shape)."""
    try:
        return _visit(parsed_rule(rule), _Scope(tenant, names or itertools.count()))
    except ScimError as exc:
        raise SmartGroupError(f"the rule cannot be used: {exc.detail}") from None


@dataclass(frozen=True, slots=True)
class _Scope:
    tenant: Tenant
    names: Iterator[int]


def _visit(node: Filter, scope: _Scope) -> sa.ColumnElement[bool]:
    if isinstance(node, And):
        return sa.and_(_visit(node.left, scope), _visit(node.right, scope))
    if isinstance(node, Or):
        return sa.or_(_visit(node.left, scope), _visit(node.right, scope))
    if isinstance(node, Not):
        return sa.not_(_visit(node.inner, scope))
    if isinstance(node, (Compare, Present)) and _is_department(node):
        return _department(node, scope)
    return user_clause(node)


def _is_department(node: Compare | Present) -> bool:
    schema, name, sub = node.attr.key
    return name == "department" and sub is None and schema in (None, ENTERPRISE_USER_SCHEMA_ID.lower())


def _department(node: Compare | Present, scope: _Scope) -> sa.ColumnElement[bool]:
    """Users whose department's path from the root matches `node`."""
    tenant = scope.tenant
    top = departments.alias()
    paths = (
        sa.select(top.c.id, sa.cast(top.c.name, sa.Text).label("path"))
        .where((top.c.tenant_id == tenant.id) & (top.c.parent_id == tenant.root_department_id))
        .cte(f"department_paths_{next(scope.names)}", recursive=True)
    )
    below = departments.alias()
    paths = paths.union_all(
        sa.select(below.c.id, sa.cast(paths.c.path + "/" + below.c.name, sa.Text)).where(
            below.c.parent_id == paths.c.id
        )
    )
    if isinstance(node, Present):
        return users.c.department_id.in_(sa.select(paths.c.id))
    if node.op not in ("eq", "ne", "sw", "co", "ew") or not isinstance(node.value, str):
        raise invalid_filter("department is compared with eq, ne, sw (in or below), co or ew and a path")
    wanted = node.value.strip().strip("/").casefold()
    if len(wanted) > MAX_SUBSTRING_OPERAND:
        raise invalid_filter(f"department: the path is longer than {MAX_SUBSTRING_OPERAND} characters")
    path = sa.func.lower(paths.c.path)
    pattern = wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    matching = {
        "eq": path == wanted,
        "ne": path == wanted,
        "sw": (path == wanted) | path.like(f"{pattern}/%", escape="\\"),
        "co": path.like(f"%{pattern}%", escape="\\"),
        "ew": path.like(f"%{pattern}", escape="\\"),
    }[node.op]
    found = users.c.department_id.in_(sa.select(paths.c.id).where(matching))
    return sa.not_(found) if node.op == "ne" else found


async def add_group(conn: AsyncConnection, tenant: Tenant, name: str, rule: str) -> SmartGroup:
    """Store a smart group (the rule is checked first); `SmartGroupError` when the name is taken."""
    rule_clause(rule, tenant)
    taken = await conn.scalar(
        sa.select(smart_groups.c.id).where(
            (smart_groups.c.tenant_id == tenant.id) & (smart_groups.c.name_ci == name.casefold())
        )
    )
    if taken is not None:
        raise SmartGroupError(f"tenant {tenant.slug!r} already has a smart group named {name!r}")
    inserted = await conn.execute(
        smart_groups.insert()
        .values(
            tenant_id=tenant.id, name=name, name_ci=name.casefold(), rule=rule, created_at=datetime.now(UTC)
        )
        .returning(smart_groups.c.id)
    )
    return SmartGroup(int(inserted.scalar_one()), name, rule)


async def list_groups(conn: AsyncConnection, tenant: Tenant) -> list[SmartGroup]:
    """The tenant's smart groups by name."""
    rows = await conn.execute(
        sa.select(smart_groups.c.id, smart_groups.c.name, smart_groups.c.rule)
        .where(smart_groups.c.tenant_id == tenant.id)
        .order_by(smart_groups.c.name_ci)
    )
    return [SmartGroup(*row) for row in rows.all()]


async def find_group(conn: AsyncConnection, tenant: Tenant, name_or_id: str) -> SmartGroup:
    """The smart group with that name (case-insensitive) or id; `SmartGroupError` when none."""
    for group in await list_groups(conn, tenant):
        if group.name.casefold() == name_or_id.strip().casefold() or str(group.id) == name_or_id.strip():
            return group
    raise UnknownSmartGroupError(f"tenant {tenant.slug!r} has no smart group {name_or_id!r}")


async def remove_group(conn: AsyncConnection, tenant: Tenant, group: SmartGroup) -> None:
    await conn.execute(
        smart_groups.delete().where((smart_groups.c.tenant_id == tenant.id) & (smart_groups.c.id == group.id))
    )


async def members(conn: AsyncConnection, tenant: Tenant, group: SmartGroup) -> list[tuple[str, str]]:
    """(id, userName) of the users the rule selects now, in login order: one statement."""
    rows = await conn.execute(
        sa.select(users.c.id, users.c.user_name)
        .where((users.c.tenant_id == tenant.id) & rule_clause(group.rule, tenant))
        .order_by(users.c.user_name_ci)
    )
    return [(row[0], row[1]) for row in rows.all()]


async def memberships_of(conn: AsyncConnection, tenant: Tenant, user_id: str) -> list[SmartMembership]:
    """The tenant's smart groups whose rule selects the user: one statement, one branch per
    smart group (the tenant's rules, not its users, set its size)."""
    groups = await list_groups(conn, tenant)
    if not groups:
        return []
    names = itertools.count()  # one statement: its department CTEs are numbered together
    branches = [
        sa.select(sa.literal(index).label("position")).where(
            (users.c.tenant_id == tenant.id)
            & (users.c.id == user_id)
            & rule_clause(group.rule, tenant, names)
        )
        for index, group in enumerate(groups)
    ]
    matched = await conn.execute(sa.union_all(*branches))
    return [SmartMembership(groups[index]) for index in sorted(matched.scalars().all())]
