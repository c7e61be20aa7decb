"""The `enlist` command: `enlist lms …` for the portal (and, as they arrive, the provisioning
service and the demo). Each command group lives in a module of its own."""

from __future__ import annotations

import click

from enlist.cli.demo import demo
from enlist.cli.lms import lms
from enlist.cli.provisioning import provisioning


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="enlist")
def main() -> None:
    """enlist keeps a learning portal's people in step with the company's identity directory."""


main.add_command(lms)
main.add_command(demo)
main.add_command(provisioning)
