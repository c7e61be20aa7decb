"""`enlist provisioning source …`: the directory's sources (a drop folder of HR files, Entra ID
through Microsoft Graph, an LDAP server or Active Directory, a SCIM push endpoint): add, list,
show, test, sync, set, pause, resume, remove, each with `--json` for tools."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from enlist.cli.output import emit_json, fail
from enlist.cli.provisioning_apps import settings_pairs
from enlist.cli.provisioning_common import read_secret, run

if TYPE_CHECKING:  # `source --help` loads no engine: each command imports the operations it runs
    from enlist.provisioning.service import Service

T = TypeVar("T")

# The options' defaults, here so that `--help` shows them without importing the operations;
# tests/cli/test_startup_imports.py checks they are the operations' own.
GRAPH_URL = "https://graph.microsoft.com"
LOGIN_URL = "https://login.microsoftonline.com"
DEFAULT_OVERLAP_MINUTES = 60


def _run(work: Callable[[Service], Awaitable[T]]) -> T:
    """`run`, with a source's expected failures printed as one line too (exit 1)."""
    from enlist.provisioning.sources.apply import RoundHeldError  # noqa: PLC0415 (only when run)
    from enlist.provisioning.sources.model import SourceUnavailableError  # noqa: PLC0415
    from enlist.provisioning.sources.read import SourceBusyError  # noqa: PLC0415

    try:
        return run(work)
    except (SourceUnavailableError, RoundHeldError, SourceBusyError) as exc:
        fail(str(exc))


@click.group()
def source() -> None:
    """The directory's sources: where its users and groups come from."""


@source.command("add")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice(["file", "graph", "ldap", "scim-push"]))
@click.option(
    "--path", "folder", type=click.Path(file_okay=False, path_type=Path), help="file: the drop folder."
)
@click.option("--tenant-id", default="", help="graph: the Entra tenant (directory) id.")
@click.option("--client-id", default="", help="graph: the app registration's client id.")
@click.option("--client-secret", default=None, help="graph: the client secret, or - to read it from stdin.")
@click.option(
    "--certificate",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="graph: a PEM file with the certificate and its private key (instead of a secret).",
)
@click.option("--graph-url", default=GRAPH_URL, show_default=True)
@click.option("--login-url", default=LOGIN_URL, show_default=True)
@click.option(
    "--url", "urls", multiple=True, help="ldap: ldap://HOST[:PORT] or ldaps://…; repeat for fallbacks."
)
@click.option("--bind-dn", default="", help="ldap: the DN (or AD UPN) the source binds as.")
@click.option("--bind-password", default=None, help="ldap: the bind password, or - to read it from stdin.")
@click.option(
    "--base-dn", "base_dns", multiple=True, help="ldap: where users and groups are read; repeatable."
)
@click.option("--user-filter", default=None, help="ldap: the LDAP filter that selects users.")
@click.option("--group-filter", default=None, help="ldap: the LDAP filter that selects groups.")
@click.option(
    "--ca-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="ldap: PEM file of the CA(s) that signed the server's certificate.",
)
@click.option("--start-tls", is_flag=True, help="ldap: upgrade an ldap:// connection with StartTLS.")
@click.option("--page-size", type=int, default=None, help="ldap: entries per page of a read (500).")
@click.option("--timeout", type=float, default=None, help="ldap: seconds an LDAP operation may take (60).")
@click.option("--connect-timeout", type=float, default=None, help="ldap: seconds to connect (10).")
@click.option(
    "--dialect", type=click.Choice(["auto", "ad", "openldap"]), default=None, help="ldap: default auto."
)
@click.option(
    "--delta",
    type=click.Choice(["auto", "syncrepl", "timestamp", "usn", "dirsync", "none"]),
    default=None,
    help="ldap: how changes are found (default auto: the best the server offers).",
)
@click.option("--json", "as_json", is_flag=True)
def add(
    name: str,
    kind: str,
    folder: Path | None,
    tenant_id: str,
    client_id: str,
    client_secret: str | None,
    certificate: Path | None,
    graph_url: str,
    login_url: str,
    urls: tuple[str, ...],
    bind_dn: str,
    bind_password: str | None,
    base_dns: tuple[str, ...],
    user_filter: str | None,
    group_filter: str | None,
    ca_file: Path | None,
    start_tls: bool,
    page_size: int | None,
    timeout: float | None,
    connect_timeout: float | None,
    dialect: str | None,
    delta: str | None,
    as_json: bool,
) -> None:
    """Add a source; it is read on its interval (5 minutes) from now."""
    from enlist.provisioning.sources import commands  # noqa: PLC0415 (only when run)

    options: dict[str, Any] = {
        "path": str(folder) if folder is not None else None,
        "tenant_id": tenant_id,
        "client_id": client_id,
        "client_secret": read_secret(client_secret) if client_secret is not None else None,
        "certificate": certificate.read_text(encoding="utf-8") if certificate is not None else None,
        "graph_url": graph_url,
        "login_url": login_url,
        "url": list(urls),
        "bind_dn": bind_dn,
        "bind_password": read_secret(bind_password) if bind_password is not None else None,
        "base_dn": list(base_dns),
        "user_filter": user_filter,
        "group_filter": group_filter,
        "ca_file": str(ca_file.resolve()) if ca_file else None,
        "start_tls": start_tls,
        "page_size": page_size,
        "timeout": timeout,
        "connect_timeout": connect_timeout,
        "dialect": dialect,
        "delta": delta,
    }
    try:  # a bad option fails here, before the database is opened
        commands.settings_of(kind, options)
    except ValueError as exc:
        fail(str(exc))

    async def work(service: Service) -> dict[str, Any]:
        return await commands.add(service, name, kind, options)

    result = _run(work)
    if as_json:
        emit_json(result)  # a push source: exactly {"name", "base_url", "token"}, the token shown once
        return
    if kind == "scim-push":
        click.echo(f"Added push source {result['name']}. SCIM clients write to:\n  {result['base_url']}")
        click.echo(f"Its bearer token (shown once; store it in the client now):\n  {result['token']}")
        return
    click.echo(
        f"Added source {result['name']} ({result['kind']}); "
        f"it is read every {result['interval_minutes']} minutes."
    )


