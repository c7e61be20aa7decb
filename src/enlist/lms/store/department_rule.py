"""The department tree rule in the store: place users by what the identity provider sent, in set
statements whose number does not grow with the users placed (ADR 0034).

One re-placement, for every user of the tenant (a rule change) or for a few (a SCIM write):

1. the distinct values the users carry (an attribute, the `division` + `department` pair) or the
   tenant's groups (the prefix rule), one statement;
2. their paths (`enlist.lms.domain.department_rule`), resolved against the tree: the missing
   departments are created, marked rule-made, under the tenant lock (two writers cannot make the
   same department twice);
3. the value → department map written as scratch rows of this batch;
4. the moves read and the users updated, each in one statement whose target is a correlated
   subquery on that map; the scratch rows deleted before the transaction commits.

The same function serves a rule change and a single SCIM write, so where a user lands depends
on the rule and on what the user carries now, never on the order requests arrived in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.db.rows import chunks, new_id, now
from enlist.lms.domain import department_rule as rule
from enlist.lms.domain.changes import Change
from enlist.lms.domain.tenants import Tenant
from enlist.lms.store.tables import (
    department_rule_values,
    departments,
    group_members,
    groups,
    sync_log,
    tenants,
    users,
)
from enlist.logs.context import current_request_id


@dataclass(frozen=True, slots=True)
class Move:
    """A user the rule moved, with the department names from the root down, before and after."""

    user_id: str
    user_name: str
    old: list[str]
    new: list[str]

    def change(self) -> Change:
        return Change(rule.MOVE_ATTRIBUTE, self.old, self.new)


def _text_at(conn: AsyncConnection, where: tuple[str, ...]) -> sa.ColumnElement[Any]:
    """The text at `where` in a user's document, NULL when it is absent or not text (a number,
    an object): the same values on SQLite and PostgreSQL."""
    if conn.dialect.name == "postgresql":
        node = users.c.doc[where]
        return sa.case((sa.func.jsonb_typeof(node) == "string", node.as_string()), else_=sa.null())
    path = "$" + "".join('."' + key.replace('"', '\\"') + '"' for key in where)
    return sa.case(
        (sa.func.json_type(users.c.doc, path) == "text", sa.func.json_extract(users.c.doc, path)),
        else_=sa.null(),
    )


def _user_value(conn: AsyncConnection, tenant: Tenant) -> sa.ColumnElement[Any]:
    """What a user carries that the rule reads, as one text (`attribute`, `division`)."""
    policy = tenant.policy
    if policy.department_source == "division":
        division = _text_at(conn, rule.attribute_path("division"))
        department = _text_at(conn, rule.attribute_path("department"))
        return (
            sa.func.coalesce(division, "", type_=sa.String())
            .concat(rule.PAIR_JOINER)
            .concat(sa.func.coalesce(department, "", type_=sa.String()))
        )
    return _text_at(conn, rule.attribute_path(policy.department_attribute))


def _target(conn: AsyncConnection, tenant: Tenant, batch: str) -> sa.ColumnElement[Any]:
    """Each user's department under the rule: the root when nothing the user carries names one."""
    values = department_rule_values
    if tenant.policy.department_source == "group_names":
        order = (
            (group_members.c.added_at, group_members.c.group_id)
            if tenant.policy.tie_break == "oldest"
            else (groups.c.display_name_ci, groups.c.id)
        )
        chosen = (
            sa.select(values.c.department_id)
            .select_from(group_members)
            .join(groups, groups.c.id == group_members.c.group_id)
            .join(values, (values.c.batch_id == batch) & (values.c.value == group_members.c.group_id))
            .where(group_members.c.user_id == users.c.id)
            .order_by(*order)
            .limit(1)
        )
    else:
        chosen = sa.select(values.c.department_id).where(
            (values.c.batch_id == batch) & (values.c.value == _user_value(conn, tenant))
        )
    return sa.func.coalesce(chosen.scalar_subquery(), tenant.root_department_id)


async def _lock_tree(conn: AsyncConnection, tenant: Tenant) -> None:
    """Serialise the writers that create departments of one tenant, on PostgreSQL (SQLite's
    writers are serial already). `FOR NO KEY UPDATE` on the tenant row: it queues those writers
    but not the ones that merely hold the row's key share, which every insert of a user or a sync
    log entry of the tenant takes (a foreign key). `FOR UPDATE` would conflict with those, so two
    user creations that each need a new department would wait on each other."""
    if conn.dialect.name == "postgresql":
        await conn.execute(
            sa.select(tenants.c.id).where(tenants.c.id == tenant.id).with_for_update(key_share=True)
        )


async def _tree(conn: AsyncConnection, tenant: Tenant) -> list[rule.Department]:
    rows = await conn.execute(
        sa.select(
            departments.c.id,
            departments.c.name,
            departments.c.parent_id,
            departments.c.rule_made,
            departments.c.created_at,
        ).where(departments.c.tenant_id == tenant.id)
    )
    return [rule.Department(*row) for row in rows]


