"""A tenant's policies as a document (JSON or YAML), and back: `enlist lms tenant export` and
`tenant import`, for keeping the portal's configuration in git next to the applications'.

The document, in key order (docs/reference/application-document.md, "Tenant policies"):

    version: 1
    tenant: the tenant's name in its Tenant URL (its slug)
    name: its display name
    policies: {every TenantPolicy field}

`read_policy_document` checks every key (missing, unknown, wrong type, a value the policy does
not take: `DocumentError` naming the path) with the same parser as `tenant set`.
`import_policy_document` creates the tenant (minting its first Secret token, shown once) or
brings its policies to the document, in the caller's one transaction, and returns the
difference first computed; `dry_run` writes nothing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.document_shape import DocumentError, exact_keys, join, kind_of, like, setting_text, text
from enlist.lms import operations
from enlist.lms.domain import tokens as tk
from enlist.lms.domain.policy import PolicyError, TenantPolicy
from enlist.lms.domain.tenants import Tenant, TenantNameError, slug_for
from enlist.lms.store import tenants as tenant_store

VERSION = 1
TOP_KEYS = ("version", "tenant", "name", "policies")
# Policies added after version 1 documents were first written: a document exported before they
# existed still imports, and they take their defaults (which is what that tenant had). Every
# other key is required: an exported document always has it, so a missing one is a mistake.
ADDED_LATER = frozenset(
    {"department_source", "department_attribute", "department_separator", "department_group_prefix"}
)


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    """One tenant's policies, checked."""

    tenant: str
    name: str
    policy: TenantPolicy

    def to_data(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "tenant": self.tenant,
            "name": self.name,
            "policies": self.policy.to_json(),
        }


def document_of(tenant: Tenant) -> PolicyDocument:
    return PolicyDocument(tenant.slug, tenant.name, tenant.policy)


def read_policy_document(data: Any) -> PolicyDocument:
    """The document `data` describes, or `DocumentError` naming the first key at fault."""
    if isinstance(data, dict) and "version" in data:
        version = data["version"]
        if isinstance(version, bool) or not isinstance(version, int):
            raise DocumentError("version", f"must be a whole number, not {kind_of(version)}")
        if version != VERSION:
            raise DocumentError("version", f"this enlist reads version {VERSION} documents, not {version}")
    exact_keys(data, TOP_KEYS, "")
    slug = text(data["tenant"], "tenant")
    name = text(data["name"], "name")
    if not slug.strip() or not name.strip():
        raise DocumentError("tenant" if not slug.strip() else "name", "must not be empty")
    return PolicyDocument(slug, name, _policy(data["policies"]))


def _policy(data: Any) -> TenantPolicy:
    fields = dataclasses.fields(TenantPolicy)
    defaults = TenantPolicy()
    if isinstance(data, dict):
        data = {**{k: v for k, v in defaults.to_json().items() if k in ADDED_LATER}, **data}
    exact_keys(data, [f.name for f in fields], "policies")
    policy = defaults
    for f in fields:
        path = join("policies", f.name)
        value = like(data[f.name], getattr(defaults, f.name), path)
        if isinstance(value, list):
            for index, item in enumerate(value):
                if not isinstance(item, str) or not item.strip() or "," in item:
                    raise DocumentError(join(path, index), "must be non-empty text without a comma")
        elif value is not None and not isinstance(value, bool | int | float | str):
            raise DocumentError(path, f"must be a single value, not {kind_of(value)}")
        try:
            policy = policy.with_changes({f.name: setting_text(value)})
        except PolicyError as exc:
            raise DocumentError(path, str(exc)) from None
    return policy


@dataclass(frozen=True, slots=True)
class PolicyImport:
    """What an import did (or would do): `changes` as `~ policies.KEY: before -> after` lines;
    `token` the first Secret token of a tenant the import created (shown once)."""

    tenant: str
    created: bool
    dry_run: bool
    changes: list[str] = field(default_factory=list)
    token: str | None = None
    replaced: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "created": self.created,
            "dry_run": self.dry_run,
            "changed": bool(self.changes),
            "changes": self.changes,
            **({"secret_token": self.token} if self.token else {}),
            "replaced": self.replaced,
        }


def _show(value: Any) -> str:
    import json  # noqa: PLC0415 (a one-line rendering, only when there is a difference)

    return json.dumps(value, ensure_ascii=False)


def diff_policies(before: PolicyDocument | None, after: PolicyDocument) -> list[str]:
    """The difference as lines: `+ tenant` for a new one, then each policy that changes."""
    if before is None:
        lines = [f"+ tenant: {_show(after.tenant)} ({_show(after.name)})"]
        old: dict[str, Any] = {}
    else:
        lines = [] if before.name == after.name else [f"~ name: {_show(before.name)} -> {_show(after.name)}"]
        old = before.policy.to_json()
    for key, value in after.policy.to_json().items():
        if key not in old:
            lines.append(f"+ policies.{key}: {_show(value)}")
        elif old[key] != value:
            lines.append(f"~ policies.{key}: {_show(old[key])} -> {_show(value)}")
    return lines


async def import_policy_document(
    conn: AsyncConnection, document: PolicyDocument, pepper: tk.Pepper, *, dry_run: bool = False
) -> PolicyImport:
    """Create the tenant or bring its policies to `document`, in `conn`'s transaction. A tenant's
    name is shown in its pages and set when it is made: a document that renames an existing
    tenant is refused (`DocumentError`), as is a `tenant` that is not a valid tenant name."""
    existing = await tenant_store.find_tenant(conn, document.tenant)
    if existing is not None and existing.slug != document.tenant:
        existing = None  # found by display name only: the document names tenants by slug
    if existing is not None and existing.name != document.name:
        raise DocumentError(
            "name", f"tenant {existing.slug} is named {existing.name!r}; import does not rename tenants"
        )
    changes = diff_policies(document_of(existing) if existing else None, document)
    if dry_run or not changes:
        return PolicyImport(document.tenant, existing is None, dry_run, changes)
    token = None
    if existing is None:
        try:
            slug = slug_for(document.name)
        except TenantNameError as exc:
            raise DocumentError("name", str(exc)) from None
        if slug != document.tenant:
            raise DocumentError(
                "tenant", f"a new tenant's slug comes from its name: {document.name!r} gives {slug!r}"
            )
        minted = await operations.create_tenant(conn, document.name, pepper)
        existing, token = minted.tenant, minted.token
    wanted = document.policy.to_json()
    current = existing.policy.to_json()
    text_changes = {k: setting_text(v) for k, v in wanted.items() if current.get(k) != v}
    saved = await operations.set_policy(conn, existing, text_changes) if text_changes else None
    return PolicyImport(
        document.tenant, token is not None, dry_run, changes, token, saved.replaced if saved else 0
    )
