"""`enlist provisioning app …`: an application's whole life, as the Entra pages walk it."""

from __future__ import annotations

import shlex
import sys
from typing import TYPE_CHECKING, Any, NoReturn

import click

from enlist.cli.output import emit_json, fail
from enlist.cli.provisioning_common import read_secret, run

if TYPE_CHECKING:
    from enlist.provisioning.engine.runner import AppPausedError
    from enlist.provisioning.service import Service


@click.group()
def app() -> None:
    """Enterprise applications: create, connect, assign, start, pause, restart, sync."""


def settings_pairs(items: tuple[str, ...]) -> dict[str, str]:
    changes: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            fail(
                f"{item!r} is not KEY=VALUE",
                "for example: enlist provisioning app set Portal interval_minutes=20",
            )
        changes[key.strip()] = value
    return changes


@app.command("create")
@click.argument("name")
@click.option("--tenant-url", help="The application's Tenant URL (its SCIM root).")
@click.option("--secret-token", help="The application's Secret token; `-` reads it from stdin.")
@click.option("--json", "as_json", is_flag=True)
def create(name: str, tenant_url: str | None, secret_token: str | None, as_json: bool) -> None:
    """Create an application (non-gallery), with Entra's default mappings; connect it when the
    Tenant URL and Secret token are given."""
    from enlist.provisioning import operations  # noqa: PLC0415
    from enlist.provisioning.engine import status as app_status  # noqa: PLC0415

    if (tenant_url is None) != (secret_token is None):
        fail("give both --tenant-url and --secret-token, or neither (connect later with `app connect`)")

    async def work(service: Service) -> dict[str, Any]:
        token = read_secret(secret_token) if secret_token else None
        created = await operations.create_connected(service, name, tenant_url, token)
        return await app_status.describe(service, created)

    result = run(work)
    if as_json:
        emit_json(result)
    else:
        click.echo(f"Application {result['name']} created ({result['state']}).")
        if result["state"] == "not_configured":
            click.echo("Next: enlist provisioning app connect NAME --tenant-url URL --secret-token TOKEN")


@app.command("connect")
@click.argument("name")
@click.option("--tenant-url", required=True)
@click.option("--secret-token", required=True, help="`-` reads it from stdin.")
@click.option("--json", "as_json", is_flag=True)
def connect(name: str, tenant_url: str, secret_token: str, as_json: bool) -> None:
    """Save the Tenant URL and Secret token after a Test connection that passes (as Entra's
    Create button requires)."""
    from enlist.provisioning import operations  # noqa: PLC0415
    from enlist.provisioning.store import apps as app_store  # noqa: PLC0415

    async def work(service: Service) -> dict[str, Any]:
        token = read_secret(secret_token)
        if not token.strip():
            fail("the Secret token is empty", "pass the token the application gave you (or - to read stdin)")
        async with service.db.read() as conn:
            found = await app_store.get_app(conn, name)
        check = await operations.connect(service, found, tenant_url, token)
        if not check.ok:
            fail(
                f"Test connection failed: {check.message}",
                "nothing was saved; fix the Tenant URL or token and retry",
            )
        return {"ok": True, "message": check.message}

    result = run(work)
    emit_json(result) if as_json else click.echo(f"Connected: {result['message']}")


@app.command("test-connection")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def test_connection(name: str, as_json: bool) -> None:
    """Query the target for a random user, as Entra's Test connection does."""
    from enlist.provisioning import operations  # noqa: PLC0415
    from enlist.provisioning.store import apps as app_store  # noqa: PLC0415

    async def work(service: Service) -> dict[str, Any]:
        async with service.db.read() as conn:
            found = await app_store.get_app(conn, name)
        return await operations.check_saved_connection(service, found)

    result = run(work)
    if as_json:
        emit_json(result)
    else:
        click.echo(("OK: " if result["ok"] else "FAILED: ") + result["message"])
    if not result["ok"]:
        raise SystemExit(1)


