"""The `enlist` command. Each command group lives in a module of its own and is imported only
when it is run, so `enlist --help` and every command start without loading what they don't use.
"""

from __future__ import annotations

import click

from enlist.cli.lazy import Lazy, LazyGroup

COMMANDS: dict[str, Lazy] = {
    "lms": Lazy(
        "enlist.cli.lms_group:lms",
        "The learning portal: its SCIM endpoint, tenants, Secret tokens and sync log.",
    ),
    "provisioning": Lazy(
        "enlist.cli.provisioning:provisioning",
        "The provisioning service: applications, cycles, provisioning logs, its directory.",
    ),
    "demo": Lazy(
        "enlist.cli.demo:demo",
        "The whole flow on this machine: portal, provisioning service, sample directory, initial cycle.",
    ),
}


@click.group(
    cls=LazyGroup, lazy=COMMANDS, whole_help=True, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(package_name="enlist")
def main() -> None:
    """enlist keeps a learning portal's people in step with the company's identity directory."""
