"""What an admin does to a tenant, whichever front end they use: the `enlist lms tenant …` and
`enlist lms department …` commands and the admin pages' forms all call these functions, so
the two cannot drift apart and give the same errors with the same messages.

Each operation works in the caller's transaction (`conn`): a page runs it inside the write
transaction its tenant lookup opened, a command inside the one it opens. An operation that
raises has written nothing the caller should keep; the front end rolls back and shows the
message of one of `EXPECTED`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.lms.domain import tokens as tk
from enlist.lms.domain.policy import DEPARTMENT_RULE_KEYS, MAX_OVERLAP_HOURS, PolicyError, TenantPolicy
from enlist.lms.domain.tenants import Tenant, TenantNameError
from enlist.lms.store import department_tree as tree_store
from enlist.lms.store import tenants as tenant_store
from enlist.lms.store.department_rule import log_moves, place_by_rule
from enlist.lms.store.departments import leave_rule_departments, place_everyone

# The errors an admin causes and can fix: a front end shows their message, never a traceback.
EXPECTED = (
    tenant_store.UnknownTenantError,
    tenant_store.TenantExistsError,
    TenantNameError,
    PolicyError,
    tree_store.DepartmentError,
)

PLACEMENT_KEYS = ("group_mode", "placement", "tie_break", *DEPARTMENT_RULE_KEYS)
"""The policies that decide where users are placed: changing one re-places every member (every
user of the tenant under a department tree rule, ADR 0034)."""

RULE_CHANGE_METHOD = "POLICY"  # the sync log's method of the moves a rule change makes
RULE_CHANGE_PATH = "tenant policy: department tree rule"


@dataclass(frozen=True, slots=True)
class Minted:
    """A tenant and a Secret token minted for it: the only time the token exists in clear."""

    tenant: Tenant
    token: str
    overlap_hours: float = 0.0


@dataclass(frozen=True, slots=True)
class PolicySaved:
    """The tenant with its new policy, and how many members were placed again (0: none); under a
    department tree rule, how many users it moved."""

    tenant: Tenant
    replaced: int
    placement_changed: bool


async def create_tenant(conn: AsyncConnection, name: str, pepper: tk.Pepper) -> Minted:
    """`tenant create NAME` / **New tenant**: the tenant and its first Secret token."""
    created = await tenant_store.create_tenant(conn, name)
    return Minted(created, await tenant_store.add_token(conn, created, pepper))


def placement_changed(before: TenantPolicy, after: TenantPolicy) -> bool:
    """True when a policy that decides where users are placed has a new value."""
    return any(getattr(before, key) != getattr(after, key) for key in PLACEMENT_KEYS)


async def set_policy(conn: AsyncConnection, tenant: Tenant, changes: Mapping[str, str]) -> PolicySaved:
    """`tenant set NAME KEY=VALUE…` / the settings form: validated as a whole before anything is
    written (`PolicyError` names the key); when a placement policy's value changes, every
    member is placed again under the new rule (naming a key with its current value does not)."""
    updated = tenant.policy.with_changes(dict(changes))
    saved = await tenant_store.save_policy(conn, tenant, updated)
    changed = placement_changed(tenant.policy, updated)
    if not changed:
        return PolicySaved(saved, 0, changed)
    if updated.builds_tree:
        moves = await place_by_rule(conn, saved, None)
        await log_moves(conn, saved, moves, RULE_CHANGE_METHOD, RULE_CHANGE_PATH)
        return PolicySaved(saved, len(moves), changed)
    if tenant.policy.builds_tree:
        await leave_rule_departments(conn, saved)
    return PolicySaved(saved, await place_everyone(conn, saved), changed)


def overlap_hours(policy: TenantPolicy, requested: float | None) -> float:
    """The overlap a rotation uses: `requested`, or the policy's `token_overlap_hours` when None;
    `PolicyError` unless it is between 0 and `MAX_OVERLAP_HOURS` (nan and infinity included)."""
    hours = policy.token_overlap_hours if requested is None else requested
    if not (math.isfinite(hours) and 0 <= hours <= MAX_OVERLAP_HOURS):
        raise PolicyError(f"the overlap must be between 0 and {MAX_OVERLAP_HOURS} hours")
    return hours


async def rotate_token(
    conn: AsyncConnection, tenant: Tenant, pepper: tk.Pepper, requested_hours: float | None
) -> Minted:
    """`tenant rotate-token` / **Regenerate**: a new Secret token; the tokens in use keep
    working for the overlap (0 revokes them at once)."""
    hours = overlap_hours(tenant.policy, requested_hours)
    token = await tenant_store.rotate_token(conn, tenant, pepper, timedelta(hours=hours))
    return Minted(tenant, token, hours)


async def revoke_tokens(conn: AsyncConnection, tenant: Tenant) -> int:
    """`tenant revoke-tokens` / **Revoke all**: every token stops at once; how many were live."""
    return await tenant_store.revoke_tokens(conn, tenant)


async def create_department(
    conn: AsyncConnection, tenant: Tenant, name: str, parent: str | None
) -> tuple[str, tree_store.DepartmentRow]:
    """`department create` / the Departments form: a department under `parent` (an id or a
    name; the root when empty). Returns its id and the parent."""
    under = await tree_store.find_department(conn, tenant, parent or tenant.root_department_id)
    return await tree_store.create_department(conn, tenant, name, under.id), under


async def move_department(
    conn: AsyncConnection, tenant: Tenant, department: str, parent: str
) -> tuple[tree_store.DepartmentRow, tree_store.DepartmentRow]:
    """`department move` / the Departments form: hang `department` (with everything below it)
    under `parent`, both given by id or name. Returns the moved department and its new parent."""
    moving = await tree_store.find_department(conn, tenant, department)
    under = await tree_store.find_department(conn, tenant, parent)
    await tree_store.move_department(conn, tenant, moving.id, under.id)
    return moving, under


async def remove_department(
    conn: AsyncConnection, tenant: Tenant, department: str
) -> tuple[tree_store.DepartmentRow, int]:
    """`department remove`: remove a department (by id or name) that no one needs any more;
    its people and sub-departments move up to its parent. Returns it and how many people moved."""
    removing = await tree_store.find_department(conn, tenant, department)
    return removing, await tree_store.remove_department(conn, tenant, removing.id)
