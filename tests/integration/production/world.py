"""What an operator's installation holds, made through the CLI: a portal tenant, a directory
(users with managers, two groups), applications connected to the tenant with assignments, and
what is read back from the databases to compare two installations."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import sqlalchemy as sa

from enlist.db.database import Database
from tests.integration.production.deployment import Deployment

DOMAIN = "contoso.com"
PEOPLE = 8
DIRECTORY = {
    "users": [
        {"userPrincipalName": f"u{i}@{DOMAIN}", "mail": f"u{i}@{DOMAIN}", "givenName": f"Given{i}",
         "surname": f"Sur{i}", "displayName": f"Given{i} Sur{i}", "jobTitle": "Staff", "accountEnabled": True,
         **({"manager": f"u0@{DOMAIN}"} if i else {})}
        for i in range(PEOPLE)
    ],
    "groups": [
        {"displayName": "Alpha", "members": [f"u{i}@{DOMAIN}" for i in range(5)]},
        {"displayName": "Beta", "members": [f"u{i}@{DOMAIN}" for i in range(5, PEOPLE)]},
    ],
}  # fmt: skip
ASSIGNED_USERS = 6  # Alpha's five and u7, assigned on its own


@dataclass(frozen=True)
class Tenant:
    url: str
    token: str


def provision(deployment: Deployment, apps: tuple[str, ...]) -> dict[str, Tenant]:
    """The directory, and for each of `apps` a portal tenant of its own (`tenant-0`, …), the app
    connected to it, assigned Alpha and u7, started. The portal must be serving (creating an
    application tests the connection)."""
    file = deployment.data_dir / "directory.json"
    file.write_text(json.dumps(DIRECTORY), encoding="utf-8")
    deployment.cli("provisioning", "directory", "import", str(file))
    tenants = {}
    for number, app in enumerate(apps):
        created = deployment.cli_json("lms", "tenant", "create", f"tenant-{number}")
        tenant = tenants[app] = Tenant(created["tenant_url"], created["secret_token"])
        deployment.cli(
            "provisioning", "app", "create", app, "--tenant-url", tenant.url, "--secret-token", tenant.token
        )
        deployment.cli(
            "provisioning", "app", "assign", app, "--group", "Alpha", "--user", f"u{PEOPLE - 1}@{DOMAIN}"
        )
        deployment.cli("provisioning", "app", "start", app)
    return tenants


def query(url: str, statement: sa.Executable) -> list[tuple[Any, ...]]:
    async def read() -> list[tuple[Any, ...]]:
        db = Database(url)
        try:
            async with db.read() as conn:
                return [tuple(r) for r in await conn.execute(statement)]
        finally:
            await db.dispose()

    return anyio.run(read)


def contents(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (the migration version table included), each table's rows sorted."""

    async def read() -> dict[str, list[tuple[Any, ...]]]:
        db = Database(url)
        try:
            async with db.read() as conn:
                names = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
                found = {}
                for name in names:
                    rows = await conn.execute(sa.text(f'SELECT * FROM "{name}"'))
                    found[name] = sorted((tuple(r) for r in rows), key=repr)
                return found
        finally:
            await db.dispose()

    return anyio.run(read)


def write_file(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
