"""Admin accounts and sessions, stored in the service's own database.

A session is a random 256-bit value in an HttpOnly cookie; the database keeps only its SHA-256,
with the admin it belongs to, its CSRF token and an absolute expiry. Sessions live in the
database (not in a signed cookie) so that signing out, or removing an admin, ends them at once,
on every web process.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.web.passwords import hash_password, verify_or_decoy
from enlist.web.tables import admin_sessions, admins

SESSION_LIFETIME = timedelta(hours=12)


class AdminExistsError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Admin:
    id: int
    email: str
    tenant: str | None = None  # the only portal tenant this admin sees; None: all of them

    def may_see(self, tenant_slug: str) -> bool:
        return self.tenant is None or self.tenant == tenant_slug


@dataclass(frozen=True, slots=True)
class Session:
    admin: Admin
    csrf_token: str
    expires_at: datetime


def normalise_email(email: str) -> str:
    cleaned = email.strip().casefold()
    local, at, domain = cleaned.partition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in cleaned) or len(cleaned) > 254:
        raise ValueError(f"{email!r} is not an email address")
    return cleaned


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def create_admin(conn: AsyncConnection, email: str, password: str, tenant: str | None = None) -> Admin:
    address = normalise_email(email)
    hashed = hash_password(password)
    exists = await conn.scalar(sa.select(admins.c.id).where(admins.c.email == address))
    if exists is not None:
        raise AdminExistsError(f"an admin {address} already exists")
    new_id = await conn.scalar(
        sa.insert(admins)
        .values(email=address, password_hash=hashed, tenant=tenant, created_at=datetime.now(UTC))
        .returning(admins.c.id)
    )
    assert new_id is not None
    return Admin(new_id, address, tenant)


async def set_password(conn: AsyncConnection, email: str, password: str) -> Admin:
    """Change an admin's password and end all of their sessions."""
    address = normalise_email(email)
    admin_id = await conn.scalar(sa.select(admins.c.id).where(admins.c.email == address))
    if admin_id is None:
        raise LookupError(f"there is no admin {address}")
    await conn.execute(
        sa.update(admins).where(admins.c.id == admin_id).values(password_hash=hash_password(password))
    )
    await conn.execute(sa.delete(admin_sessions).where(admin_sessions.c.admin_id == admin_id))
    return Admin(admin_id, address)


async def list_admins(conn: AsyncConnection) -> list[Admin]:
    rows = await conn.execute(
        sa.select(admins.c.id, admins.c.email, admins.c.tenant).order_by(admins.c.email)
    )
    return [Admin(r.id, r.email, r.tenant) for r in rows]


async def delete_admin(conn: AsyncConnection, email: str) -> bool:
    result = await conn.execute(sa.delete(admins).where(admins.c.email == normalise_email(email)))
    return result.rowcount > 0


async def check_credentials(conn: AsyncConnection, email: str, password: str) -> Admin | None:
    """The admin whose email and password these are, or None; the same work either way."""
    try:
        address = normalise_email(email)
    except ValueError:
        verify_or_decoy(None, password)
        return None
    row = (
        await conn.execute(
            sa.select(admins.c.id, admins.c.password_hash, admins.c.tenant).where(admins.c.email == address)
        )
    ).first()
    if not verify_or_decoy(row.password_hash if row else None, password) or row is None:
        return None
    return Admin(row.id, address, row.tenant)


async def open_session(
    conn: AsyncConnection, admin: Admin, now: datetime | None = None
) -> tuple[str, Session]:
    """A new session for `admin`: the cookie value (shown once, to the browser) and the session."""
    now = now or datetime.now(UTC)
    cookie = secrets.token_urlsafe(32)
    session = Session(admin, secrets.token_urlsafe(32), now + SESSION_LIFETIME)
    await conn.execute(sa.delete(admin_sessions).where(admin_sessions.c.expires_at <= now))
    await conn.execute(
        sa.insert(admin_sessions).values(
            id_hash=_digest(cookie),
            admin_id=admin.id,
            csrf_token=session.csrf_token,
            created_at=now,
            expires_at=session.expires_at,
        )
    )
    return cookie, session


async def find_session(conn: AsyncConnection, cookie: str, now: datetime | None = None) -> Session | None:
    """The live session this cookie opens, or None (unknown, expired, or its admin removed)."""
    if not cookie or len(cookie) > 128:
        return None
    row = (
        await conn.execute(
            sa.select(
                admins.c.id,
                admins.c.email,
                admins.c.tenant,
                admin_sessions.c.csrf_token,
                admin_sessions.c.expires_at,
            )
            .join(admins, admins.c.id == admin_sessions.c.admin_id)
            .where(admin_sessions.c.id_hash == _digest(cookie))
        )
    ).first()
    if row is None or row.expires_at <= (now or datetime.now(UTC)):
        return None
    return Session(Admin(row.id, row.email, row.tenant), row.csrf_token, row.expires_at)


async def close_session(conn: AsyncConnection, cookie: str) -> None:
    await conn.execute(sa.delete(admin_sessions).where(admin_sessions.c.id_hash == _digest(cookie)))
