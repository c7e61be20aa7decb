"""What the Tenants page (the portal's home) says about each tenant: how many people, groups and
departments it holds, when SCIM last changed it, and which clients did.

Counts are one grouped statement each over all tenants (four statements however many tenants
there are, each an index read); the clients of the recent changes are read only for the tenants
the first-run guide names (`recent_clients`, a bounded window of the newest entries).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.lms.domain.tenants import Tenant
from enlist.lms.store.tables import departments, groups, sync_log, users
from enlist.lms.store.tables import tenants as tenant_table

RECENT_WINDOW = 1000  # entries read to say which clients changed a tenant lately


@dataclass(frozen=True, slots=True)
class TenantOverview:
    tenant: Tenant
    users: int  # active and inactive: terminated users keep their history but are not "in" it
    groups: int
    departments: int  # the root included
    last_change_at: datetime | None


async def _counts(conn: AsyncConnection, table: sa.Table, *where: sa.ColumnElement[bool]) -> dict[int, int]:
    rows = await conn.execute(
        sa.select(table.c.tenant_id, sa.func.count()).where(*where).group_by(table.c.tenant_id)
    )
    return {int(tenant_id): int(n) for tenant_id, n in rows}


async def overviews(conn: AsyncConnection, tenants: list[Tenant]) -> list[TenantOverview]:
    """Each tenant with its counts and its newest sync log time, in the order given."""
    people = await _counts(conn, users, users.c.status != "terminated")
    group_counts = await _counts(conn, groups)
    department_counts = await _counts(conn, departments)
    # One statement, one (tenant_id, at) index seek per tenant: never a scan of the whole log.
    newest = (
        sa.select(sa.func.max(sync_log.c.at))
        .where(sync_log.c.tenant_id == tenant_table.c.id)
        .scalar_subquery()
    )
    latest = {
        int(tenant_id): at for tenant_id, at in await conn.execute(sa.select(tenant_table.c.id, newest))
    }
    return [
        TenantOverview(
            t,
            people.get(t.id, 0),
            group_counts.get(t.id, 0),
            department_counts.get(t.id, 0),
            latest.get(t.id),
        )
        for t in tenants
    ]


async def recent_clients(conn: AsyncConnection, tenant_id: int) -> list[str]:
    """The clients that made the tenant's newest `RECENT_WINDOW` sync log entries, most frequent
    first (entries logged before clients were recorded are left out)."""
    rows = await conn.execute(
        sa.select(sync_log.c.client)
        .where(sync_log.c.tenant_id == tenant_id)
        .order_by(sync_log.c.at.desc(), sync_log.c.id.desc())
        .limit(RECENT_WINDOW)
    )
    counted = Counter(client for (client,) in rows if client)
    return [client for client, _ in counted.most_common()]
