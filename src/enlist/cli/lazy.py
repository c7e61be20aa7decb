"""A click group whose subcommands are imported only when one of them runs.

`enlist --help` and a group's `--help` list their subcommands from a static table of names and
one-line help, so they start without SQLAlchemy, Alembic, the web stack or the engine; a
subcommand's module is imported when that subcommand is looked up (run, or its own `--help`).
tests/cli/test_startup_imports.py checks that each static line matches the command's own help.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import click


@dataclass(frozen=True, slots=True)
class Lazy:
    """Where a subcommand lives and the line (`summary`) `--help` shows for it.

    `target` is `module:attribute`; the attribute is a click command, or a function of no
    arguments that builds one (for groups made by a factory). `registers` are modules that add
    commands to it when imported (they must be imported before the command is used).
    """

    target: str
    summary: str
    registers: tuple[str, ...] = ()

    def load(self) -> click.Command:
        """Import the subcommand's module (and the modules that add to it) and return it."""
        module, _, attribute = self.target.partition(":")
        found = getattr(importlib.import_module(module), attribute)
        for extra in self.registers:
            importlib.import_module(extra)
        command = found if isinstance(found, click.Command) else found()
        if not isinstance(command, click.Command):  # a wrong table entry, caught by the tests
            msg = f"{self.target} is not a click command"
            raise TypeError(msg)
        return command


class LazyGroup(click.Group):
    """A group with eager subcommands (defined in its module) and lazy ones (`lazy`)."""

    def __init__(
        self, *args: object, lazy: dict[str, Lazy] | None = None, whole_help: bool = False, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy: dict[str, Lazy] = dict(lazy or {})
        self.whole_help = whole_help  # show the lazy lines whole instead of cut as click cuts them

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            self.add_command(self.lazy[cmd_name].load(), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = [name for name in self.list_commands(ctx) if not _hidden(self.commands.get(name))]
        limit = formatter.width - 6 - max((len(name) for name in names), default=0)  # as click does
        rows: list[tuple[str, str]] = []
        for name in names:
            if name in self.commands:
                rows.append((name, self.commands[name].get_short_help_str(limit)))
            else:
                line = self.lazy[name].summary
                # cut as click cuts a command's help (a stand-in command: click's public way to do it)
                cut = click.Command(name, help=line).get_short_help_str(limit)
                rows.append((name, line if self.whole_help else cut))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _hidden(command: click.Command | None) -> bool:
    return command is not None and command.hidden
