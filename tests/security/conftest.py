"""A live portal per database for the security suites that need a real server on loopback.

A test module may set `LIVE_PORTAL_ENV` (a dict of `ENLIST_` variables) for its portal."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field

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
        url = asyncio.run(cluster.create(f"security_{request.module.__name__.rsplit('.', 1)[-1]}"))
    extra = getattr(request.module, "LIVE_PORTAL_ENV", {})
    portal = TunedPortal(tmp_path_factory.mktemp("live"), url, extra_env=extra).start()
    yield portal
    portal.stop()


@dataclass
class TunedPortal(LivePortal):
    """A live portal with extra `ENLIST_` settings in its environment."""

    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {**super().env(), **self.extra_env}
