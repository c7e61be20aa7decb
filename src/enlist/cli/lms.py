"""`enlist lms`: serve the portal, manage tenants and their Secret tokens, read the sync log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

from enlist.cli.admins import admin_group
from enlist.cli.api_tokens import Realm, api_token_group
from enlist.cli.lms_departments import department
from enlist.cli.lms_notify import notify
from enlist.cli.output import emit_json, fail, log_format_option

if TYPE_CHECKING:  # `--help` loads no SQLAlchemy or portal: each command imports what it runs
    from sqlalchemy.ext.asyncio import AsyncConnection

    from enlist.db.database import Database
    from enlist.lms.api.runtime import Portal
    from enlist.lms.domain.tenants import Tenant

T = TypeVar("T")


def run(work: Callable[[Portal], Awaitable[T]]) -> T:
    """Open the portal's database (migrating it), run `work`, close it."""
    from enlist.lms import operations  # noqa: PLC0415 (the portal, only when a command runs)
    from enlist.lms.api.runtime import open_portal  # noqa: PLC0415
    from enlist.lms.store.department_tree import DepartmentError  # noqa: PLC0415
    from enlist.scim.errors import ScimError  # noqa: PLC0415
    from enlist.settings import load_settings  # noqa: PLC0415

    async def main() -> T:
        portal = await open_portal(load_settings())
        try:
            return await work(portal)
        finally:
            await portal.db.dispose()

    try:
        return asyncio.run(main())
    except DepartmentError:
        raise  # `enlist lms department` adds where to look (`run_department`)
    except operations.EXPECTED as exc:
        fail(str(exc))
    except ScimError as exc:
        fail(exc.detail)


def describe(tenant: Tenant, portal: Portal) -> dict[str, Any]:
    """The tenant as every front end shows it (`operations.describe_tenant`)."""
    from enlist.lms import operations  # noqa: PLC0415 (see run)

    described: dict[str, Any] = operations.describe_tenant(tenant, portal.public_url)
    return described


@click.group()
def lms() -> None:
    """The learning portal: its SCIM endpoint, tenants, Secret tokens and sync log."""


@lms.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes (docs/how-to/run-in-production.md).",
)
@log_format_option
def serve(host: str, port: int, workers: int, log_format: str | None) -> None:
    """Serve the portal (SCIM endpoint, admin API, GET /healthz)."""
    from enlist.lms.api.app import create_app  # noqa: PLC0415 (only this command needs the server)
    from enlist.settings import load_settings  # noqa: PLC0415
    from enlist.web.server import serve as run_server  # noqa: PLC0415

    settings = load_settings()
    click.echo(
        f"enlist portal on http://{host}:{port} (Tenant URLs start {settings.lms_public_url}/scim/v2/)"
    )
    if workers > 1:
        app = "enlist.lms.api.app:app_from_environment"
        run_server(app, host=host, port=port, settings=settings, workers=workers, log_format=log_format)
        return
    run_server(create_app(settings), host=host, port=port, settings=settings, log_format=log_format)


@lms.group()
def tenant() -> None:
    """Tenants (customer accounts) and their Secret tokens."""


@tenant.command("create")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the Tenant URL and Secret token as JSON.")
def tenant_create(name: str, as_json: bool) -> None:
    """Create a tenant and mint its first Secret token (shown once)."""
    from enlist.lms import operations  # noqa: PLC0415 (see run)

    async def work(portal: Portal) -> dict[str, Any]:
        async with portal.db.write() as conn:
            minted = await operations.create_tenant(conn, name, portal.peppers.current)
        return {**describe(minted.tenant, portal), "secret_token": minted.token}

    result = run(work)
    if as_json:
        emit_json(result)
        return
    click.echo(f"Tenant {result['tenant']} created.")
    click.echo(f"Tenant URL:   {result['tenant_url']}")
    click.echo(f"Secret token: {result['secret_token']}")
    click.echo(
        "Copy both into Entra ID (Provisioning > Connect your application); the token is not shown again."
    )


