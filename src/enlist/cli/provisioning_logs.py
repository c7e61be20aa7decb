"""`enlist provisioning logs NAME`: the provisioning logs, filtered, as JSON or CSV."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from enlist.cli.output import fail
from enlist.cli.provisioning_common import run
from enlist.provisioning.logs.records import ACTIONS, STATUSES

if TYPE_CHECKING:
    from enlist.provisioning.service import Service


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{text!r} is not an ISO 8601 date-time", "for example 2026-11-27T09:00:00Z")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.command()
@click.argument("name")
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--action", type=click.Choice(ACTIONS))
@click.option("--cycle", "cycle_id", help="Only this cycle's records.")
@click.option("--identity", help="A source or target id, or text in the name.")
@click.option("--since", help="ISO 8601 date-time.")
@click.option("--until", help="ISO 8601 date-time.")
@click.option("--limit", type=int, default=0, help="At most this many records (default: all).")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
def logs(
    name: str,
    status: str | None,
    action: str | None,
    cycle_id: str | None,
    identity: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    fmt: str,
) -> None:
    """Provisioning log records of an application, newest first."""
    from enlist.provisioning import operations  # noqa: PLC0415
    from enlist.provisioning.logs import store as log_store  # noqa: PLC0415

    query = log_store.LogFilter(
        since=_time(since),
        until=_time(until),
        status=status,
        action=action,
        identity=identity,
        cycle_id=cycle_id,
        limit=500,
    )

    async def work(service: Service) -> list[dict[str, Any]]:
        return await operations.log_records(service, name, query, limit)

    records = run(work)
    click.echo(log_store.to_csv(records) if fmt == "csv" else log_store.to_json(records), nl=fmt != "csv")
