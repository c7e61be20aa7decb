"""Fixtures every suite shares: real databases (SQLite and PostgreSQL) and the portal on them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx2
import hypothesis
import pytest

from enlist.db.database import Database
from enlist.lms.api.app import create_app
from enlist.lms.api.runtime import MIGRATIONS, VERSION_TABLE, Portal
from enlist.lms.secrets import load_peppers
from enlist.settings import Settings
from tests.databases import PostgresCluster, Templates

# Tests never assert wall-clock times: Hypothesis's default 200 ms deadline per example fails a
# property test on a loaded machine (2 cores shared with PostgreSQL, Samba and browsers) for a
# reason that is no property of the code.
hypothesis.settings.register_profile("enlist", deadline=None)
hypothesis.settings.load_profile("enlist")

TEST_PEPPER = "test-pepper-not-secret"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    """Migrated template databases; PostgreSQL's server starts the first time a test needs it."""
    return Templates(tmp_path_factory.mktemp("templates"), None)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def lms_database_url(
    database_kind: str, templates: Templates, tmp_path: Path, request: pytest.FixtureRequest
) -> str:
    if database_kind == "postgres" and templates.cluster is None:
        templates.cluster = request.getfixturevalue("postgres_cluster")
    return await templates.fresh(database_kind, MIGRATIONS, VERSION_TABLE, tmp_path)


@pytest.fixture
def settings(tmp_path: Path, lms_database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        lms_database_url=lms_database_url,
        lms_public_url="http://portal.test",
        token_pepper=TEST_PEPPER,  # type: ignore[arg-type]
    )


@pytest.fixture
async def portal(settings: Settings) -> AsyncIterator[Portal]:
    db = Database(settings.lms_url())
    yield Portal(settings, db, load_peppers(settings))
    await db.dispose()


@pytest.fixture
async def http(portal: Portal) -> AsyncIterator[httpx2.AsyncClient]:
    """An HTTP client on the portal app, in process (no socket)."""
    app = create_app(portal.settings, portal)
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://portal.test"
    ) as client:
        yield client


@pytest.fixture
async def provisioning_database_url(
    database_kind: str, templates: Templates, tmp_path: Path, request: pytest.FixtureRequest
) -> str:
    from enlist.provisioning.service import MIGRATIONS as P_MIGRATIONS  # noqa: PLC0415
    from enlist.provisioning.service import VERSION_TABLE as P_VERSION_TABLE  # noqa: PLC0415
    from enlist.provisioning.service import register_tables  # noqa: PLC0415

    register_tables()
    if database_kind == "postgres" and templates.cluster is None:
        templates.cluster = request.getfixturevalue("postgres_cluster")
    return await templates.fresh(database_kind, P_MIGRATIONS, P_VERSION_TABLE, tmp_path)


@pytest.fixture
async def service(settings: Settings, provisioning_database_url: str) -> AsyncIterator[object]:
    """The provisioning service on a fresh database (its directory included)."""
    from enlist.provisioning.service import Service  # noqa: PLC0415
    from enlist.secretbox import load_secret_box  # noqa: PLC0415

    configured = settings.model_copy(update={"provisioning_database_url": provisioning_database_url})
    db = Database(configured.provisioning_url())
    yield Service(configured, db, load_secret_box(configured))
    await db.dispose()
