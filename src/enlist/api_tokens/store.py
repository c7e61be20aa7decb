"""API tokens in a service's database: mint, list, revoke, look up, note a use.

Every function takes the service's `api_tokens` table (`tables.define`). In the portal's table a
token belongs to one tenant or (tenant_id NULL) to the whole portal; `tenant_id` selects which.
A name is unique among a realm's live tokens: revoked ones stay listed under theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.api_tokens.model import ApiToken, Scope, TokenError
from enlist.db.rows import now as current_time
from enlist.web import tokens as tk


@dataclass(frozen=True, slots=True)
class Minted:
    """A new token: `token` exists in clear only here, to be shown once."""

    token: str
    stored: ApiToken


@dataclass(frozen=True, slots=True)
class Found:
    """What a bearer token's key id finds: the row and what its secret must hash to."""

    stored: ApiToken
    digest: str
    pepper_id: str


def _realm(table: sa.Table, tenant_id: int | None) -> sa.ColumnElement[bool]:
    if "tenant_id" not in table.c:
        return sa.true()
    column = table.c.tenant_id
    return column.is_(None) if tenant_id is None else column == tenant_id


def _live(table: sa.Table) -> sa.ColumnElement[bool]:
    return table.c.revoked_at.is_(None)


def row_token(row: Any) -> ApiToken:
    """A row of the table as an `ApiToken` (its digest left out)."""
    values = row._mapping  # noqa: SLF001 - SQLAlchemy's public mapping view of a row
    return ApiToken(
        id=values["id"],
        name=values["name"],
        scope=values["scope"],
        created_at=values["created_at"],
        expires_at=values["expires_at"],
        revoked_at=values["revoked_at"],
        last_used_at=values["last_used_at"],
        tenant_id=values.get("tenant_id"),
    )


async def create(
    conn: AsyncConnection,
    table: sa.Table,
    pepper: tk.Pepper,
    *,
    name: str,
    scope: Scope,
    expires_at: datetime | None,
    tenant_id: int | None = None,
) -> Minted:
    """Mint a token named `name`; `TokenError` when a live token of the realm has that name."""
    clash = await conn.execute(
        sa.select(table.c.id).where(_realm(table, tenant_id) & _live(table) & (table.c.name == name))
    )
    if clash.first() is not None:
        raise TokenError(f"a live API token is already named {name!r}; revoke it first or pick another name")
    minted = tk.mint(pepper)
    values: dict[str, Any] = {
        "name": name,
        "key_id": minted.key_id,
        "digest": minted.digest,
        "pepper_id": minted.pepper_id,
        "scope": scope,
        "created_at": current_time(),
        "expires_at": expires_at,
    }
    if "tenant_id" in table.c:
        values["tenant_id"] = tenant_id
    new_id = (await conn.execute(table.insert().values(**values).returning(table.c.id))).scalar_one()
    row = (await conn.execute(sa.select(table).where(table.c.id == new_id))).one()
    return Minted(minted.token, row_token(row))


async def list_tokens(conn: AsyncConnection, table: sa.Table, tenant_id: int | None = None) -> list[ApiToken]:
    """The realm's tokens, live and revoked, newest first."""
    rows = await conn.execute(
        sa.select(table)
        .where(_realm(table, tenant_id))
        .order_by(table.c.created_at.desc(), table.c.id.desc())
    )
    return [row_token(r) for r in rows]


async def revoke(conn: AsyncConnection, table: sa.Table, name: str, tenant_id: int | None = None) -> ApiToken:
    """Revoke the realm's live token named `name` (it is refused from now on)."""
    where = _realm(table, tenant_id) & _live(table) & (table.c.name == name)
    row = (await conn.execute(sa.select(table).where(where))).first()
    if row is None:
        raise TokenError(f"no live API token is named {name!r}; `api-token list` shows them")
    moment = current_time()
    await conn.execute(table.update().where(table.c.id == row.id).values(revoked_at=moment))
    revoked = row_token(row)
    return ApiToken(**{**_fields(revoked), "revoked_at": moment})


def _fields(token: ApiToken) -> dict[str, Any]:
    return {name: getattr(token, name) for name in ApiToken.__slots__}


async def find(conn: AsyncConnection, table: sa.Table, key_id: str) -> Found | None:
    row = (await conn.execute(sa.select(table).where(table.c.key_id == key_id))).first()
    if row is None:
        return None
    return Found(row_token(row), row.digest, row.pepper_id)


async def touch(
    conn: AsyncConnection, table: sa.Table, token_id: int, moment: datetime, cutoff: datetime
) -> None:
    """Note a use at `moment` unless one since `cutoff` is already noted (another worker's)."""
    await conn.execute(
        table.update()
        .where((table.c.id == token_id) & (table.c.last_used_at.is_(None) | (table.c.last_used_at < cutoff)))
        .values(last_used_at=moment)
    )


def to_json(token: ApiToken) -> dict[str, Any]:
    """A token as `api-token list --json` and the pages show it (never its digest)."""

    def stamp(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "name": token.name,
        "scope": token.scope,
        "created_at": stamp(token.created_at),
        "expires_at": stamp(token.expires_at),
        "last_used_at": stamp(token.last_used_at),
        "revoked_at": stamp(token.revoked_at),
    }


async def revoke_by_id(conn: AsyncConnection, table: sa.Table, token_id: int) -> bool:
    """Revoke one live token (the pages' button); False when it was not live."""
    result = await conn.execute(
        table.update().where((table.c.id == token_id) & _live(table)).values(revoked_at=current_time())
    )
    return bool(result.rowcount)
