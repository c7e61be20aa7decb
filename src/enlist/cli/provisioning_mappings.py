"""`enlist provisioning app mappings|map|unmap|scoping|test-expression`: edit how source
attributes become target attributes, and which objects are in scope."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from enlist.cli.output import emit_json, fail
from enlist.cli.provisioning_apps import app
from enlist.cli.provisioning_common import run
from enlist.provisioning.mapping.errors import MappingPackageError

if TYPE_CHECKING:
    from enlist.provisioning.service import Service

OBJECT = click.option(
    "--object", "object_kind", type=click.Choice(["user", "group"]), default="user", show_default=True
)


def _column(object_kind: str) -> str:
    return "user_mapping" if object_kind == "user" else "group_mapping"


@app.command("mappings")
@click.argument("name")
@OBJECT
@click.option("--json", "as_json", is_flag=True)
def mappings(name: str, object_kind: str, as_json: bool) -> None:
    """List the attribute mappings (target ← source, kind, when applied, matching precedence)."""
    from enlist.provisioning.engine.mapping_edits import describe  # noqa: PLC0415
    from enlist.provisioning.mapping.mappings import mapping_from_json  # noqa: PLC0415
    from enlist.provisioning.store import apps as app_store  # noqa: PLC0415

    async def work(service: Service) -> list[dict[str, Any]]:
        async with service.db.read() as conn:
            found = await app_store.get_app(conn, name)
        return describe(mapping_from_json(getattr(found, _column(object_kind))))

    rows = run(work)
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        match = f"  [matching {r['matching_precedence']}]" if r["matching_precedence"] else ""
        when = "  (on create)" if r["apply"] == "on_create" else ""
        click.echo(f"{r['target']:<70} ← {r['kind']}: {r['source']}{match}{when}")


@app.command("map")
@click.argument("name")
@click.argument("target")
@OBJECT
@click.option("--direct", "direct", help="A source attribute, e.g. userPrincipalName.")
@click.option("--constant", "constant", help="A constant value.")
@click.option("--expression", "expression", help='An expression, e.g. Join(" ", [givenName], [surname]).')
@click.option("--on-create", is_flag=True, help="Apply only when the object is created.")
@click.option("--matching", type=int, help="Match objects using this attribute, with this precedence.")
@click.option("--default", "default", help="Default value if null (used on create).")
def map_attribute(
    name: str,
    target: str,
    object_kind: str,
    direct: str | None,
    constant: str | None,
    expression: str | None,
    on_create: bool,
    matching: int | None,
    default: str | None,
) -> None:
    """Add or replace the mapping of TARGET; a bad expression is refused with its position."""
    from enlist.provisioning import operations  # noqa: PLC0415
    from enlist.provisioning.engine.mapping_edits import build_row  # noqa: PLC0415
    from enlist.provisioning.store import apps as app_store  # noqa: PLC0415

    given = [
        (k, v)
        for k, v in (("direct", direct), ("constant", constant), ("expression", expression))
        if v is not None
    ]
    if len(given) != 1:
        fail("give exactly one of --direct, --constant, --expression")
    kind, source = given[0]
    try:
        build_row(target, kind, source, on_create=on_create, matching=matching, default=default)  # type: ignore[arg-type]
    except MappingPackageError as error:
        fail(f"mapping refused: {error}", "nothing was saved")

    async def work(service: Service) -> None:
        async with service.db.read() as conn:
            found = await app_store.get_app(conn, name)
        await operations.map_attribute(
            service,
            found,
            object_kind,
            target,
            kind,  # type: ignore[arg-type]
            source,
            on_create=on_create,
            matching=matching,
            default=default,
        )

    run(work)
    click.echo(
        f"{target} ← {kind}: {source} saved; the next cycle re-evaluates every object (initial cycle)."
    )


@app.command("unmap")
@click.argument("name")
@click.argument("target")
@OBJECT
def unmap(name: str, target: str, object_kind: str) -> None:
    """Remove the mapping of TARGET."""
    from enlist.provisioning import operations  # noqa: PLC0415
    from enlist.provisioning.store import apps as app_store  # noqa: PLC0415

    async def work(service: Service) -> None:
        async with service.db.read() as conn:
            found = await app_store.get_app(conn, name)
        await operations.unmap(service, found, object_kind, target)

    run(work)
    click.echo(f"{target} unmapped; the next cycle is an initial one.")


@app.command("scoping")
@click.argument("name")
@click.option(
    "--set",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON file of filters.",
)
@click.option("--clear", is_flag=True, help="Remove every scoping filter.")
@click.option("--json", "as_json", is_flag=True)
def scoping(name: str, path: Path | None, clear: bool, as_json: bool) -> None:
    """Show or set the scoping filters: [{"title": …, "clauses": [{"attribute", "operator", "value"}]}].
    Clauses of a filter must all hold; any filter may admit the user."""
    from enlist.provisioning import operations  # noqa: PLC0415
    from enlist.provisioning.store import apps as app_store  # noqa: PLC0415

    try:
        document = orjson.loads(path.read_bytes()) if path else []
    except orjson.JSONDecodeError as error:
        fail(f"the filter file is not JSON: {error}")

    async def work(service: Service) -> list[dict[str, Any]]:
        async with service.db.read() as conn:
            found = await app_store.get_app(conn, name)
        if path or clear:
            return await operations.set_scoping(service, found, [] if clear else document)
        return list(found.scoping)

    result = run(work)
    emit_json(result) if as_json or not (path or clear) else click.echo(
        f"{len(result)} scoping filter(s) saved."
    )


@app.command("test-expression")
@click.argument("name")
@click.argument("expression")
@click.option("--user", "upn", help="Evaluate for this user (userPrincipalName).")
@click.option("--json", "as_json", is_flag=True)
def test_expression(name: str, expression: str, upn: str | None, as_json: bool) -> None:
    """Parse an expression and show what it gives for a user, without saving anything."""
    from enlist.provisioning.directory import store as directory  # noqa: PLC0415
    from enlist.provisioning.engine.mapping_edits import try_expression  # noqa: PLC0415
    from enlist.provisioning.store import apps as app_store  # noqa: PLC0415

    async def work(service: Service) -> dict[str, Any]:
        async with service.db.read() as conn:
            await app_store.get_app(conn, name)
            user = await directory.get_user_by_upn(conn, upn) if upn else None
        if upn and user is None:
            fail(f"no user {upn!r} in the directory")
        return try_expression(expression, user)

    result = run(work)
    emit_json(result) if as_json else click.echo(repr(result["value"]))
