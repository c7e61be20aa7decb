"""`enlist provisioning app export|import|import-entra-schema`: configuration as code.

Front end only: the documents and their checks live in `enlist.provisioning.config_doc`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from enlist.cli.output import emit_json, fail
from enlist.cli.provisioning_apps import app
from enlist.cli.provisioning_common import read_secret, run
from enlist.document_shape import FORMATS, DocumentError, dump, load

if TYPE_CHECKING:
    from enlist.provisioning.service import Service


def _read_file(file: Path) -> Any:
    try:
        return load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {file}: {exc}")
    except DocumentError as exc:
        fail(f"{file}: {exc}")


@app.command("export")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="yaml", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here, not to stdout.")
def export(name: str, fmt: str, output: Path | None) -> None:
    """Write the whole application as one document: connection (never the Secret token),
    provisioning status, settings, scoping filters, mappings, assignments by name."""

    from enlist.provisioning.config_doc.operations import export_app  # noqa: PLC0415

    async def work(service: Service) -> str:
        return dump((await export_app(service, name)).to_data(), "json" if fmt == "json" else "yaml")

    text = run(work)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


def _print_changes(result: dict[str, Any]) -> None:
    from enlist.provisioning.config_doc.diff import Change  # noqa: PLC0415

    if not result["changes"]:
        click.echo(f"{result['name']}: no changes")
        return
    for item in result["changes"]:
        click.echo(Change(item["op"], item["path"], item["before"], item["after"]).line())
    action = "create" if result["created"] else "update"
    said = f"would {action}" if result["dry_run"] else f"{action}d"
    click.echo(f"{result['name']}: {said} ({len(result['changes'])} change(s))")
    if result["dry_run"]:
        click.echo("dry run: nothing was changed")


@app.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the document and show the difference; change nothing.")
@click.option(
    "--secret-token",
    help="The Secret token for the document's Tenant URL (`-` reads stdin); needed for a new "
    "application or a new Tenant URL, else the stored token is kept.",
)
@click.option("--json", "as_json", is_flag=True)
def import_(file: Path, dry_run: bool, secret_token: str | None, as_json: bool) -> None:
    """Create or update an application from a document `app export` wrote (JSON or YAML):
    show the difference, then apply it in one transaction. A bad document changes nothing."""

    from enlist.provisioning.config_doc.document import read_document  # noqa: PLC0415
    from enlist.provisioning.config_doc.operations import import_app  # noqa: PLC0415

    data = _read_file(file)
    try:
        document = read_document(data)
    except DocumentError as exc:
        fail(f"{file}: {exc}", "nothing was changed")
    token = read_secret(secret_token) if secret_token else None

    async def work(service: Service) -> dict[str, Any]:
        try:
            return (await import_app(service, document, secret_token=token, dry_run=dry_run)).to_json()
        except DocumentError as exc:
            fail(f"{file}: {exc}", "nothing was changed")

    result = run(work)
    emit_json(result) if as_json else _print_changes(result)


@app.command("import-entra-schema")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would be read and skipped; change nothing.")
@click.option("--json", "as_json", is_flag=True)
def import_entra_schema(name: str, file: Path, dry_run: bool, as_json: bool) -> None:
    """Read Entra's exported provisioning configuration (its synchronizationSchema JSON) into
    application NAME: attribute mappings, scoping filters, object mappings' enabled flags. What
    does not map onto enlist is listed, with why."""

    from enlist.provisioning.config_doc.entra_import import import_entra_schema as apply  # noqa: PLC0415

    data = _read_file(file)

    async def work(service: Service) -> dict[str, Any]:
        try:
            return await apply(service, name, data, dry_run=dry_run)
        except DocumentError as exc:
            fail(f"{file}: {exc}", "nothing was changed")

    result = run(work)
    if as_json:
        emit_json(result)
        return
    _print_changes({**result["import"], "name": name})
    for skipped in result["skipped"]:
        click.echo(f"skipped {skipped['path']}: {skipped['reason']}")
