"""The provisioning service's gauges for `GET /metrics`, read from its database when scraped."""

from __future__ import annotations

import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from enlist.db.database import Database
from enlist.provisioning.store.tables import applications, escrows


async def provisioning_state(db: Database) -> list[Metric]:
    """Escrowed objects by object kind and whether they wait on a reference; applications by state
    (quarantined among them)."""
    escrowed = GaugeMetricFamily(
        "enlist_escrow_objects",
        "Objects waiting in escrow for a retry, by object kind and whether a reference failed.",
        labels=("object_kind", "reference"),
    )
    states = GaugeMetricFamily(
        "enlist_applications", "Applications by state (quarantined, active, paused, ...).", labels=("state",)
    )
    quarantined = GaugeMetricFamily("enlist_quarantined_applications", "Applications in quarantine now.")
    async with db.read() as conn:
        escrow_rows = await conn.execute(
            sa.select(escrows.c.kind, escrows.c.is_reference, sa.func.count()).group_by(
                escrows.c.kind, escrows.c.is_reference
            )
        )
        for kind, reference, count in escrow_rows:
            escrowed.add_metric((str(kind), "true" if reference else "false"), count)
        state_rows = await conn.execute(
            sa.select(applications.c.state, sa.func.count()).group_by(applications.c.state)
        )
        by_state = {str(state): int(count) for state, count in state_rows}
    for state, count in sorted(by_state.items()):
        states.add_metric((state,), count)
    quarantined.add_metric((), by_state.get("quarantined", 0))
    return [escrowed, states, quarantined]
