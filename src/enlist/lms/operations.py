"""What an admin does to a tenant, whichever front end they use: the `enlist lms tenant …`,
`enlist lms department …` and `enlist lms log` commands, the admin pages' forms and the
portal's JSON API (`enlist.lms.api`) all call these functions, so they cannot drift apart and
give the same errors with the same messages.

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
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.api_tokens.model import TokenError
from enlist.db.rows import now
from enlist.document_shape import DocumentError
from enlist.lms.domain import tokens as tk
from enlist.lms.domain.policy import DEPARTMENT_RULE_KEYS, MAX_OVERLAP_HOURS, PolicyError, TenantPolicy
from enlist.lms.domain.roles import RoleRuleError
from enlist.lms.domain.smart_groups import SmartGroupError
from enlist.lms.domain.tenants import Tenant, TenantNameError
from enlist.lms.notify.alerts import seat_limit_set
from enlist.lms.store import department_tree as tree_store
from enlist.lms.store import tenants as tenant_store
from enlist.lms.store.department_rule import log_moves, place_by_rule
from enlist.lms.store.departments import leave_rule_departments, place_everyone

if TYPE_CHECKING:  # loaded by the few operations that need them (the CLI imports this module)
    from enlist.lms.policy_document import PolicyImport

# The errors an admin causes and can fix: a front end shows their message, never a traceback.
EXPECTED = (
    tenant_store.UnknownTenantError,
    tenant_store.TenantExistsError,
    TenantNameError,
    PolicyError,
    tree_store.DepartmentError,
    DocumentError,
    TokenError,
    RoleRuleError,
    SmartGroupError,
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
    member is placed again under the new rule (naming a key with its current value does not).
    A new `seat_limit` raises or clears the seat-limit alert in the same transaction."""
    updated = tenant.policy.with_changes(dict(changes))
    saved = await tenant_store.save_policy(conn, tenant, updated)
    if updated.seat_limit != tenant.policy.seat_limit:
        await seat_limit_set(conn, saved, now())
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


def describe_tenant(tenant: Tenant, public_url: str) -> dict[str, Any]:
    """A tenant as `tenant list --json` and `GET /api/v1/tenants` show it (no token)."""
    return {
        "tenant": tenant.slug,
        "name": tenant.name,
        "tenant_url": tenant.tenant_url(public_url),
        "policy": tenant.policy.to_json(),
    }


async def tenant_details(conn: AsyncConnection, tenant: Tenant, public_url: str) -> dict[str, Any]:
    """`tenant show --json` / `GET /api/v1/tenants/{tenant}`: the tenant and its Secret tokens'
    state (key id, created, expiry, usable), never the tokens themselves."""
    return {**describe_tenant(tenant, public_url), "tokens": await tenant_store.token_status(conn, tenant)}


async def prune_sync_log(conn: AsyncConnection, tenant: Tenant) -> int:
    """`log --prune` / `POST …/sync-log/prune`: drop the entries older than the tenant's
    `log_retention_days` now; how many went."""
    from enlist.lms.store import synclog  # noqa: PLC0415 (only the sync log operations load it)

    return await synclog.prune(conn, tenant.id, tenant.policy.log_retention_days)


def export_policies(tenant: Tenant, fmt: str) -> str:
    """`tenant export` / `GET …/policy-document`: the tenant's policy document as JSON or YAML."""
    from enlist.document_shape import dump  # noqa: PLC0415 (YAML: only the document operations)
    from enlist.lms.policy_document import document_of  # noqa: PLC0415 (it imports this module)

    return dump(document_of(tenant).to_data(), "json" if fmt == "json" else "yaml")


async def import_policies(
    conn: AsyncConnection, data: Any, pepper: tk.Pepper, *, dry_run: bool
) -> PolicyImport:
    """`tenant import [--dry-run]` / `PUT …/policy-document`: check the parsed document `data`
    (`DocumentError` names the key at fault), then create the tenant or bring its policies to
    it; the difference comes back either way, and a dry run writes nothing."""
    from enlist.lms.policy_document import import_policy_document, read_policy_document  # noqa: PLC0415

    document = read_policy_document(data)
    return await import_policy_document(conn, document, pepper, dry_run=dry_run)


async def list_api_tokens(conn: AsyncConnection, tenant: Tenant | None) -> list[dict[str, Any]]:
    """`api-token list [--tenant]` / `GET …/api-tokens`: the realm's tokens, live and revoked."""
    from enlist.api_tokens import store  # noqa: PLC0415
    from enlist.lms.api_tokens import api_tokens  # noqa: PLC0415

    return [
        store.to_json(t) for t in await store.list_tokens(conn, api_tokens, tenant.id if tenant else None)
    ]


async def revoke_api_token(conn: AsyncConnection, tenant: Tenant | None, name: str) -> dict[str, Any]:
    """`api-token revoke NAME [--tenant]` / `DELETE …/api-tokens/{name}`: refused from the next
    request on; `TokenError` when the realm has no live token of that name."""
    from enlist.api_tokens import store  # noqa: PLC0415
    from enlist.lms.api_tokens import api_tokens  # noqa: PLC0415

    return store.to_json(await store.revoke(conn, api_tokens, name, tenant.id if tenant else None))


async def remove_department(
    conn: AsyncConnection, tenant: Tenant, department: str
) -> tuple[tree_store.DepartmentRow, int]:
    """`department remove`: remove a department (by id or name) that no one needs any more;
    its people and sub-departments move up to its parent. Returns it and how many people moved."""
    removing = await tree_store.find_department(conn, tenant, department)
    return removing, await tree_store.remove_department(conn, tenant, removing.id)
