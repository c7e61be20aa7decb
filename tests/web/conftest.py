from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx2
import pytest

from enlist.db.database import Database
from enlist.lms.api.app import create_app as create_portal_app
from enlist.lms.api.runtime import Portal


@dataclass
class Site:
    """One admin site under test: a client on its app, its database and its home page."""

    name: str
    client: httpx2.AsyncClient
    db: Database
    home: str
    cookie: str  # the name of its session cookie


@pytest.fixture
async def portal_site(portal: Portal) -> AsyncIterator[Site]:
    app = create_portal_app(portal.settings, portal)
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://portal.test"
    ) as c:
        yield Site("portal", c, portal.db, "/admin/tenants", "enlist_lms_session")


@pytest.fixture
async def provisioning_site(service: object) -> AsyncIterator[Site]:
    from enlist.provisioning.api.app import create_app  # noqa: PLC0415
    from enlist.provisioning.service import Service  # noqa: PLC0415

    assert isinstance(service, Service)
    app = create_app(service.settings, scheduler=False, service=service)
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://provisioning.test"
    ) as c:
        yield Site("provisioning", c, service.db, "/admin/apps", "enlist_provisioning_session")


@pytest.fixture(params=["sqlite"])
def database_kind(request: pytest.FixtureRequest) -> str:
    """Pages run on SQLite here; the account store runs on both databases in
    tests/integration/test_admin_accounts.py."""
    return str(request.param)


@pytest.fixture(params=["portal", "provisioning"])
def site(request: pytest.FixtureRequest, database_kind: str) -> Site:
    """Each admin site in turn: what they share behaves the same on both."""
    found = request.getfixturevalue(f"{request.param}_site")
    assert isinstance(found, Site)
    return found