def _assignment(command: str) -> Any:
    @app.command(command)
    @click.argument("name")
    @click.option("--user", "users", multiple=True, help="A user's userPrincipalName (repeatable).")
    @click.option("--group", "groups", multiple=True, help="A group's displayName or id (repeatable).")
    @click.option("--json", "as_json", is_flag=True)
    def change(name: str, users: tuple[str, ...], groups: tuple[str, ...], as_json: bool) -> None:
        from enlist.provisioning import operations  # noqa: PLC0415
        from enlist.provisioning.store import apps as app_store  # noqa: PLC0415

        if not users and not groups:
            fail(f"nothing to {command}: give --user UPN or --group NAME")

        async def work(service: Service) -> dict[str, Any]:
            async with service.db.read() as conn:
                found = await app_store.get_app(conn, name)
            try:
                return await operations.change_assignments_by_name(
                    service, found, list(users), list(groups), assign=command == "assign"
                )
            except LookupError as error:
                fail(str(error), "enlist provisioning directory import FILE loads them")

        result = run(work)
        if as_json:
            emit_json(result)
        else:
            click.echo(f"{command}ed {result['users']} user(s) and {result['groups']} group(s)")

    change.__doc__ = f"{command.capitalize()} users and groups (Users and groups page)."
    return change


_assignment("assign")
_assignment("unassign")


def _state_command(command: str, doc: str) -> None:
    @app.command(command, help=doc)
    @click.argument("name")
    def change(name: str) -> None:
        from enlist.provisioning import operations  # noqa: PLC0415
        from enlist.provisioning.store import apps as app_store  # noqa: PLC0415

        async def work(service: Service) -> str:
            async with service.db.read() as conn:
                found = await app_store.get_app(conn, name)
            return await operations.change_state(service, found, command)

        click.echo(f"{name}: {run(work)}")


_state_command("start", "Start provisioning: the first cycle runs now, then every interval.")
_state_command("pause", "Pause provisioning: the running cycle stops at the next object.")
_state_command("restart", "Restart provisioning: clear watermark, escrows, quarantine; keep links.")
_state_command("allow-deletes", "Let the next cycle send the deletions the threshold staged.")


@app.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, required=True, help="Yes: delete it (there is no undo).")
def delete(name: str, yes: bool) -> None:
    """Delete an application: its settings, assignments, links and provisioning logs. Nothing is
    sent to the target; refused while a cycle runs."""
    from enlist.provisioning import operations  # noqa: PLC0415
    from enlist.provisioning.store import apps as app_store  # noqa: PLC0415

    del yes  # required: a delete is never one typo away

    async def work(service: Service) -> None:
        async with service.db.read() as conn:
            found = await app_store.get_app(conn, name)
        await operations.delete_app(service, found)

    run(work)
    click.echo(f"deleted {name}")


@app.command("set")
@click.argument("name")
@click.argument("items", nargs=-1, required=True)
def set_settings(name: str, items: tuple[str, ...]) -> None:
    """Change settings (KEY=VALUE…): dialect, interval_minutes, scope, deletion_threshold,
    skip_out_of_scope_deletions, flatten_nested_groups, provision_groups, max_concurrency,
    max_requests_per_second, timeout_seconds, notification_email, log_retention_days; notifications:
    notify.quarantine, notify.staged_deletions, notify.cycle_failures, notify.source_failing (on or
    off), notify.quiet_minutes, notify.failure_percent, notify.source_failures, webhook_url,
    webhook_secret (`-` reads it from stdin)."""
    from enlist.provisioning import operations  # noqa: PLC0415
    from enlist.provisioning.engine.app_settings import AppSettings, field_of  # noqa: PLC0415
    from enlist.provisioning.store import apps as app_store  # noqa: PLC0415

    changes = settings_pairs(items)
    if changes.get("webhook_secret") == "-":
        changes["webhook_secret"] = read_secret("-")

    async def work(service: Service) -> AppSettings:
        async with service.db.read() as conn:
            found = await app_store.get_app(conn, name)
        return await operations.save_settings(service, found, changes)

    updated = run(work)

    def shown(key: str) -> str:
        if key == "webhook_secret":  # sealed: never printed back
            return "(set)" if updated.webhook_secret else "(none)"
        return str(getattr(updated, field_of(key)))

    click.echo(f"{name}: " + ", ".join(f"{k}={shown(k)}" for k in changes))