@source.command("rotate-token")
@click.argument("name")
@click.option(
    "--overlap-minutes",
    default=DEFAULT_OVERLAP_MINUTES,
    show_default=True,
    type=click.IntRange(min=0),
    help="How long the previous token(s) keep working (0: stop at once).",
)
@click.option("--json", "as_json", is_flag=True)
def rotate_token(name: str, overlap_minutes: int, as_json: bool) -> None:
    """Mint a new bearer token for a push source (shown once); the old one works for the overlap."""
    from enlist.provisioning.sources.push import operations as push_operations  # noqa: PLC0415 (only when run)

    async def work(service: Service) -> dict[str, Any]:
        try:
            return await push_operations.rotate_token(service, name, overlap_minutes)
        except ValueError as exc:
            fail(str(exc))

    result = _run(work)
    if as_json:
        emit_json(result)
        return
    click.echo(f"New token for {result['name']} (shown once):\n  {result['token']}")
    until = result["previous_tokens_until"]
    click.echo(f"Previous tokens work until {until}." if until else "Previous tokens no longer work.")


@source.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_sources(as_json: bool) -> None:
    """Every source, its state and its last read."""
    from enlist.provisioning.sources import operations  # noqa: PLC0415 (only when run)

    async def work(service: Service) -> list[dict[str, Any]]:
        return await operations.describe_all(service)

    result = _run(work)
    if as_json:
        emit_json(result)
        return
    for item in result:
        last = item["last_read"]
        click.echo(f"{item['name']}\t{item['kind']}\t{item['state']}\tlast read: {last['status'] or 'never'}")


@source.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def show(name: str, as_json: bool) -> None:
    """A source's settings (never its secrets), state, last read and next read."""
    from enlist.provisioning.sources import operations  # noqa: PLC0415 (only when run)

    async def work(service: Service) -> dict[str, Any]:
        return await operations.describe(service, name)

    result = _run(work)
    if as_json:
        emit_json(result)
        return
    for key, value in result.items():
        click.echo(f"{key}: {value}")
    # An LDAP source's custom attributes, one line each: the directory attribute <- LDAP's.
    for extension, attribute in (result["settings"].get("attributes") or {}).items():
        click.echo(f"attribute: {extension} <- {attribute}")


