"""The portal's alerts: each tenant's notification settings, and the conditions raised and cleared
inside the write that changed them, a SCIM write or a policy save that changed `seat_limit` (the
outbox row commits with the write or not at all; the sender delivers it later, ADR 0025).
The quiet-period rule is `enlist.notify.rule`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.lms.domain.tenants import Tenant
from enlist.lms.notify import tables
from enlist.lms.store import users as user_store
from enlist.lms.store.tenants import lock_tenant
from enlist.notify import rule

KINDS: dict[str, str] = {
    "seat_limit": "the tenant's active users reached its seat_limit (and, recovered, fell below it)",
}
"""Every portal alert kind, with what raises it."""

DEFAULT_QUIET_MINUTES = 60.0


@dataclass(frozen=True, slots=True)
class NotificationSettings:
    """Where a tenant's alerts go; `webhook_secret` is sealed (`enlist.secretbox`)."""

    email: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    kinds_off: frozenset[str] = field(default_factory=frozenset)
    quiet_minutes: float = DEFAULT_QUIET_MINUTES

    def enabled(self, kind: str) -> bool:
        return kind in KINDS and kind not in self.kinds_off


async def load(conn: AsyncConnection, tenant_id: int) -> NotificationSettings | None:
    """The tenant's settings, None when it never set any (then nothing is raised)."""
    row = (
        await conn.execute(sa.select(tables.settings).where(tables.settings.c.tenant_id == tenant_id))
    ).first()
    if row is None:
        return None
    return NotificationSettings(
        row.email, row.webhook_url, row.webhook_secret, frozenset(row.kinds_off), float(row.quiet_minutes)
    )


async def save(conn: AsyncConnection, tenant_id: int, chosen: NotificationSettings, moment: datetime) -> None:
    values = {
        "email": chosen.email,
        "webhook_url": chosen.webhook_url,
        "webhook_secret": chosen.webhook_secret,
        "kinds_off": sorted(chosen.kinds_off),
        "quiet_minutes": chosen.quiet_minutes,
        "updated_at": moment,
    }
    table = tables.settings
    result = await conn.execute(table.update().where(table.c.tenant_id == tenant_id).values(**values))
    if not result.rowcount:
        await conn.execute(table.insert().values(tenant_id=tenant_id, **values))


def message_id() -> str:
    """The idempotency key of one notification (email Message-ID, `X-Enlist-Delivery`)."""
    return f"<{uuid.uuid4()}@enlist.notify>"


async def enqueue(
    conn: AsyncConnection,
    tenant: Tenant,
    chosen: NotificationSettings,
    kind: str,
    event: str,
    details: dict[str, Any],
    moment: datetime,
) -> list[int]:
    """One outbox row per channel the tenant has (its email, its webhook); their ids."""
    payload = {
        "tenant": tenant.slug,
        "tenant_name": tenant.name,
        "kind": kind,
        "event": event,
        "occurred_at": moment.isoformat(),
        "details": details,
    }
    channels: list[tuple[str, str, str | None]] = []
    if chosen.email:
        channels.append(("email", chosen.email, None))
    if chosen.webhook_url:
        channels.append(("webhook", chosen.webhook_url, chosen.webhook_secret))
    ids = []
    for channel, destination, secret in channels:
        result = await conn.execute(
            tables.outbox.insert().values(
                tenant_id=tenant.id,
                kind=kind,
                event=event,
                channel=channel,
                destination=destination,
                sealed_secret=secret,
                message_id=message_id(),
                payload=payload,
                status="pending",
                attempts=0,
                next_attempt_at=moment,
                created_at=moment,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        ids.append(int(key[0]))
    return ids


async def _change(
    conn: AsyncConnection,
    tenant: Tenant,
    chosen: NotificationSettings,
    kind: str,
    details: dict[str, Any],
    moment: datetime,
    *,
    raising: bool,
) -> bool:
    """Raise or clear `kind` on the tenant; True when a notification was written."""
    table = tables.conditions
    key = (table.c.tenant_id == tenant.id) & (table.c.kind == kind)
    row = (await conn.execute(sa.select(table).where(key))).first()
    before = rule.Condition(row.active, row.notified, row.last_notified_at) if row else rule.Condition()
    if raising:
        after, send = rule.raised(before, moment, timedelta(minutes=chosen.quiet_minutes))
    else:
        after, send = rule.cleared(before)
    if after != before:
        values = {
            "active": after.active,
            "notified": after.notified,
            "last_notified_at": after.last_notified_at,
            "updated_at": moment,
        }
        if row is None:
            await conn.execute(table.insert().values(tenant_id=tenant.id, kind=kind, **values))
        else:
            await conn.execute(table.update().where(key).values(**values))
    if send:
        await enqueue(conn, tenant, chosen, kind, "raised" if raising else "recovered", details, moment)
    return send


async def seats_changed(conn: AsyncConnection, tenant: Tenant, moment: datetime) -> bool:
    """Called in the transaction of a SCIM write that activated or deactivated a user (or after
    one the seat limit refused): raise `seat_limit` when the active users fill the limit, clear
    it when they fall below. True when a notification was written.

    The tenant row is locked (PostgreSQL) before counting, as the seat check does, so two
    concurrent writes see each other's count and a change is told once."""
    limit = tenant.policy.seat_limit
    if limit is None:
        return False
    chosen = await load(conn, tenant.id)
    if chosen is None or not chosen.enabled("seat_limit"):
        return False  # a kind turned off records nothing: turning it on starts afresh
    await lock_tenant(conn, tenant.id)
    used = await user_store.count_active(conn, tenant.id)
    details = {"seats_used": used, "seat_limit": limit}
    return await _change(conn, tenant, chosen, "seat_limit", details, moment, raising=used >= limit)


async def seat_limit_set(conn: AsyncConnection, tenant: Tenant, moment: datetime) -> bool:
    """Called in the transaction of a policy save that gave `tenant` (as saved) a new
    `seat_limit`: a limit at or below the active users raises `seat_limit`, one above them
    clears it, as `seats_changed` does. A limit removed clears it too: nothing is full without
    one, and a condition left raised would silence the next limit's alert. True when a
    notification was written."""
    if tenant.policy.seat_limit is not None:
        return await seats_changed(conn, tenant, moment)
    chosen = await load(conn, tenant.id)
    if chosen is None or not chosen.enabled("seat_limit"):
        return False
    await lock_tenant(conn, tenant.id)
    details = {"seats_used": await user_store.count_active(conn, tenant.id), "seat_limit": None}
    return await _change(conn, tenant, chosen, "seat_limit", details, moment, raising=False)
