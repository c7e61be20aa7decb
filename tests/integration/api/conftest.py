"""Both services on one fresh database pair (SQLite, then PostgreSQL), their apps in process, and
their `enlist … api-token` commands run in process against the same databases."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import anyio
import httpx2
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from starlette.applications import Starlette

from enlist.cli import main
from enlist.db.rows import now
from enlist.lms.api.app import create_app as create_portal_app
from enlist.lms.api.runtime import Portal
from enlist.lms.store import tenants as tenant_store
from enlist.provisioning.api.app import create_app as create_provisioning_app
from enlist.provisioning.service import Service
from tests.conftest import TEST_PEPPER


@dataclass
class Side:
    """One service under test: its name on the command line, its app, a client on it, its
    database and token table, and the tenant slug its routes take (the portal's)."""

    command: str
    app: Starlette
    client: httpx2.AsyncClient
    service: Any
    table: sa.Table
    tenant: str | None = None

    @property
    def db(self) -> Any:
        return self.service.db


async def enlist(service: Service, *args: str) -> tuple[int, str, str]:
    """`enlist ARGS` in process (in a thread: the command runs its own event loop) on the test's
    databases; (exit code, stdout, stderr)."""
    settings = service.settings
    env = {
        "ENLIST_DATA_DIR": str(settings.data_dir),
        "ENLIST_LMS_DATABASE_URL": settings.lms_url(),
        "ENLIST_PROVISIONING_DATABASE_URL": settings.provisioning_url(),
        "ENLIST_TOKEN_PEPPER": TEST_PEPPER,
    }
    runner = CliRunner()
    result = await anyio.to_thread.run_sync(lambda: runner.invoke(main, list(args), env=env))
    return result.exit_code, result.stdout, result.stderr


async def create_token(service: Service, side: Side, name: str, *extra: str) -> dict[str, Any]:
    code, out, err = await enlist(service, side.command, "api-token", "create", name, "--json", *extra)
    assert code == 0, err
    created: dict[str, Any] = json.loads(out)
    return created


async def expire(side: Side, name: str) -> None:
    """Move a token's expiry into the past (a test cannot wait 90 days)."""
    async with side.db.write() as conn:
        await conn.execute(
            side.table.update()
            .where(side.table.c.name == name)
            .values(expires_at=now() - timedelta(seconds=1))
        )


@pytest.fixture
async def portal_side(portal: Portal) -> AsyncIterator[Side]:
    from enlist.lms.api_tokens import api_tokens  # noqa: PLC0415

    async with portal.db.write() as conn:
        await tenant_store.create_tenant(conn, "acme")
        await tenant_store.create_tenant(conn, "globex")
    app = create_portal_app(portal.settings, portal)
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://portal.test") as client:
        yield Side("lms", app, client, portal, api_tokens, tenant="acme")


@pytest.fixture
async def provisioning_side(service: Service) -> AsyncIterator[Side]:
    from enlist.provisioning.api_tokens import api_tokens  # noqa: PLC0415
    from enlist.provisioning.mapping.mappings import (  # noqa: PLC0415
        default_group_mapping,
        default_user_mapping,
        mapping_to_json,
    )
    from enlist.provisioning.store import apps as app_store  # noqa: PLC0415

    async with service.db.write() as conn:
        await app_store.create_app(
            conn, "Portal", mapping_to_json(default_user_mapping()), mapping_to_json(default_group_mapping())
        )
    app = create_provisioning_app(service.settings, scheduler=False, service=service)
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://provisioning.test") as client:
        yield Side("provisioning", app, client, service, api_tokens)


@pytest.fixture(params=["lms", "provisioning"])
def side(request: pytest.FixtureRequest) -> Side:
    """Each service in turn: their API tokens behave the same."""
    found = request.getfixturevalue("portal_side" if request.param == "lms" else "provisioning_side")
    assert isinstance(found, Side)
    return found


@pytest.fixture
async def api(service: Service) -> AsyncIterator[httpx2.AsyncClient]:
    """A client of the provisioning service served over real HTTP on loopback."""
    from tests.integration.api.http import served  # noqa: PLC0415 (it imports this module)

    async with served(service) as base, httpx2.AsyncClient(base_url=base, timeout=30) as client:
        yield client
