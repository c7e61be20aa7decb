"""How commands print: JSON for tools (`--json`), short lines for people, errors on stderr."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click
import orjson


def emit_json(data: Any) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())


def fail(message: str, hint: str | None = None) -> NoReturn:
    """Print an error (and what to do next) on stderr and exit 1."""
    click.echo(f"error: {message}", err=True)
    if hint:
        click.echo(f"hint: {hint}", err=True)
    sys.exit(1)


log_format_option = click.option(
    "--log-format",
    type=click.Choice(["json", "text"]),
    default=None,
    help="Log lines on stderr: one JSON object each, or text [default: ENLIST_LOG_FORMAT, else text on a "
    "terminal and JSON otherwise].",
)


def show_test_deliveries(outcomes: list[dict[str, Any]], as_json: bool, owner: dict[str, str]) -> None:
    """`notify test` of either service: each delivery (as JSON with `owner`, e.g. the
    application or tenant, and `deliveries`), exiting 1 when one was not sent."""
    if as_json:
        emit_json({**owner, "deliveries": outcomes})
    else:
        for o in outcomes:
            click.echo(f"{o['channel']} to {o['destination']}: {o['status']} ({o['detail']})")
    if any(o["status"] != "sent" for o in outcomes):
        sys.exit(1)


def show_sent(outcomes: list[dict[str, Any]], as_json: bool) -> None:
    """`notify send` of either service: what was delivered now."""
    if as_json:
        emit_json({"deliveries": outcomes})
    else:
        click.echo(f"{sum(o['status'] == 'sent' for o in outcomes)} of {len(outcomes)} delivered")
