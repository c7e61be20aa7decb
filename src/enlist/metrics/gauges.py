"""Gauges read when `/metrics` is scraped: the database pool (each service adds its own, such as
the provisioning service's escrow and quarantine counts, `enlist.provisioning.gauges`).

They are counts of what is in the database (or the pool) right now, so each scrape asks; they
are not kept between scrapes. In multiprocess mode the pool's figures are those of the worker
that answered the scrape.
"""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from enlist.db.database import Database


def pool_use(db: Database) -> list[Metric]:
    """`enlist_db_pool_connections{engine, state}`: connections checked out and idle per engine."""
    family = GaugeMetricFamily(
        "enlist_db_pool_connections",
        "Database connections of this process's pool, by engine (read, write) and state.",
        labels=("engine", "state"),
    )
    for engine, figures in db.pool_use().items():
        for state, count in figures.items():
            family.add_metric((engine, state), count)
    return [family]
