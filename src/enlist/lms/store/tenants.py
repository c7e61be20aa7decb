"""Tenants and their Secret tokens in the store."""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.db.prepared import Prepared
from enlist.db.rows import now
from enlist.lms.domain import tokens as tk
from enlist.lms.domain.policy import TenantPolicy
from enlist.lms.domain.tenants import Tenant, slug_for
from enlist.lms.store.tables import departments, secret_tokens, tenants


class TenantExistsError(ValueError):
    """A tenant with that name (URL segment) exists already."""


class UnknownTenantError(LookupError):
    """No tenant with that name."""


def _tenant(row: sa.Row[tuple[object, ...]]) -> Tenant:
    m = row._mapping  # noqa: SLF001 (SQLAlchemy's public row mapping)
    return Tenant(
        id=m["id"],
        slug=m["slug"],
        name=m["name"],
        policy=TenantPolicy.from_json(m["policy"]),
        root_department_id=m["root_department_id"],
    )


async def create_tenant(conn: AsyncConnection, name: str, policy: TenantPolicy | None = None) -> Tenant:
    slug = slug_for(name)
    if await find_tenant(conn, slug) is not None:
        raise TenantExistsError(f"a tenant named {slug!r} exists already")
    policy = policy or TenantPolicy()
    created = now()
    result = await conn.execute(
        tenants.insert().values(slug=slug, name=name, policy=policy.to_json(), created_at=created)
    )
    tenant_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
    assert isinstance(tenant_id, int)
    root = str(uuid.uuid4())
    await conn.execute(
        departments.insert().values(
            id=root, tenant_id=tenant_id, parent_id=None, name=name, created_at=created
        )
    )
    await conn.execute(tenants.update().where(tenants.c.id == tenant_id).values(root_department_id=root))
    return Tenant(tenant_id, slug, name, policy, root)


async def find_tenant(conn: AsyncConnection, name_or_slug: str) -> Tenant | None:
    candidates = {name_or_slug}
    with contextlib.suppress(ValueError):
        candidates.add(slug_for(name_or_slug))
    row = (await conn.execute(sa.select(tenants).where(tenants.c.slug.in_(candidates)))).first()
    return _tenant(row) if row else None


async def get_tenant(conn: AsyncConnection, name_or_slug: str) -> Tenant:
    tenant = await find_tenant(conn, name_or_slug)
    if tenant is None:
        raise UnknownTenantError(
            f"no tenant named {name_or_slug!r}; `enlist lms tenant create NAME` makes one"
        )
    return tenant


async def list_tenants(conn: AsyncConnection) -> list[Tenant]:
    rows = (await conn.execute(sa.select(tenants).order_by(tenants.c.slug))).all()
    return [_tenant(r) for r in rows]


async def lock_tenant(conn: AsyncConnection, tenant_id: int) -> None:
    """Serialise writers that check a tenant-wide limit (seat count) on PostgreSQL."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.select(tenants.c.id).where(tenants.c.id == tenant_id).with_for_update())


async def save_policy(conn: AsyncConnection, tenant: Tenant, policy: TenantPolicy) -> Tenant:
    await conn.execute(tenants.update().where(tenants.c.id == tenant.id).values(policy=policy.to_json()))
    return Tenant(tenant.id, tenant.slug, tenant.name, policy, tenant.root_department_id)


async def add_token(conn: AsyncConnection, tenant: Tenant, pepper: tk.Pepper) -> str:
    """Mint a new Secret token for the tenant; returns the token, the only time it exists in clear."""
    minted = tk.mint(pepper)
    await conn.execute(
        secret_tokens.insert().values(
            tenant_id=tenant.id,
            key_id=minted.key_id,
            digest=minted.digest,
            pepper_id=minted.pepper_id,
            created_at=now(),
        )
    )
    return minted.token


async def rotate_token(conn: AsyncConnection, tenant: Tenant, pepper: tk.Pepper, overlap: timedelta) -> str:
    """Mint a new token; tokens in use keep working for `overlap` (zero revokes them at once)."""
    moment = now()
    live = (secret_tokens.c.tenant_id == tenant.id) & secret_tokens.c.revoked_at.is_(None)
    if overlap <= timedelta(0):
        await conn.execute(secret_tokens.update().where(live).values(revoked_at=moment))
    else:
        ends = moment + overlap
        await conn.execute(
            secret_tokens.update()
            .where(live & (secret_tokens.c.expires_at.is_(None) | (secret_tokens.c.expires_at > ends)))
            .values(expires_at=ends)
        )
    return await add_token(conn, tenant, pepper)


async def revoke_tokens(conn: AsyncConnection, tenant: Tenant) -> int:
    """Revoke every token of the tenant at once; returns how many were live."""
    result = await conn.execute(
        secret_tokens.update()
        .where((secret_tokens.c.tenant_id == tenant.id) & secret_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now())
    )
    return result.rowcount


async def token_status(conn: AsyncConnection, tenant: Tenant) -> list[dict[str, object]]:
    """The tenant's tokens without their digests: key id, pepper id, created, expires, revoked."""
    rows = (
        await conn.execute(
            sa.select(
                secret_tokens.c.key_id,
                secret_tokens.c.pepper_id,
                secret_tokens.c.created_at,
                secret_tokens.c.expires_at,
                secret_tokens.c.revoked_at,
            )
            .where(secret_tokens.c.tenant_id == tenant.id)
            .order_by(secret_tokens.c.created_at.desc())
        )
    ).all()
    moment = now()
    return [
        {
            "key_id": r.key_id,
            "pepper_id": r.pepper_id,  # rotation is done when no usable token needs the old pepper
            "created_at": r.created_at.isoformat(),
            "expires_at": r.expires_at.isoformat() if r.expires_at else None,
            "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
            "usable": r.revoked_at is None and (r.expires_at is None or r.expires_at > moment),
        }
        for r in rows
    ]


_TOKEN = Prepared(
    sa.select(
        secret_tokens.c.tenant_id,
        secret_tokens.c.key_id,
        secret_tokens.c.digest,
        secret_tokens.c.pepper_id,
        secret_tokens.c.expires_at,
        secret_tokens.c.revoked_at,
        tenants.c.slug,
        tenants.c.name,
        tenants.c.policy,
        tenants.c.root_department_id,
    )
    .join(tenants, tenants.c.id == secret_tokens.c.tenant_id)
    .where(secret_tokens.c.key_id == sa.bindparam("key_id"))
)


async def authenticate(
    conn: AsyncConnection, slug: str, token: str, peppers: dict[str, tk.Pepper]
) -> Tenant | None:
    """The tenant a bearer token opens at `slug`, or None: wrong, revoked, expired, malformed or
    another tenant's token all give None, after the same amount of hashing."""
    parts = tk.split(token)
    key_id, secret = parts or ("", token)
    row = await _TOKEN.first(conn, key_id=key_id)
    stored = None
    if row is not None:
        stored = tk.StoredToken(*row[:6])
    ok = tk.verify(peppers, stored, secret)
    if not ok or row is None or stored is None or not stored.usable_at(now()) or row[6] != slug:
        return None
    tenant_id, _slug, name, policy, root = row[0], row[6], row[7], row[8], row[9]
    return Tenant(tenant_id, slug, name, TenantPolicy.from_json(policy), root)
