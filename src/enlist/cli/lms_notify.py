"""`enlist lms notify …`: a tenant's alerts by email and webhook (set, show, test), and `send`,
which delivers what is due now (what `serve` does every few seconds)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from enlist.cli.output import emit_json, fail, show_sent, show_test_deliveries

if TYPE_CHECKING:
    from enlist.lms.api.runtime import Portal

T = TypeVar("T")


def _run(work: Callable[[Portal], Awaitable[T]]) -> T:
    from enlist.cli.lms import run  # noqa: PLC0415 (the group's runner; imported when a command runs)
    from enlist.lms.notify.operations import NotificationSettingError  # noqa: PLC0415

    try:
        return run(work)
    except NotificationSettingError as exc:
        fail(str(exc))


@click.group()
def notify() -> None:
    """A tenant's alerts (the seat limit reached) by email and webhook: set, show, test, send."""


@notify.command("set")
@click.argument("tenant")
@click.argument("settings", nargs=-1, required=True)
def set_settings(tenant: str, settings: tuple[str, ...]) -> None:
    """Change TENANT's notification settings: email=, webhook_url=, webhook_secret=,
    quiet_minutes=, seat_limit=on|off (an empty value unsets a channel)."""
    from enlist.lms.notify import operations  # noqa: PLC0415
    from enlist.lms.store import tenants as tenant_store  # noqa: PLC0415

    changes: dict[str, str] = {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep:
            fail(f"{item!r} is not key=value")
        changes[key.strip()] = value

    async def work(portal: Portal) -> dict[str, Any]:
        async with portal.db.read() as conn:
            found = await tenant_store.get_tenant(conn, tenant)
        return operations.shown(found, await operations.configure(portal, found, changes))

    shown = _run(work)
    click.echo(f"saved: {', '.join(sorted(changes))} for {shown['tenant']}")


@notify.command("show")
@click.argument("tenant")
@click.option("--json", "as_json", is_flag=True)
def show(tenant: str, as_json: bool) -> None:
    """TENANT's notification settings (the webhook secret only as set or not)."""
    from enlist.lms.notify import operations  # noqa: PLC0415
    from enlist.lms.store import tenants as tenant_store  # noqa: PLC0415

    async def work(portal: Portal) -> dict[str, Any]:
        async with portal.db.read() as conn:
            found = await tenant_store.get_tenant(conn, tenant)
        return operations.shown(found, await operations.current(portal, found))

    shown = _run(work)
    if as_json:
        emit_json(shown)
        return
    for key, value in shown.items():
        if key == "kinds":
            for kind, on in value.items():
                click.echo(f"{kind}: {'on' if on else 'off'}")
        else:
            click.echo(f"{key}: {'(unset)' if value is None else value}")


@notify.command("test")
@click.argument("tenant")
@click.option("--json", "as_json", is_flag=True)
def test(tenant: str, as_json: bool) -> None:
    """Send a test notification now to TENANT's email and webhook."""
    from enlist.lms.notify.operations import send_test  # noqa: PLC0415
    from enlist.lms.store import tenants as tenant_store  # noqa: PLC0415

    async def work(portal: Portal) -> list[dict[str, Any]]:
        async with portal.db.read() as conn:
            found = await tenant_store.get_tenant(conn, tenant)
        return [o.to_json() for o in await send_test(portal, found)]

    show_test_deliveries(_run(work), as_json, {"tenant": tenant})


@notify.command("send")
@click.option("--json", "as_json", is_flag=True)
def send(as_json: bool) -> None:
    """Deliver every due portal notification now (what `serve` does every few seconds)."""
    from enlist.lms.notify.sending import send_due  # noqa: PLC0415

    async def work(portal: Portal) -> list[dict[str, Any]]:
        return [o.to_json() for o in await send_due(portal.db, portal.settings)]

    show_sent(_run(work), as_json)


@notify.command("reseal-secrets")
def reseal_secrets() -> None:
    """Seal every tenant's webhook secret under the current ENLIST_SECRET_KEY (after a key
    rotation, with the old key in ENLIST_PREVIOUS_SECRET_KEYS); all or nothing."""
    from enlist.lms.notify import operations  # noqa: PLC0415
    from enlist.secretbox import SecretError  # noqa: PLC0415

    try:
        count = _run(operations.reseal_secrets)
    except SecretError as exc:
        fail(str(exc))
    click.echo(f"{count} secret(s) resealed under the current key")