@tenant.command("rotate-token")
@click.argument("name")
@click.option(
    "--overlap",
    type=float,
    default=None,
    help="Hours the tokens in use keep working (default: the tenant's token_overlap_hours). 0 revokes them.",
)
@click.option("--json", "as_json", is_flag=True)
def tenant_rotate(name: str, overlap: float | None, as_json: bool) -> None:
    """Mint a new Secret token; the old ones keep working for the overlap window."""
    from enlist.lms import operations  # noqa: PLC0415 (see run)
    from enlist.lms.store import tenants as tenant_store  # noqa: PLC0415 (see run)

    async def work(portal: Portal) -> dict[str, Any]:
        async with portal.db.write() as conn:
            found = await tenant_store.get_tenant(conn, name)
            minted = await operations.rotate_token(conn, found, portal.peppers.current, overlap)
        return {
            **describe(found, portal),
            "secret_token": minted.token,
            "overlap_hours": minted.overlap_hours,
        }

    result = run(work)
    if as_json:
        emit_json(result)
        return
    click.echo(f"New Secret token: {result['secret_token']}")
    if result["overlap_hours"]:
        hours = result["overlap_hours"]
        click.echo(f"The previous token keeps working for {hours:g} h; update Entra ID before then.")
    else:
        click.echo("The previous tokens are revoked now: update Entra ID at once.")


@tenant.command("revoke-tokens")
@click.argument("name")
def tenant_revoke(name: str) -> None:
    """Revoke every Secret token of the tenant at once (mint a new one with rotate-token)."""
    from enlist.lms import operations  # noqa: PLC0415 (see run)
    from enlist.lms.store import tenants as tenant_store  # noqa: PLC0415 (see run)

    async def work(portal: Portal) -> int:
        async with portal.db.write() as conn:
            return await operations.revoke_tokens(conn, await tenant_store.get_tenant(conn, name))

    click.echo(
        f"{run(work)} token(s) revoked. `enlist lms tenant rotate-token {name} --overlap 0` mints a new one."
    )


@tenant.command("set")
@click.argument("name")
@click.argument("settings", nargs=-1, required=True)
def tenant_set(name: str, settings: tuple[str, ...]) -> None:
    """Change tenant policies: group_mode, placement, tie_break, delete_policy, seat_limit,
    required_fields, token_overlap_hours, log_retention_days, unknown_managers (KEY=VALUE …)."""
    from enlist.lms import operations  # noqa: PLC0415 (see run)
    from enlist.lms.store import tenants as tenant_store  # noqa: PLC0415 (see run)

    changes: dict[str, str] = {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep:
            fail(f"{item!r} is not KEY=VALUE", "for example: enlist lms tenant set acme seat_limit=500")
        changes[key.strip()] = value

    async def work(portal: Portal) -> dict[str, Any]:
        async with portal.db.write() as conn:
            found = await tenant_store.get_tenant(conn, name)
            saved = await operations.set_policy(conn, found, changes)
        return describe(saved.tenant, portal)

    result = run(work)
    click.echo(
        f"Tenant {result['tenant']}: " + ", ".join(f"{k}={_shown(result['policy'][k])}" for k in changes)
    )


@tenant.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def tenant_show(name: str, as_json: bool) -> None:
    """Show a tenant: Tenant URL, policies, tokens (never the tokens themselves)."""
    from enlist.lms import operations  # noqa: PLC0415 (see run)
    from enlist.lms.store import tenants as tenant_store  # noqa: PLC0415 (see run)

    async def work(portal: Portal) -> dict[str, Any]:
        async with portal.db.read() as conn:
            found = await tenant_store.get_tenant(conn, name)
            return await operations.tenant_details(conn, found, portal.public_url)

    result = run(work)
    if as_json:
        emit_json(result)
        return
    click.echo(f"Tenant {result['tenant']} ({result['name']})")
    click.echo(f"Tenant URL: {result['tenant_url']}")
    for key, value in result["policy"].items():
        click.echo(f"  {key} = {_shown(value)}")
    for token in result["tokens"]:
        state = "usable" if token["usable"] else "not usable"
        click.echo(f"  token {token['key_id']}… created {token['created_at']} ({state})")


@tenant.command("list")
@click.option("--json", "as_json", is_flag=True)
def tenant_list(as_json: bool) -> None:
    """List the tenants."""
    from enlist.lms.store import tenants as tenant_store  # noqa: PLC0415 (see run)

    async def work(portal: Portal) -> list[dict[str, Any]]:
        async with portal.db.read() as conn:
            return [describe(t, portal) for t in await tenant_store.list_tenants(conn)]

    result = run(work)
    if as_json:
        emit_json(result)
        return
    for item in result:
        click.echo(f"{item['tenant']:<24} {item['tenant_url']}")


@tenant.command("export")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["json", "yaml"]), default="yaml", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), help="Write here, not to stdout.")
def tenant_export(name: str, fmt: str, output: str | None) -> None:
    """Write the tenant's policies as one document (configuration as code)."""
    from enlist.lms import operations  # noqa: PLC0415 (see run)
    from enlist.lms.store import tenants as tenant_store  # noqa: PLC0415 (see run)

    async def work(portal: Portal) -> str:
        async with portal.db.read() as conn:
            found = await tenant_store.get_tenant(conn, name)
        return operations.export_policies(found, fmt)

    written = run(work)
    if output is None:
        click.echo(written, nl=False)
    else:
        with open(output, "w", encoding="utf-8") as handle:  # noqa: PTH123 (click gives a str path)
            handle.write(written)


