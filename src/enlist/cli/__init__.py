"""The `enlist` command. Each command group lives in a module of its own and is imported only
when it is run, so `enlist --help` and every command start without loading what they don't use.
"""

from __future__ import annotations

import importlib

import click

COMMANDS: dict[str, tuple[str, str]] = {
    "lms": (
        "enlist.cli.lms:lms",
        "The learning portal: its SCIM endpoint, tenants, Secret tokens and sync log.",
    ),
    "provisioning": (
        "enlist.cli.provisioning:provisioning",
        "The provisioning service: applications, cycles, provisioning logs, its directory.",
    ),
    "demo": (
        "enlist.cli.demo:demo",
        "The whole flow on this machine: portal, provisioning, sample directory.",
    ),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: ARG002
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:  # noqa: ARG002
        if cmd_name not in COMMANDS:
            return None
        module, _, attribute = COMMANDS[cmd_name][0].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:  # noqa: ARG002
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in sorted(COMMANDS)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="enlist")
def main() -> None:
    """enlist keeps a learning portal's people in step with the company's identity directory."""
