"""`enlist lms role …` and `enlist lms smart-group …`: portal roles granted by IdP groups, and
smart groups whose members a SCIM filter selects. Both call `enlist.lms.role_operations`, as the
JSON API and the user's page do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import click

from enlist.cli.output import emit_json, fail
from enlist.lms.domain.roles import ROLES

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from enlist.lms.api.runtime import Portal
    from enlist.lms.domain.tenants import Tenant

T = TypeVar("T")


def _in_tenant(
    tenant: str, work: Callable[[AsyncConnection, Tenant], Awaitable[T]], *, write: bool = False
) -> T:
    """Run `work` in a transaction on the tenant; an admin's mistake as a message, not a traceback.
    The portal is imported here, not at the top, so `--help` stays light."""
    import enlist.cli.lms as lms_cli  # noqa: PLC0415
    from enlist.lms import role_operations as ops  # noqa: PLC0415
    from enlist.lms.store import tenants as tenant_store  # noqa: PLC0415

    async def main(portal: Portal) -> T:
        opened = portal.db.write() if write else portal.db.read()
        async with opened as conn:
            return await work(conn, await tenant_store.get_tenant(conn, tenant))

    try:
        return lms_cli.run(main)
    except ops.EXPECTED as exc:
        fail(str(exc))
    except ops.UnknownUserError as exc:
        fail(f"tenant {tenant!r} has no user with id {exc}", f"`enlist lms log {tenant}` shows user ids")


@click.group()
def role() -> None:
    """Portal roles (learner, manager, department_admin) granted by IdP groups."""


@role.command("add")
@click.argument("tenant")
@click.argument("group")
@click.argument("role_name", metavar="ROLE", type=click.Choice(ROLES))
@click.option("--department", help="The department a department_admin administers (id or name).")
@click.option("--json", "as_json", is_flag=True, help="Print the rule as JSON.")
def role_add(tenant: str, group: str, role_name: str, department: str | None, as_json: bool) -> None:
    """Give ROLE to the members of IdP group GROUP (its displayName or externalId)."""
    from enlist.lms import role_operations as ops  # noqa: PLC0415 (--help stays light)

    rule = _in_tenant(tenant, lambda c, t: ops.add_role_rule(c, t, group, role_name, department), write=True)
    if as_json:
        emit_json(rule.to_json())
        return
    where = f" of {rule.department_name}" if rule.department_name else ""
    click.echo(f"Rule {rule.id}: members of IdP group {rule.group!r} are {rule.role}{where}.")


@role.command("list")
@click.argument("tenant")
@click.option("--holders", type=click.Choice(ROLES), help="List the users who have this role now instead.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def role_list(tenant: str, holders: str | None, as_json: bool) -> None:
    """The tenant's role rules, oldest first (or, with --holders, who has a role)."""
    from enlist.lms import role_operations as ops  # noqa: PLC0415 (--help stays light)

    if holders is not None:
        ids = _in_tenant(tenant, lambda c, t: ops.role_holders(c, t, holders))
        if as_json:
            emit_json(ids)
        for user_id in [] if as_json else ids:
            click.echo(user_id)
        return
    rules = _in_tenant(tenant, ops.list_role_rules)
    if as_json:
        emit_json([rule.to_json() for rule in rules])
        return
    for rule in rules:
        where = f" of {rule.department_name}" if rule.department_name else ""
        click.echo(f"{rule.id}  {rule.group}  →  {rule.role}{where}")


@role.command("remove")
@click.argument("tenant")
@click.argument("rule_id", type=int)
def role_remove(tenant: str, rule_id: int) -> None:
    """Remove rule RULE_ID: its group's members lose the role at once."""
    from enlist.lms import role_operations as ops  # noqa: PLC0415 (--help stays light)

    rule = _in_tenant(tenant, lambda c, t: ops.remove_role_rule(c, t, rule_id), write=True)
    click.echo(f"Rule {rule.id} removed: members of {rule.group!r} are no longer {rule.role} by it.")


@role.command("user")
@click.argument("tenant")
@click.argument("user_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def role_user(tenant: str, user_id: str, as_json: bool) -> None:
    """A user's roles and smart groups now, each with the reason."""
    from enlist.lms import role_operations as ops  # noqa: PLC0415 (--help stays light)

    found = _in_tenant(tenant, lambda c, t: ops.access_of(c, t, user_id))
    if as_json:
        emit_json(found.to_json())
        return
    for line in [g.reason for g in found.roles] + [m.reason for m in found.smart_groups]:
        click.echo(line)
    if not found.roles and not found.smart_groups:
        click.echo("No role rule and no smart group applies to this user.")


@click.group("smart-group")
def smart_group() -> None:
    """Smart groups: users selected by a SCIM filter on their attributes."""


@smart_group.command("add")
@click.argument("tenant")
@click.argument("name")
@click.argument("rule")
@click.option("--json", "as_json", is_flag=True, help="Print the smart group as JSON.")
def smart_group_add(tenant: str, name: str, rule: str, as_json: bool) -> None:
    """Create smart group NAME of the users RULE selects (`department sw "Sales" and title co "Manager"`)."""
    from enlist.lms import role_operations as ops  # noqa: PLC0415 (--help stays light)

    group = _in_tenant(tenant, lambda c, t: ops.add_smart_group(c, t, name, rule), write=True)
    if as_json:
        emit_json(group.to_json())
        return
    click.echo(f"Smart group {group.name!r} ({group.id}): users where {group.rule}.")


@smart_group.command("list")
@click.argument("tenant")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def smart_group_list(tenant: str, as_json: bool) -> None:
    """The tenant's smart groups and their rules."""
    from enlist.lms import role_operations as ops  # noqa: PLC0415 (--help stays light)

    groups = _in_tenant(tenant, ops.list_smart_groups)
    if as_json:
        emit_json([group.to_json() for group in groups])
        return
    for group in groups:
        click.echo(f"{group.id}  {group.name}  {group.rule}")


@smart_group.command("show")
@click.argument("tenant")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def smart_group_show(tenant: str, name: str, as_json: bool) -> None:
    """A smart group's rule and its members now (id and login)."""
    from enlist.lms import role_operations as ops  # noqa: PLC0415 (--help stays light)

    group, members = _in_tenant(tenant, lambda c, t: ops.show_smart_group(c, t, name))
    if as_json:
        emit_json({**group.to_json(), "members": [{"id": i, "userName": u} for i, u in members]})
        return
    click.echo(f"{group.name}: users where {group.rule}")
    for user_id, user_name in members:
        click.echo(f"  {user_name}  {user_id}")


@smart_group.command("remove")
@click.argument("tenant")
@click.argument("name")
def smart_group_remove(tenant: str, name: str) -> None:
    """Remove a smart group (its rule; no user changes)."""
    from enlist.lms import role_operations as ops  # noqa: PLC0415 (--help stays light)

    group = _in_tenant(tenant, lambda c, t: ops.remove_smart_group(c, t, name), write=True)
    click.echo(f"Smart group {group.name!r} removed.")