@tenant.command("import")
@click.argument("file", type=click.File(encoding="utf-8"))
@click.option("--dry-run", is_flag=True, help="Check the document and show the difference; change nothing.")
@click.option("--json", "as_json", is_flag=True)
def tenant_import(file: Any, dry_run: bool, as_json: bool) -> None:
    """Create a tenant or bring its policies to a document `tenant export` wrote: show the
    difference, then apply it in one transaction. A bad document changes nothing."""
    from enlist.document_shape import DocumentError, load  # noqa: PLC0415 (only this command)
    from enlist.lms import operations  # noqa: PLC0415 (see run)

    try:
        data = load(file.read())
    except DocumentError as exc:
        fail(f"{file.name}: {exc}", "nothing was changed")

    async def work(portal: Portal) -> dict[str, Any]:
        try:
            async with portal.db.read() if dry_run else portal.db.write() as conn:
                done = await operations.import_policies(conn, data, portal.peppers.current, dry_run=dry_run)
        except DocumentError as exc:
            fail(f"{file.name}: {exc}", "nothing was changed")
        return done.to_json()

    result = run(work)
    if as_json:
        emit_json(result)
        return
    for line in result["changes"]:
        click.echo(line)
    if not result["changes"]:
        click.echo(f"Tenant {result['tenant']}: no changes")
    elif dry_run:
        count = len(result["changes"])
        click.echo(f"Tenant {result['tenant']}: would change ({count}); dry run: nothing was changed")
    else:
        click.echo(f"Tenant {result['tenant']}: {'created' if result['created'] else 'updated'}")
    if "secret_token" in result:
        click.echo(f"Secret token (shown once): {result['secret_token']}")


