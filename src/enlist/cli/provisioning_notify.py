"""`enlist provisioning notify …`: send a test notification, deliver what is due, list what was
sent with every attempt, seal the SMTP password."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from enlist.cli.output import emit_json, show_sent, show_test_deliveries
from enlist.cli.provisioning_common import run

if TYPE_CHECKING:
    from enlist.provisioning.service import Service


@click.group()
def notify() -> None:
    """Notifications by email and webhook: test, send, list, seal-password."""


@notify.command("test")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def test(name: str, as_json: bool) -> None:
    """Send a test notification now to application NAME's email and webhook."""
    from enlist.provisioning.notify.operations import send_test  # noqa: PLC0415
    from enlist.provisioning.store import apps as app_store  # noqa: PLC0415

    async def work(service: Service) -> list[dict[str, Any]]:
        async with service.db.read() as conn:
            found = await app_store.get_app(conn, name)
        return [o.to_json() for o in await send_test(service, found)]

    show_test_deliveries(run(work), as_json, {"application": name})


@notify.command("send")
@click.option("--json", "as_json", is_flag=True)
def send(as_json: bool) -> None:
    """Deliver every due notification now (what `serve`'s scheduler does each pass)."""
    from enlist.provisioning.notify.sender import send_due  # noqa: PLC0415

    async def work(service: Service) -> list[dict[str, Any]]:
        return [o.to_json() for o in await send_due(service)]

    show_sent(run(work), as_json)


@notify.command("list")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def list_notifications(name: str, as_json: bool) -> None:
    """Application NAME's latest notifications, newest first, with every delivery attempt."""
    from enlist.provisioning.notify.operations import history  # noqa: PLC0415
    from enlist.provisioning.store import apps as app_store  # noqa: PLC0415

    async def work(service: Service) -> list[dict[str, Any]]:
        async with service.db.read() as conn:
            found = await app_store.get_app(conn, name)
        return await history(service, found)

    rows = run(work)
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        click.echo(
            f"{r['created_at']}  {r['kind']} {r['event']}  {r['channel']} {r['destination']}  "
            f"{r['status']} after {len(r['attempts'])} attempt(s)"
            + (f": {r['last_error']}" if r["last_error"] else "")
        )


@notify.command("seal-password")
def seal_password() -> None:
    """Read the SMTP password on stdin; print the value for ENLIST_SMTP_PASSWORD that keeps it
    encrypted with the secret key."""
    from enlist.provisioning.notify.operations import seal_password as seal  # noqa: PLC0415

    password = sys.stdin.readline().rstrip("\n")

    async def work(service: Service) -> str:
        return seal(service, password)

    click.echo(run(work))
