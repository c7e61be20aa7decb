"""`enlist provisioning`: the provisioning service — serve it, load its directory, manage
applications (connect, Test connection, assignments, settings, start, pause, restart, sync,
provision on demand) and read the provisioning logs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from enlist.cli.lazy import Lazy, LazyGroup
from enlist.cli.output import emit_json, log_format_option

if TYPE_CHECKING:
    from enlist.cli.api_tokens import Realm
    from enlist.db.database import Database
    from enlist.provisioning.service import Service

# Subcommands imported only when one of them runs: `provisioning --help` loads none of them.
SUBCOMMANDS: dict[str, Lazy] = {
    "app": Lazy(
        "enlist.cli.provisioning_apps:app",
        "Enterprise applications: create, connect, assign, start, pause, restart, sync.",
        registers=("enlist.cli.provisioning_config", "enlist.cli.provisioning_mappings"),
    ),
    "logs": Lazy(
        "enlist.cli.provisioning_logs:logs", "Provisioning log records of an application, newest first."
    ),
    "source": Lazy(
        "enlist.cli.provisioning_sources:source",
        "The directory's sources: where its users and groups come from.",
    ),
    "notify": Lazy(
        "enlist.cli.provisioning_notify:notify",
        "Notifications by email and webhook: test, send, list, seal-password.",
    ),
    "admin": Lazy(
        "enlist.cli.provisioning:admin_commands",
        "Accounts that sign in to the admin pages (passwords from standard input).",
    ),
    "api-token": Lazy(
        "enlist.cli.provisioning:api_token_commands",
        "API tokens for scripts and CI: sent as `Authorization: Bearer <token>` to the JSON API and "
        "to GET /metrics.",
    ),
}


@click.group(cls=LazyGroup, lazy=SUBCOMMANDS)
def provisioning() -> None:
    """The provisioning service: applications, cycles, provisioning logs, its directory."""


@provisioning.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes (docs/how-to/run-in-production.md).",
)
@click.option("--no-scheduler", is_flag=True, help="Serve only; let other processes run the cycles.")
@log_format_option
def serve(host: str, port: int, workers: int, no_scheduler: bool, log_format: str | None) -> None:
    """Serve the provisioning service (GET /healthz, JSON API) and run due cycles."""
    from enlist.provisioning.api.app import create_app  # noqa: PLC0415 (only this command needs it)
    from enlist.settings import load_settings  # noqa: PLC0415
    from enlist.web.server import serve as run_server  # noqa: PLC0415

    settings = load_settings()
    click.echo(f"enlist provisioning service on http://{host}:{port}")
    if workers > 1:  # each worker runs a scheduler; the leases let one run each cycle and read
        factory = "app_without_scheduler_from_environment" if no_scheduler else "app_from_environment"
        app = f"enlist.provisioning.api.app:{factory}"
        run_server(app, host=host, port=port, settings=settings, workers=workers, log_format=log_format)
        return
    run_server(
        create_app(settings, scheduler=not no_scheduler),
        host=host,
        port=port,
        settings=settings,
        log_format=log_format,
    )


@provisioning.group()
def directory() -> None:
    """The built-in source directory (users, groups, nested groups)."""


@directory.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Soft-delete whatever the file lacks.")
@click.option("--json", "as_json", is_flag=True)
def directory_import(file: Path, replace: bool, as_json: bool) -> None:
    """Load users and groups from JSON ({"users": […], "groups": […]}) or users from CSV."""
    from enlist.provisioning import operations  # noqa: PLC0415
    from enlist.provisioning.directory.reading import read_directory_path  # noqa: PLC0415

    async def work(service: Service) -> dict[str, Any]:
        # A bad file fails here, before anything is written.
        data = read_directory_path(file, max_bytes=service.settings.max_directory_file_bytes)
        return await operations.import_directory_data(service, data, replace=replace)

    from enlist.cli.provisioning_common import run  # noqa: PLC0415

    result = run(work)
    if as_json:
        emit_json(result)
    else:
        click.echo(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in result.items()))


@directory.command("export")
@click.option(
    "--format", "file_format", type=click.Choice(["json", "csv"]), default="json", show_default=True
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write here, not to stdout."
)
def directory_export(file_format: str, output: Path | None) -> None:
    """Write the hand-imported users and groups in the format `directory import` reads (CSV:
    users only)."""
    from enlist.provisioning import operations  # noqa: PLC0415

    async def work(service: Service) -> str:
        return await operations.export_directory(service, file_format)

    from enlist.cli.provisioning_common import run  # noqa: PLC0415

    text = run(work)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@provisioning.command("reseal-secrets")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def reseal_secrets(as_json: bool) -> None:
    """Re-encrypt every stored target Secret token and source secret under the current ENLIST_SECRET_KEY.

    Run it after adding a new key (the old one in ENLIST_PREVIOUS_SECRET_KEYS); then the old key
    can go. All or nothing: if one token opens with none of the keys, nothing is changed.
    """

    from enlist.cli.provisioning_common import run  # noqa: PLC0415
    from enlist.provisioning.sources import store as source_store  # noqa: PLC0415
    from enlist.provisioning.store import apps as app_store  # noqa: PLC0415

    async def work(service: Service) -> tuple[int, int]:
        async with service.db.write() as conn:  # targets' tokens and sources' secrets, or none
            tokens = await app_store.reseal_tokens(conn, service.secrets.reseal)
            return tokens, await source_store.reseal_secrets(conn, service.secrets.reseal)

    count, sources_count = run(work)
    if as_json:
        emit_json({"resealed": count, "sources_resealed": sources_count})
    else:
        click.echo(
            f"Re-sealed {count} Secret token(s) and the secrets of {sources_count} source(s) under "
            "the current key. Check with the new key alone "
            "(ENLIST_PREVIOUS_SECRET_KEYS= enlist provisioning app test-connection NAME), "
            "then drop the old key."
        )


@asynccontextmanager
async def _service_database() -> AsyncIterator[Database]:
    from enlist.provisioning.service import open_service  # noqa: PLC0415
    from enlist.settings import load_settings  # noqa: PLC0415

    service = await open_service(load_settings())
    try:
        yield service.db
    finally:
        await service.db.dispose()


def admin_commands() -> click.Group:
    """`provisioning admin`, built when it runs (admins.py loads SQLAlchemy and the web stack)."""
    from enlist.cli.admins import admin_group  # noqa: PLC0415

    return admin_group(_service_database, "provisioning service", "the service's address")


@asynccontextmanager
async def _token_realm(tenant: str | None) -> AsyncIterator[Realm]:
    from enlist.cli.api_tokens import Realm  # noqa: PLC0415
    from enlist.provisioning.api_tokens import api_tokens  # noqa: PLC0415
    from enlist.provisioning.service import open_service  # noqa: PLC0415
    from enlist.settings import load_settings  # noqa: PLC0415
    from enlist.web.peppers import load_peppers  # noqa: PLC0415 (only token commands need it)

    del tenant  # the provisioning service has no tenants
    service = await open_service(load_settings())
    try:
        yield Realm(service.db, api_tokens, load_peppers(service.settings).current)
    finally:
        await service.db.dispose()


def api_token_commands() -> click.Group:
    """`provisioning api-token`, built when it runs."""
    from enlist.cli.api_tokens import api_token_group  # noqa: PLC0415

    return api_token_group(_token_realm, tenants=False)