@lms.command("log")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as a JSON array.")
@click.option("--format", "export", type=click.Choice(["csv", "jsonl"]), help="Export every matching entry.")
@click.option("--status", help="success, failure, or an HTTP status such as 409.")
@click.option("--since", help="ISO 8601 date-time.")
@click.option("--until", help="ISO 8601 date-time.")
@click.option("--resource-type", type=click.Choice(["User", "Group"]))
@click.option("--resource-id")
@click.option("--search", "text", help="Text in the resource name, path or error.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option(
    "--prune", is_flag=True, help="Delete entries older than the tenant's log_retention_days first."
)
def log(
    name: str,
    as_json: bool,
    export: str | None,
    status: str | None,
    since: str | None,
    until: str | None,
    resource_type: str | None,
    resource_id: str | None,
    text: str | None,
    limit: int,
    prune: bool,
) -> None:
    """The tenant's sync log, newest first: every SCIM change with old and new values."""
    from enlist.lms import operations  # noqa: PLC0415 (see run)
    from enlist.lms.domain.synclog_export import csv_header, csv_row, jsonl_row  # noqa: PLC0415
    from enlist.lms.store import synclog  # noqa: PLC0415
    from enlist.lms.store import tenants as tenant_store  # noqa: PLC0415 (see run)

    params = {
        k: v
        for k, v in {
            "status": status,
            "since": since,
            "until": until,
            "resource_type": resource_type,
            "resource_id": resource_id,
            "q": text,
            "limit": str(limit),
        }.items()
        if v
    }

    async def work(portal: Portal) -> list[dict[str, Any]]:
        from enlist.lms.api.admin import log_query  # noqa: PLC0415 (it loads the metrics; only `log` needs it)

        query = log_query(params)
        if prune:
            async with portal.db.write() as conn:
                await operations.prune_sync_log(conn, await tenant_store.get_tenant(conn, name))
        async with portal.db.read() as conn:
            found = await tenant_store.get_tenant(conn, name)
            if export:
                return [e async for e in synclog.stream(conn, found.id, query)]
            return await synclog.read(conn, found.id, query)

    entries = run(work)
    if export == "csv":
        click.echo(csv_header() + "".join(csv_row(e) for e in entries), nl=False)
    elif export == "jsonl":
        click.echo("".join(jsonl_row(e) for e in entries), nl=False)
    elif as_json:
        emit_json(entries)
    else:
        for e in entries:
            changed = ", ".join(c["attribute"] for c in e["changes"]) or (e["error"] or "")
            click.echo(
                f"{e['at'][:19]}  {e['status']}  {e['action']:<10} {e['resource_type'] or '-':<5} "
                f"{e['resource_name'] or e['path']}  {changed}"
            )
        if not entries:
            click.echo("No sync log entries match.")


lms.add_command(department)
lms.add_command(notify)


@asynccontextmanager
async def _portal_database() -> AsyncIterator[Database]:
    from enlist.lms.api.runtime import open_portal  # noqa: PLC0415 (see run)
    from enlist.settings import load_settings  # noqa: PLC0415

    portal = await open_portal(load_settings())
    try:
        yield portal.db
    finally:
        await portal.db.dispose()


async def _tenant_slug(conn: AsyncConnection, name_or_slug: str) -> str:
    from enlist.lms.store import tenants as tenant_store  # noqa: PLC0415 (see run)

    return (await tenant_store.get_tenant(conn, name_or_slug)).slug


lms.add_command(admin_group(_portal_database, "learning portal", "the portal's address", _tenant_slug))


@asynccontextmanager
async def _token_realm(tenant: str | None) -> AsyncIterator[Realm]:
    from enlist.api_tokens.model import TokenError  # noqa: PLC0415 (only token commands need these)
    from enlist.lms.api.runtime import open_portal  # noqa: PLC0415
    from enlist.lms.api_tokens import api_tokens  # noqa: PLC0415
    from enlist.lms.store import tenants as tenant_store  # noqa: PLC0415
    from enlist.settings import load_settings  # noqa: PLC0415

    portal = await open_portal(load_settings())
    try:
        tenant_id = None
        if tenant is not None:
            async with portal.db.read() as conn:
                found = await tenant_store.find_tenant(conn, tenant)
            if found is None:
                raise TokenError(f"no tenant {tenant!r}; `enlist lms tenant list` shows them")
            tenant_id = found.id
        yield Realm(portal.db, api_tokens, portal.peppers.current, tenant_id)
    finally:
        await portal.db.dispose()


lms.add_command(api_token_group(_token_realm, tenants=True))


def _shown(value: object) -> str:
    """A policy value as a person reads it (lists comma-separated, None as unset)."""
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "(none)"
    return "(unset)" if value is None else str(value)
