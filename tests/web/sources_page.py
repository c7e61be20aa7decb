"""What the Sources page tests share: a drop folder with a file, sources made as the CLI makes
them, a snapshot of what a refused form must not change, and waiting for a background read."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa

from enlist.db.database import Database
from enlist.provisioning.directory.tables import dir_group_members, dir_groups, dir_users
from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from enlist.provisioning.sources.tables import source_reads, sources
from enlist.web.tables import admin_sessions
from tests.web.provisioning_fixtures import visible

PEOPLE = {
    "users": [{"userPrincipalName": "ann@contoso.com"}, {"userPrincipalName": "bob@contoso.com"}],
    "groups": [{"displayName": "Sales", "members": ["ann@contoso.com"]}],
}
SECRET = "graph-client-secret-do-not-show-42"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_kind(request: pytest.FixtureRequest) -> str:
    """The Sources page runs on both databases (the other page tests run on SQLite)."""
    return str(request.param)


def drop_folder(tmp_path: Path, name: str = "hr", document: dict[str, Any] | None = None) -> Path:
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    (folder / "people.json").write_text(json.dumps(document or PEOPLE), encoding="utf-8")
    return folder


async def file_source(service: Service, tmp_path: Path, name: str = "hr") -> Path:
    folder = drop_folder(tmp_path, name)
    settings, secrets = operations.new_source_settings("file", path=str(folder))
    await operations.add(service, name, "file", settings, secrets)
    return folder


async def graph_source(service: Service, name: str = "entra") -> None:
    settings, secrets = operations.new_source_settings(
        "graph", tenant_id="T", client_id="C", client_secret=SECRET, graph_url="http://127.0.0.1:9"
    )
    await operations.add(service, name, "graph", settings, secrets)


def said(page: httpx2.Response) -> str:
    """The page's text as a reader sees it, every run of blanks one space."""
    return " ".join(visible(page).split())


async def snapshot(db: Database) -> dict[str, Any]:
    """Everything a Sources form could change, to compare before and after a refused request."""
    tables = (sources, source_reads, dir_users, dir_groups, dir_group_members, admin_sessions)
    async with db.read() as conn:
        return {t.name: sorted(map(repr, (await conn.execute(sa.select(t))).all())) for t in tables}


async def reads_of(db: Database) -> list[tuple[str, str | None, str]]:
    """Every read in the sources' logs: (trigger, kind, status), oldest first."""
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(source_reads.c.trigger, source_reads.c.kind, source_reads.c.status).order_by(
                source_reads.c.id
            )
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def settled(service: Service, name: str) -> dict[str, Any]:
    """The source once no read of it runs (a read Sync now started in the background)."""
    for _ in range(1000):
        described = await operations.describe(service, name)
        if described["next_read"]["state"] != "running" and described["last_read"]["status"] != "running":
            return described
        await asyncio.sleep(0.01)
    raise AssertionError(f"the read of {name} did not end")
