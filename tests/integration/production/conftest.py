"""A `Deployment` on the parametrised database kind: two SQLite files, or two PostgreSQL
databases of the test cluster."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.databases import PostgresCluster
from tests.integration.production.deployment import Deployment, sqlite_url


def database_pair(kind: str, where: Path, request: pytest.FixtureRequest) -> tuple[str, str]:
    """(portal URL, provisioning URL) of two new, empty databases of `kind`."""
    import anyio  # noqa: PLC0415

    if kind == "sqlite":
        where.mkdir(parents=True, exist_ok=True)
        return sqlite_url(where / "lms.sqlite3"), sqlite_url(where / "provisioning.sqlite3")
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    stem = uuid.uuid4().hex[:12]
    return anyio.run(cluster.create, f"lms_{stem}"), anyio.run(cluster.create, f"provisioning_{stem}")


@pytest.fixture
def deployment(database_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Deployment:
    lms, provisioning = database_pair(database_kind, tmp_path / "databases", request)
    return Deployment(tmp_path / "var", lms, provisioning)