async def _paths(
    conn: AsyncConnection, tenant: Tenant, scopes: list[sa.ColumnElement[bool]]
) -> dict[str, rule.Path]:
    """The values the rule reads, each with its path: the users' distinct values, or the groups."""
    policy = tenant.policy
    if policy.department_source == "group_names":
        rows = await conn.execute(
            sa.select(groups.c.id, groups.c.display_name).where(groups.c.tenant_id == tenant.id)
        )
        named = {
            gid: rule.group_path(name, policy.department_group_prefix, policy.department_separator)
            for gid, name in rows
        }
        return {gid: path for gid, path in named.items() if path}
    found: dict[str, rule.Path] = {}
    value = _user_value(conn, tenant)
    for scope in scopes:
        for (text,) in await conn.execute(sa.select(value).where(scope).distinct()):
            if isinstance(text, str) and len(text) <= rule.VALUE_LENGTH:
                division = policy.department_source == "division"
                found[text] = (
                    rule.pair_of(text) if division else rule.split_path(text, policy.department_separator)
                )
    return {text: path for text, path in found.items() if path}


async def place_by_rule(conn: AsyncConnection, tenant: Tenant, user_ids: Sequence[str] | None) -> list[Move]:
    """Place every user of the tenant (`user_ids` None) or these users by the tenant's tree rule,
    creating the departments their paths need; returns the moves, in user id order. Terminated
    users keep their department (the portal's reports). Nothing to do without a rule."""
    policy = tenant.policy
    if not policy.builds_tree or (user_ids == [] and policy.department_source != "group_names"):
        return []
    scopes = _scopes(tenant, user_ids)
    paths = await _paths(conn, tenant, scopes)
    tree = await _tree(conn, tenant)
    resolved, created = rule.resolve_paths(tree, tenant.root_department_id, paths.values(), new_id)
    if created:
        # Created under the tenant lock, from the tree as it is once the lock is held: a writer
        # that made the same department first is seen, so no path is made twice.
        await _lock_tree(conn, tenant)
        tree = await _tree(conn, tenant)
        resolved, created = rule.resolve_paths(tree, tenant.root_department_id, paths.values(), new_id)
        if created:
            moment = now()
            await conn.execute(
                departments.insert(),
                [
                    {
                        "id": d.id,
                        "tenant_id": tenant.id,
                        "parent_id": d.parent_id,
                        "name": d.name,
                        "rule_made": True,
                        "created_at": moment,
                    }
                    for d in created
                ],
            )
            tree += [rule.Department(d.id, d.name, d.parent_id, True, moment) for d in created]
    batch = new_id()
    if paths:
        await conn.execute(
            department_rule_values.insert(),
            [{"batch_id": batch, "value": v, "department_id": resolved[p]} for v, p in sorted(paths.items())],
        )
    target = _target(conn, tenant, batch)
    found: list[Sequence[Any]] = []
    for scope in scopes:
        moving = scope & users.c.department_id.is_distinct_from(target)
        found += (
            await conn.execute(
                sa.select(users.c.id, users.c.user_name, users.c.department_id, target).where(moving)
            )
        ).all()
        await conn.execute(users.update().where(moving).values(department_id=target))
    if paths:
        await conn.execute(department_rule_values.delete().where(department_rule_values.c.batch_id == batch))
    names = {d: rule.names_of(tree, d) for d in {row[2] for row in found} | {row[3] for row in found}}
    moves = [Move(user_id, user_name, names[old], names[new]) for user_id, user_name, old, new in found]
    return sorted(moves, key=lambda m: m.user_id)


def _scopes(tenant: Tenant, user_ids: Sequence[str] | None) -> list[sa.ColumnElement[bool]]:
    """The users a re-placement covers: the tenant's users but the terminated, all at once or
    in bounded lists of ids."""
    base = (users.c.tenant_id == tenant.id) & (users.c.status != "terminated")
    if user_ids is None:
        return [base]
    return [base & users.c.id.in_(part) for part in chunks(sorted(set(user_ids)))]


USER_SOURCES = ("attribute", "division")


async def user_moves(conn: AsyncConnection, tenant: Tenant, user_id: str) -> list[Change]:
    """After a user's own write: place them by what they carry now (when the rule reads user
    attributes); the move as the sync log entry of that write shows it."""
    if tenant.policy.department_source not in USER_SOURCES:
        return []
    return [m.change() for m in await place_by_rule(conn, tenant, [user_id])]


async def group_moves(conn: AsyncConnection, tenant: Tenant, user_ids: Sequence[str]) -> list[Move]:
    """After a group's write (the prefix rule): its departments made, these users placed."""
    if tenant.policy.department_source != "group_names":
        return []
    return await place_by_rule(conn, tenant, list(user_ids))


async def log_moves(
    conn: AsyncConnection, tenant: Tenant, moves: Sequence[Move], method: str, path: str
) -> None:
    """One sync log entry per user moved (action `move`), written in one statement."""
    if not moves:
        return
    moment = now()
    await conn.execute(
        sync_log.insert(),
        [
            {
                "tenant_id": tenant.id,
                "at": moment,
                "method": method[:8],
                "path": path[:1024],
                "status": 200,
                "action": "move",
                "resource_type": "User",
                "resource_id": m.user_id,
                "resource_name": m.user_name[:512],
                "changes": [m.change().to_json()],
                "duration_ms": 0.0,
                "error": None,
                "request_id": current_request_id(),
            }
            for m in moves
        ],
    )
