"""`GET /metrics`: the process's (or every worker's) instruments plus gauges read at scrape time.

Only an API token of the service opens it (any scope; in the portal a whole-portal token, since
the page names every tenant); an admin session or a Secret token does not, so a scraper's
credential is one an operator can revoke on its own. The answer is Prometheus' text format,
version 0.0.4 (every Prometheus since 2.0 and every agent that scrapes it reads that one).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from enlist.api_tokens.door import door_of
from enlist.metrics import multiprocess
from enlist.metrics.instruments import REGISTRY

Gauges = Callable[[Request], Awaitable[list[Metric]]]
"""Reads the database when scraped and returns gauge families (escrow, quarantine, pool)."""


class _Snapshot(Collector):
    """Families already read, handed to a registry for one rendering."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterator[Metric]:
        yield from self.families


def render(families: Iterable[Metric]) -> bytes:
    """The text exposition of the instruments (every worker's, in multiprocess mode) and `families`."""
    shared = multiprocess.directory()
    if shared is None:
        instruments = generate_latest(REGISTRY)
    else:
        combined = CollectorRegistry()
        MultiProcessCollector(combined, path=str(shared))  # type: ignore[no-untyped-call]
        instruments = generate_latest(combined)
    scraped = CollectorRegistry()
    scraped.register(_Snapshot(families))
    return instruments + generate_latest(scraped)


def metrics_route(gauges: Gauges) -> Route:
    async def metrics(request: Request) -> Response:
        refusal = await door_of(request).admit(request, "read", token_only=True)
        if refusal is not None:
            return refusal
        return Response(render(await gauges(request)), media_type=CONTENT_TYPE_PLAIN_0_0_4)

    return Route("/metrics", metrics, methods=["GET"])