@app.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def show(name: str, as_json: bool) -> None:
    """Show an application: connection, settings, state (never the Secret token)."""
    from enlist.provisioning.engine import status as app_status  # noqa: PLC0415
    from enlist.provisioning.store import apps as app_store  # noqa: PLC0415

    async def work(service: Service) -> dict[str, Any]:
        async with service.db.read() as conn:
            found = await app_store.get_app(conn, name)
        return await app_status.describe(service, found)

    result = run(work)
    if as_json:
        emit_json(result)
        return
    click.echo(f"{result['name']}: {result['state']}  Tenant URL: {result['tenant_url'] or '-'}")
    for key, value in result["settings"].items():
        click.echo(f"  {key} = {value}")


@app.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_apps(as_json: bool) -> None:
    """List the applications."""
    from enlist.provisioning.engine import status as app_status  # noqa: PLC0415
    from enlist.provisioning.store import apps as app_store  # noqa: PLC0415

    async def work(service: Service) -> list[dict[str, Any]]:
        async with service.db.read() as conn:
            found = await app_store.list_apps(conn)
        return [await app_status.describe(service, a) for a in found]

    result = run(work)
    if as_json:
        emit_json(result)
    else:
        for item in result:
            click.echo(f"{item['name']:<30} {item['state']:<14} {item['tenant_url'] or '-'}")


@app.command("status")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def status(name: str, as_json: bool) -> None:
    """The Overview: state, quarantine, current cycle progress, last cycle, next cycle."""
    from enlist.provisioning.engine import status as app_status  # noqa: PLC0415
    from enlist.provisioning.store import apps as app_store  # noqa: PLC0415

    async def work(service: Service) -> dict[str, Any]:
        async with service.db.read() as conn:
            found = await app_store.get_app(conn, name)
        return await app_status.status(service, found)

    result = run(work)
    if as_json:
        emit_json(result)
        return
    click.echo(app_status.one_line(result))


def refuse_paused(error: AppPausedError, *, as_json: bool) -> NoReturn:
    """A paused application's `sync` or `provision-on-demand`: exit 1 with what to do. With
    `--json`, stdout carries `{"error": {"code": "AppPaused", "message", "hint"}}` for tools."""
    hint = f"start it first: enlist provisioning app start {shlex.quote(error.app_name)}"
    if as_json:
        emit_json({"error": {"code": "AppPaused", "message": str(error), "hint": hint}})
        sys.exit(1)
    fail(str(error), hint)


@app.command("sync")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def sync(name: str, as_json: bool) -> None:
    """Run one cycle now, in the foreground, and print its summary. A paused application is
    refused (exit 1, nothing sent): start it first."""
    from enlist.provisioning.engine.runner import AppPausedError, run_cycle  # noqa: PLC0415
    from enlist.provisioning.store import apps as app_store  # noqa: PLC0415

    show_bar = sys.stderr.isatty() and not as_json

    async def work(service: Service) -> dict[str, Any]:
        async with service.db.read() as conn:
            found = await app_store.get_app(conn, name)
        if not found.connected:
            fail(
                f"{found.name} is not connected",
                "enlist provisioning app connect NAME --tenant-url … --secret-token …",
            )
        try:
            if not show_bar:
                return (await run_cycle(service, found)).to_json()
            with click.progressbar(length=1, label=f"{found.name}", file=sys.stderr) as bar:

                async def progress(done: int, total: int) -> None:
                    bar.length = max(total, 1)
                    bar.update(done - bar.pos)

                return (await run_cycle(service, found, progress=progress)).to_json()
        except AppPausedError as error:
            refuse_paused(error, as_json=as_json)

    result = run(work)
    if as_json:
        emit_json(result)
    else:
        counts = ", ".join(
            f"{k} {result[k]}"
            for k in ("created", "updated", "disabled", "deleted", "skipped", "failed", "staged")
        )
        click.echo(f"{result['kind']} cycle {result['status']} in {result['duration_s']} s: {counts}")


