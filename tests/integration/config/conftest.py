"""Two provisioning services on fresh databases of the kind under test: `service` (the
original, from tests/conftest.py) and `empty_service` (a second, empty one to import into)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from enlist.db.database import Database
from enlist.provisioning.directory.importer import import_directory, parse_directory_json
from enlist.provisioning.service import Service
from enlist.settings import Settings
from tests.databases import Templates

DOMAIN = "contoso.com"
# Fixed object ids: two services reading one source see the same ids (the group mapping sends
# objectId as externalId), so their targets can be compared field for field.
DIRECTORY: dict[str, Any] = {
    "users": [
        {"id": str(uuid.uuid5(uuid.NAMESPACE_DNS, name)), "userPrincipalName": f"{name}@{DOMAIN}", "givenName": name.title(), "surname": "Moss",
         "displayName": f"{name.title()} Moss", "mail": f"{name}@{DOMAIN}", "jobTitle": title,
         "department": department, "employeeId": str(i), "accountEnabled": True,
         **({"manager": f"cleo@{DOMAIN}"} if i else {})}
        for i, (name, title, department) in enumerate([
            ("cleo", "CEO", "Board"), ("ada", "Engineer", "R&D"), ("bob", "Sales rep", "Sales"),
            ("eve", "Auditor", "Audit"), ("dan", "Intern", "R&D"),
        ])
    ],
    "groups": [
        {"id": str(uuid.uuid5(uuid.NAMESPACE_DNS, "engineering")), "displayName": "Engineering", "members": [f"ada@{DOMAIN}", f"dan@{DOMAIN}", f"cleo@{DOMAIN}"]},
        {"id": str(uuid.uuid5(uuid.NAMESPACE_DNS, "sales")), "displayName": "Sales", "members": [f"bob@{DOMAIN}"]},
        {"id": str(uuid.uuid5(uuid.NAMESPACE_DNS, "auditors")), "displayName": "Auditors", "members": [f"eve@{DOMAIN}"]},
    ],
}  # fmt: skip


async def load_directory(service: Service, directory: dict[str, Any] = DIRECTORY) -> None:
    data = parse_directory_json(orjson.dumps(directory).decode())
    async with service.db.write() as conn:
        await import_directory(conn, data, replace=False)


@pytest.fixture
async def empty_service(
    settings: Settings,
    database_kind: str,
    templates: Templates,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Service]:
    """A second provisioning service, on its own fresh database, with the same secret box."""
    from enlist.provisioning.service import MIGRATIONS, VERSION_TABLE, register_tables  # noqa: PLC0415
    from enlist.secretbox import load_secret_box  # noqa: PLC0415

    register_tables()
    if database_kind == "postgres" and templates.cluster is None:
        templates.cluster = request.getfixturevalue("postgres_cluster")
    folder = tmp_path / "empty"
    folder.mkdir()
    url = await templates.fresh(database_kind, MIGRATIONS, VERSION_TABLE, folder)
    configured = settings.model_copy(update={"provisioning_database_url": url})
    db = Database(configured.provisioning_url())
    yield Service(configured, db, load_secret_box(configured))
    await db.dispose()