@source.command("test")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def test(name: str, as_json: bool) -> None:
    """Reach the source with its credentials, and say exactly what is wrong (exit 1 if anything)."""
    from enlist.provisioning.sources import commands  # noqa: PLC0415 (only when run)

    async def work(service: Service) -> dict[str, Any]:
        return await commands.test(service, name)

    result = _run(work)
    if as_json:
        emit_json(result)
    else:
        click.echo(("OK: " if result["ok"] else "FAILED: ") + result["message"])
    if not result["ok"]:
        sys.exit(1)


@source.command("sync")
@click.argument("name")
@click.option("--full", is_flag=True, help="Read everything, not only the changes since the last read.")
@click.option(
    "--allow-deletes", is_flag=True, help="Apply a read that removes more than the deletion threshold."
)
@click.option("--json", "as_json", is_flag=True)
def sync(name: str, full: bool, allow_deletes: bool, as_json: bool) -> None:
    """One read of the source now; the directory changes only if the whole read succeeds."""
    from enlist.provisioning.sources import commands  # noqa: PLC0415 (only when run)

    show_bar = sys.stderr.isatty() and not as_json

    def progress(count: int) -> None:
        # A round's size is not known before its last page: a running count, not a percentage.
        click.echo(f"\r{name}: {count:,} records read", nl=False, err=True)

    async def work(service: Service) -> dict[str, Any]:
        try:
            return await commands.sync(
                service, name, full=full, allow_deletes=allow_deletes, progress=progress if show_bar else None
            )
        finally:
            if show_bar:
                click.echo("", err=True)

    result = _run(work)
    if as_json:
        emit_json(result)
        return
    if result.get("read") is False:
        click.echo(result["message"])
        return
    counts = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in result.items() if isinstance(v, int))
    click.echo(f"{result['source']} ({result['kind']} read): {counts}")
    for conflict in result["conflicts"]:
        click.echo(
            f"conflict: {conflict['userPrincipalName']} belongs to {conflict['owner']}; not applied", err=True
        )
    for warning in result["warnings"]:
        click.echo(f"warning: {warning}", err=True)


@source.command("set")
@click.argument("name")
@click.argument("items", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True)
def set_settings(name: str, items: tuple[str, ...], as_json: bool) -> None:
    """Change settings: interval_minutes, deletion_threshold, start_cycles_after_read, path,
    filters, client_secret (- reads stdin), an LDAP source's attributes.NAME=ldapAttribute
    (empty: removed), … (KEY=VALUE). A key the source's kind does not take is refused."""
    from enlist.provisioning.sources import operations  # noqa: PLC0415 (only when run)

    changes = settings_pairs(items)
    for key in ("client_secret", "certificate", "bind_password"):
        if changes.get(key) == "-":
            changes[key] = read_secret("-")

    async def work(service: Service) -> dict[str, Any]:
        return (await operations.configure(service, name, changes)).to_json()

    result = _run(work)
    emit_json(result) if as_json else click.echo(f"Saved the settings of {result['name']}.")


def _state_command(command: str, doc: str) -> None:
    @source.command(command, help=doc)
    @click.argument("name")
    @click.option("--json", "as_json", is_flag=True)
    def change(name: str, as_json: bool) -> None:
        from enlist.provisioning.sources import operations  # noqa: PLC0415 (only when run)

        async def work(service: Service) -> str:
            return await operations.change_state(service, name, command)

        state = _run(work)
        emit_json({"source": name, "state": state}) if as_json else click.echo(f"{name}: {state}")


_state_command("pause", "Stop reading the source on its interval (`source sync` still reads it).")
_state_command("resume", "Read the source on its interval again, starting now.")


@source.command("remove")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def remove(name: str, as_json: bool) -> None:
    """Remove the source. Its users and groups stay in the directory, managed by hand from now on."""
    from enlist.provisioning.sources import operations  # noqa: PLC0415 (only when run)

    async def work(service: Service) -> int:
        return await operations.remove(service, name)

    handed = _run(work)
    if as_json:
        emit_json({"source": name, "removed": True, "objects_kept": handed})
    else:
        click.echo(f"Removed {name}; its {handed} users and groups stay in the directory, managed by hand.")