@app.command("preview")
@click.argument("name")
@click.option("--initial", is_flag=True, help="Preview an initial cycle (everything, as after Restart).")
@click.option("--json", "as_json", is_flag=True)
@click.option("--format", "file_format", type=click.Choice(["text", "json", "csv"]), default="text")
def preview(name: str, initial: bool, as_json: bool, file_format: str) -> None:
    """Show what the next cycle would do, sending nothing to the target and keeping nothing: its
    counts and each planned change with old and new values. Matching reads the target."""
    from enlist.provisioning import operations  # noqa: PLC0415
    from enlist.provisioning.store import apps as app_store  # noqa: PLC0415

    async def work(service: Service) -> dict[str, Any]:
        async with service.db.read() as conn:
            found = await app_store.get_app(conn, name)
        if not found.connected:
            fail(
                f"{found.name} is not connected",
                "enlist provisioning app connect NAME --tenant-url … --secret-token …",
            )
        return await operations.preview(service, found.name, initial=initial)

    result = run(work)
    if as_json or file_format == "json":
        emit_json(result)
    elif file_format == "csv":
        _echo_preview_csv(result)
    else:
        _echo_preview(result)


def _echo_preview(result: dict[str, Any]) -> None:
    keys = ("created", "updated", "disabled", "deleted", "skipped", "failed", "staged")
    counts = ", ".join(f"{k} {result[k]}" for k in keys)
    click.echo(f"Preview of the next {result['kind']} cycle ({result['status']}), nothing sent: {counts}")
    if result["error"]:
        click.echo(f"error: {result['error']}")
    click.echo(
        f"Read the target {result['target_reads']} time(s), where the cycle would (Test connection, "
        f"matching); {result['writes_withheld']} write(s) withheld."
    )
    for item in result["items"]:
        click.echo(f"  {item['action']:<12} {item['kind']:<5} {item['object']}")
        for attribute, change in item["changes"].items():
            click.echo(f"      {attribute}: {change['old']!r} -> {change['new']!r}")


def _echo_preview_csv(result: dict[str, Any]) -> None:
    """Every CSV enlist writes goes through `csv_cells` (a value starting `=` is never a formula)."""
    from enlist.csv_cells import csv_line  # noqa: PLC0415
    from enlist.provisioning.engine.preview import CSV_COLUMNS, csv_rows  # noqa: PLC0415

    sys.stdout.write(csv_line(CSV_COLUMNS))
    for row in csv_rows(result["items"]):
        sys.stdout.write(csv_line(row.get(column, "") for column in CSV_COLUMNS))


@app.command("provision-on-demand")
@click.argument("name")
@click.option("--user", "upn", required=True, help="The user's userPrincipalName.")
@click.option("--json", "as_json", is_flag=True)
def on_demand(name: str, upn: str, as_json: bool) -> None:
    """Provision one user now and show each step."""
    from enlist.provisioning.engine.on_demand import provision_on_demand  # noqa: PLC0415
    from enlist.provisioning.engine.runner import AppPausedError  # noqa: PLC0415
    from enlist.provisioning.store import apps as app_store  # noqa: PLC0415

    async def work(service: Service) -> dict[str, Any]:
        async with service.db.read() as conn:
            found = await app_store.get_app(conn, name)
        if not found.connected:
            fail(f"{found.name} is not connected")
        try:
            return await provision_on_demand(service, found, upn)
        except AppPausedError as error:
            refuse_paused(error, as_json=as_json)

    result = run(work)
    if as_json:
        emit_json(result)
        return
    click.echo(f"{upn}: {result['action']} ({result['status']})")
    for step in result["steps"]:
        click.echo(f"  [{step['status']}] {step['provisioningStepType']}: {step['description']}")
