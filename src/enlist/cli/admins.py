"""`enlist lms admin …` and `enlist provisioning admin …`: the accounts that sign in to the pages.

The password is read from standard input (one line), never from an argument, so it stays out of
shell history and process lists: `printf '%s\n' "$PASSWORD" | enlist lms admin create ann@example.com`.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, TypeVar

import click

from enlist.cli.output import emit_json, fail

if TYPE_CHECKING:  # `admin --help` loads neither SQLAlchemy nor the accounts' hashing
    from sqlalchemy.ext.asyncio import AsyncConnection

    from enlist.db.database import Database

T = TypeVar("T")
OpenDatabase = Callable[[], AbstractAsyncContextManager["Database"]]


def _read_password() -> str:
    if sys.stdin.isatty():
        first = click.prompt("Password", hide_input=True, err=True)
        again = click.prompt("Repeat the password", hide_input=True, err=True)
        if first != again:
            fail("the two passwords differ; nothing was changed")
        return str(first)
    line = sys.stdin.readline()
    if not line:
        fail(
            "no password on standard input", hint="printf '%s\\n' \"$PASSWORD\" | enlist … admin create EMAIL"
        )
    return line.rstrip("\r\n")


def admin_group(  # noqa: PLR0915 (its commands are closures over its arguments, imports included)
    open_database: OpenDatabase,
    where: str,
    serve_hint: str,
    check_tenant: Callable[[AsyncConnection, str], Awaitable[str]] | None = None,
) -> click.Group:
    """The `admin` command group for one service (`where` names it in messages). With
    `check_tenant`, `admin create --tenant SLUG` makes an admin who sees only that tenant."""

    def run(work: Callable[[AsyncConnection], Awaitable[T]], *, write: bool) -> T:
        from enlist.web import accounts  # noqa: PLC0415 (only when a command runs)
        from enlist.web.passwords import WeakPasswordError  # noqa: PLC0415

        async def main() -> T:
            async with open_database() as db:
                if write:
                    async with db.write() as conn:
                        return await work(conn)
                async with db.read() as conn:
                    return await work(conn)

        try:
            return asyncio.run(main())
        except (accounts.AdminExistsError, WeakPasswordError, LookupError, ValueError) as exc:
            fail(str(exc).strip("'\""))

    @click.group(name="admin")
    def admin() -> None:
        """Accounts that sign in to the admin pages (passwords from standard input)."""

    def create(email: str, as_json: bool, tenant: str | None = None) -> None:
        """Create an admin who signs in with EMAIL and the password read from standard input."""
        from enlist.web import accounts  # noqa: PLC0415 (only when a command runs)

        try:
            accounts.normalise_email(email)
        except ValueError as exc:
            fail(str(exc))
        password = _read_password()

        async def work(conn: AsyncConnection) -> accounts.Admin:
            slug = await check_tenant(conn, tenant) if tenant is not None and check_tenant else None
            return await accounts.create_admin(conn, email, password, slug)

        made = run(work, write=True)
        if as_json:
            emit_json({"email": made.email, "id": made.id, "tenant": made.tenant})
        else:
            click.echo(f"Admin {made.email} created for the {where}. Sign in at {serve_hint}/admin/login")

    create = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(create)
    if check_tenant is not None:
        create = click.option("--tenant", help="Only this tenant's pages (default: every tenant).")(create)
    admin.command("create")(click.argument("email")(create))

    @admin.command("set-password")
    @click.argument("email")
    def set_password(email: str) -> None:
        """Give EMAIL the password read from standard input, and sign them out everywhere."""
        from enlist.web import accounts  # noqa: PLC0415 (only when a command runs)

        password = _read_password()
        changed = run(lambda conn: accounts.set_password(conn, email, password), write=True)
        click.echo(f"Password of {changed.email} changed; their sessions have ended.")

    @admin.command("list")
    @click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
    def list_(as_json: bool) -> None:
        """List the admins."""
        from enlist.web import accounts  # noqa: PLC0415 (only when a command runs)

        found = run(accounts.list_admins, write=False)
        if as_json:
            emit_json([{"email": a.email, "id": a.id, "tenant": a.tenant} for a in found])
        elif not found:
            click.echo(f"No admins yet for the {where}: create one with `admin create EMAIL`.")
        else:
            for a in found:
                click.echo(a.email + (f" (tenant {a.tenant})" if a.tenant else ""))

    @admin.command("delete")
    @click.argument("email")
    def delete(email: str) -> None:
        """Remove an admin; their sessions end at once."""
        from enlist.web import accounts  # noqa: PLC0415 (only when a command runs)

        removed = run(lambda conn: accounts.delete_admin(conn, email), write=True)
        if not removed:
            fail(f"there is no admin {email}")
        click.echo(f"Admin {email} removed.")

    return admin
