"""The fake Graph served on loopback for each test, with one registered app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.graph.app import FakeGraph
from tests.fakes.graph.server import serve
from tests.integration.sources.graph_helpers import CLIENT_ID, SECRET


@pytest.fixture
async def fake() -> AsyncIterator[FakeGraph]:
    graph = FakeGraph()
    graph.tenant.register_app(CLIENT_ID, secret=SECRET)
    async with serve(graph):
        yield graph
