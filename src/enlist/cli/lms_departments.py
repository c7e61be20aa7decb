"""`enlist lms department`: read and reshape a tenant's department tree.

A department is named by its id or its name (case-insensitive); `list` shows both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

# The module, not `from enlist.cli.lms import run`: lms.py imports this module while it is
# still loading, so its names are looked up when a command runs.
import enlist.cli.lms as lms_cli
from enlist.cli.output import emit_json, fail

if TYPE_CHECKING:  # `department --help` loads no SQLAlchemy: each command imports what it runs
    from enlist.lms.api.runtime import Portal
    from enlist.lms.store import department_tree as store

T = TypeVar("T")


def run_department(tenant: str, work: Callable[[Portal], Awaitable[T]]) -> T:
    """`lms.run`, and a refused department change as an error with what to look at."""
    from enlist.lms.store.department_tree import DepartmentError  # noqa: PLC0415 (only when run)

    try:
        return lms_cli.run(work)
    except DepartmentError as exc:
        fail(str(exc), f"`enlist lms department list {tenant}` shows the departments and their ids")


@click.group()
def department() -> None:
    """The tenant's departments: a tree under the root department, named after the tenant."""


@department.command("list")
@click.argument("tenant")
@click.option("--json", "as_json", is_flag=True, help="Print the tree as nested JSON.")
def department_list(tenant: str, as_json: bool) -> None:
    """Show the department tree with the people in each department."""
    from enlist.lms.store import department_tree as store  # noqa: PLC0415 (see run_department)
    from enlist.lms.store import tenants as tenant_store  # noqa: PLC0415

    async def work(portal: Portal) -> list[store.DepartmentNode]:
        async with portal.db.read() as conn:
            return await store.department_tree(conn, await tenant_store.get_tenant(conn, tenant))

    tree = run_department(tenant, work)
    if as_json:
        emit_json([node.to_json() for node in tree])
        return
    for node in tree:
        _echo_tree(node, 0)


def _echo_tree(node: store.DepartmentNode, depth: int) -> None:
    people = "1 person" if node.user_count == 1 else f"{node.user_count} people"
    source = ", from a SCIM group" if node.source_group_id else ""
    click.echo(f"{'  ' * depth}{node.name}  ({people}{source})  {node.id}")
    for child in node.children:
        _echo_tree(child, depth + 1)


@department.command("create")
@click.argument("tenant")
@click.argument("name")
@click.option("--under", "parent", help="Parent department (id or name); the root when omitted.")
def department_create(tenant: str, name: str, parent: str | None) -> None:
    """Create a department."""
    from enlist.lms import operations  # noqa: PLC0415 (see run_department)
    from enlist.lms.store import tenants as tenant_store  # noqa: PLC0415

    async def work(portal: Portal) -> dict[str, Any]:
        async with portal.db.write() as conn:
            found = await tenant_store.get_tenant(conn, tenant)
            created, under = await operations.create_department(conn, found, name, parent)
        return {"id": created, "parent": under.name}

    result = run_department(tenant, work)
    click.echo(f"Department {name.strip()!r} created under {result['parent']!r}: {result['id']}")


@department.command("move")
@click.argument("tenant")
@click.argument("name")
@click.option("--under", "parent", required=True, help="The new parent department (id or name).")
def department_move(tenant: str, name: str, parent: str) -> None:
    """Move a department, with everything below it, under another department."""
    from enlist.lms import operations  # noqa: PLC0415 (see run_department)
    from enlist.lms.store import tenants as tenant_store  # noqa: PLC0415

    async def work(portal: Portal) -> tuple[str, str]:
        async with portal.db.write() as conn:
            found = await tenant_store.get_tenant(conn, tenant)
            moving, under = await operations.move_department(conn, found, name, parent)
        return moving.name, under.name

    moved, under = run_department(tenant, work)
    click.echo(f"Department {moved!r} is now under {under!r}.")


@department.command("remove")
@click.argument("tenant")
@click.argument("name")
def department_remove(tenant: str, name: str) -> None:
    """Remove a department; its people and sub-departments move up to its parent."""
    from enlist.lms import operations  # noqa: PLC0415 (only when run)
    from enlist.lms.store import tenants as tenant_store  # noqa: PLC0415 (only when run)

    async def work(portal: Portal) -> tuple[str, int]:
        async with portal.db.write() as conn:
            found = await tenant_store.get_tenant(conn, tenant)
            removed, moved = await operations.remove_department(conn, found, name)
        return removed.name, moved

    removed, moved = run_department(tenant, work)
    people = "1 person" if moved == 1 else f"{moved} people"
    click.echo(f"Department {removed!r} removed; {people} moved up to its parent.")
