"""`enlist provisioning api-token …` and `enlist lms api-token …`: API tokens for scripts and CI.

`create` prints the token once (with `--json`: exactly `{"name", "token", "scope",
"expires_at"}`); only its digest is kept. In the portal, `--tenant SLUG` limits a token to one
tenant; without it the token is the whole portal's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from enlist.api_tokens.model import SCOPES, Scope, TokenError, parse_expiry, parse_name
from enlist.cli.output import emit_json, fail

if TYPE_CHECKING:  # `api-token --help` loads no SQLAlchemy; the commands import the store when run
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import AsyncConnection

    from enlist.api_tokens import store
    from enlist.db.database import Database
    from enlist.web.tokens import Pepper

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Realm:
    """Where a command's tokens live: the service's database and table, the pepper new tokens
    are minted with, and (portal) the tenant they are limited to."""

    db: Database
    table: sa.Table
    pepper: Pepper
    tenant_id: int | None = None


OpenRealm = Callable[[str | None], AbstractAsyncContextManager[Realm]]
"""Opens the service for `--tenant SLUG` (None: the whole service); raises `TokenError`."""


def api_token_group(open_realm: OpenRealm, *, tenants: bool) -> click.Group:  # noqa: PLR0915 (closures; imports counted)
    """The `api-token` group of one service; `tenants` adds `--tenant SLUG` to every command."""

    def run(tenant: str | None, work: Callable[[AsyncConnection, Realm], Awaitable[T]], *, write: bool) -> T:
        async def main() -> T:
            async with open_realm(tenant) as realm:
                opened = realm.db.write() if write else realm.db.read()
                async with opened as conn:
                    return await work(conn, realm)

        try:
            return asyncio.run(main())
        except TokenError as exc:
            fail(str(exc))

    tenant_option = click.option(
        "--tenant", "tenant", default=None, help="Limit to this tenant (slug); without it: the whole portal."
    )

    def per_tenant(command: Callable[..., None]) -> Callable[..., None]:
        if tenants:
            return tenant_option(command)
        return command

    @click.group("api-token")
    def group() -> None:
        """API tokens for scripts and CI: sent as `Authorization: Bearer <token>` to the JSON API
        and to GET /metrics."""

    @group.command("create")
    @click.argument("name")
    @click.option("--scope", type=click.Choice(SCOPES), default="read", show_default=True)
    @click.option("--expires", default=None, help="Lifetime such as 90d, 12h or 4w (default: never).")
    @click.option("--json", "as_json", is_flag=True, help='Print {"name", "token", "scope", "expires_at"}.')
    @per_tenant
    def create(
        name: str, scope: Scope, expires: str | None, as_json: bool, tenant: str | None = None
    ) -> None:
        """Mint a token and print it once: it cannot be shown again."""
        from enlist.api_tokens import store  # noqa: PLC0415 (only when the command runs)
        from enlist.db.rows import now  # noqa: PLC0415

        try:
            checked = parse_name(name)
            expires_at = parse_expiry(expires, now())
        except TokenError as exc:
            fail(str(exc))

        async def work(conn: AsyncConnection, realm: Realm) -> store.Minted:
            return await store.create(
                conn,
                realm.table,
                realm.pepper,
                name=checked,
                scope=scope,
                expires_at=expires_at,
                tenant_id=realm.tenant_id,
            )

        minted = run(tenant, work, write=True)
        shown = store.to_json(minted.stored)
        if as_json:
            emit_json(
                {"name": checked, "token": minted.token, "scope": scope, "expires_at": shown["expires_at"]}
            )
            return
        click.echo(minted.token)
        until = f", expires {shown['expires_at']}" if shown["expires_at"] else ", never expires"
        click.echo(f"API token {checked!r} ({scope}{until}). Keep it now: it is not shown again.", err=True)

    @group.command("list")
    @click.option("--json", "as_json", is_flag=True)
    @per_tenant
    def list_command(as_json: bool, tenant: str | None = None) -> None:
        """Every token (live and revoked): name, scope, created, last used, expiry."""
        from enlist.api_tokens import store  # noqa: PLC0415 (only when the command runs)

        async def work(conn: AsyncConnection, realm: Realm) -> list[dict[str, Any]]:
            return [store.to_json(t) for t in await store.list_tokens(conn, realm.table, realm.tenant_id)]

        rows = run(tenant, work, write=False)
        if as_json:
            emit_json(rows)
            return
        if not rows:
            click.echo("No API tokens.")
        for row in rows:
            state = (
                f"revoked {row['revoked_at']}"
                if row["revoked_at"]
                else f"expires {row['expires_at'] or 'never'}"
            )
            click.echo(
                f"{row['name']}\t{row['scope']}\tcreated {row['created_at']}\t"
                f"last used {row['last_used_at'] or 'never'}\t{state}"
            )

    @group.command("revoke")
    @click.argument("name")
    @click.option("--json", "as_json", is_flag=True)
    @per_tenant
    def revoke(name: str, as_json: bool, tenant: str | None = None) -> None:
        """Revoke the live token NAME: it is refused from the next request on."""
        from enlist.api_tokens import store  # noqa: PLC0415 (only when the command runs)

        async def work(conn: AsyncConnection, realm: Realm) -> dict[str, Any]:
            return store.to_json(await store.revoke(conn, realm.table, name, realm.tenant_id))

        row = run(tenant, work, write=True)
        if as_json:
            emit_json(row)
        else:
            click.echo(f"Revoked API token {name!r}.")

    return group
