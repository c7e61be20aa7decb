"""`enlist lms` as `--help` sees it: the group and a table of its subcommands, which live in
enlist.cli.lms (and load SQLAlchemy and the portal) and are imported only when one of them runs."""

from __future__ import annotations

import click

from enlist.cli.lazy import Lazy, LazyGroup


def _from_lms(name: str) -> click.Command:
    """The subcommand `name` as enlist.cli.lms registers it (the factory-made groups included)."""
    from enlist.cli.lms import lms as full  # noqa: PLC0415 (the point: only when a subcommand runs)

    return full.commands[name]


def admin_commands() -> click.Command:
    """`lms admin`, made by admin_group in enlist.cli.lms."""
    return _from_lms("admin")


def api_token_commands() -> click.Command:
    """`lms api-token`, made by api_token_group in enlist.cli.lms."""
    return _from_lms("api-token")


SUBCOMMANDS: dict[str, Lazy] = {
    "serve": Lazy("enlist.cli.lms:serve", "Serve the portal (SCIM endpoint, admin API, GET /healthz)."),
    "tenant": Lazy("enlist.cli.lms:tenant", "Tenants (customer accounts) and their Secret tokens."),
    "log": Lazy(
        "enlist.cli.lms:log",
        "The tenant's sync log, newest first: every SCIM change with old and new values.",
    ),
    "department": Lazy(
        "enlist.cli.lms:department",  # via enlist.cli.lms: the two modules import each other
        "The tenant's departments: a tree under the root department, named after the tenant.",
    ),
    "notify": Lazy(
        "enlist.cli.lms_notify:notify",
        "A tenant's alerts (the seat limit reached) by email and webhook: set, show, test, send.",
    ),
    "admin": Lazy(
        "enlist.cli.lms_group:admin_commands",
        "Accounts that sign in to the admin pages (passwords from standard input).",
    ),
    "api-token": Lazy(
        "enlist.cli.lms_group:api_token_commands",
        "API tokens for scripts and CI: sent as `Authorization: Bearer <token>` to the JSON API and "
        "to GET /metrics.",
    ),
    "role": Lazy(
        "enlist.cli.lms_roles:role",
        "Portal roles (learner, manager, department_admin) granted by IdP groups.",
    ),
    "smart-group": Lazy(
        "enlist.cli.lms_roles:smart_group",
        "Smart groups: users selected by a SCIM filter on their attributes.",
    ),
}


@click.group(cls=LazyGroup, lazy=SUBCOMMANDS)
def lms() -> None:
    """The learning portal: its SCIM endpoint, tenants, Secret tokens and sync log."""
