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
