"""One live portal per database for the third-party conformance suites."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.databases import PostgresCluster
from tests.live import LivePortal


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def live_portal(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LivePortal]:
    url = None
    if request.param == "postgres":
        cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
        import asyncio  # noqa: PLC0415

        url = asyncio.run(cluster.create(f"live_{request.module.__name__.rsplit('.', 1)[-1]}"))
    portal = LivePortal(tmp_path_factory.mktemp("live"), url).start()
    yield portal
    portal.stop()
