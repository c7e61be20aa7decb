"""The sender both services run: delivers an outbox's due notifications, each under a lease, and
marks them. Each service gives its own tables and its delivery (`Outbox`).

A row is claimed with a conditional UPDATE (pending, due, lease free, expired, or held by a dead
process of this host), delivered, then marked in one transaction that also records the attempt,
only while the lease is still this claim's. The guarantee (ADR 0025): at least once. A sender
killed after the other end accepted a notification and before the mark commits leaves the row
pending; it is delivered again, with the same Message-ID / `X-Enlist-Delivery`, so a receiver that
keeps the ids it has seen drops the duplicate. Nothing committed to the outbox is lost: a row
leaves `pending` only by being marked sent, or failed after `MAX_ATTEMPTS` attempts.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from enlist.db.database import Database
from enlist.db.leases import holder_is_dead, owner_id
from enlist.db.rows import now
from enlist.notify.delivery import DeliveryError, Notification

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)  # longer than one attempt's timeouts (SMTP 30 s, webhook 30 s)
MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
BATCH = 50


def retry_after(attempts: int) -> timedelta:
    """The wait before the next attempt after `attempts` failed ones: 30 s, doubling, at most 1 h."""
    wait: timedelta = FIRST_RETRY * 2 ** (attempts - 1)
    return min(wait, LONGEST_RETRY)


@dataclass(frozen=True, slots=True)
class Outbox:
    """One service's outbox: its database, its outbox and attempts tables (the columns of
    `enlist.provisioning.notify.tables`), one delivery attempt, and how a sealed webhook secret
    is opened."""

    db: Database
    table: sa.Table
    attempts: sa.Table
    deliver: Callable[[Notification], Awaitable[str]]
    open_secret: Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Outcome:
    outbox_id: int
    channel: str
    destination: str
    status: str
    detail: str

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.outbox_id,
            "channel": self.channel,
            "destination": self.destination,
            "status": self.status,
            "detail": self.detail,
        }


async def _claim(
    outbox: Outbox, owner: str, moment: datetime, ids: list[int] | None
) -> list[sa.Row[tuple[object, ...]]]:
    table = outbox.table
    due = (table.c.status == "pending") & (table.c.next_attempt_at <= moment)
    if ids is not None:
        due = (table.c.status == "pending") & table.c.id.in_(ids)
    claimed = []
    async with outbox.db.read() as conn:
        candidates = (
            await conn.execute(
                sa.select(table.c.id, table.c.lease_owner, table.c.lease_expires_at)
                .where(due)
                .order_by(table.c.id)
                .limit(BATCH)
            )
        ).all()
    for row in candidates:
        free = table.c.lease_owner.is_(None) | (table.c.lease_expires_at < moment)
        if holder_is_dead(row.lease_owner):
            free = free | (table.c.lease_owner == row.lease_owner)
        async with outbox.db.write() as conn:
            result = await conn.execute(
                table.update()
                .where((table.c.id == row.id) & (table.c.status == "pending") & free)
                .values(lease_owner=owner, lease_expires_at=moment + LEASE)
            )
            if result.rowcount == 1:
                claimed.append((await conn.execute(sa.select(table).where(table.c.id == row.id))).one())
    return claimed


async def send_due(
    outbox: Outbox, *, ids: list[int] | None = None, owner: str | None = None
) -> list[Outcome]:
    """Deliver the due pending notifications (or those of `ids`, due or not) that no live sender
    holds; what became of each."""
    owner = owner or owner_id()
    outcomes = []
    for row in await _claim(outbox, owner, now(), ids):
        secret = outbox.open_secret(row.sealed_secret) if row.sealed_secret else None
        notification = Notification(row.channel, row.destination, row.message_id, dict(row.payload), secret)
        try:
            detail, ok = await outbox.deliver(notification), True
        except DeliveryError as exc:
            detail, ok = str(exc), False
        outcomes.append(await _mark(outbox, row, owner, ok=ok, detail=detail))
    return outcomes


async def _mark(
    outbox: Outbox, row: sa.Row[tuple[object, ...]], owner: str, *, ok: bool, detail: str
) -> Outcome:
    table = outbox.table
    moment = now()
    attempts = int(row.attempts) + 1
    if ok:
        values = {"status": "sent", "sent_at": moment, "last_error": None}
    elif attempts >= MAX_ATTEMPTS:
        values = {"status": "failed", "last_error": detail}
    else:
        values = {"next_attempt_at": moment + retry_after(attempts), "last_error": detail}
    async with outbox.db.write() as conn:
        result = await conn.execute(
            table.update()
            .where((table.c.id == row.id) & (table.c.lease_owner == owner))
            .values(attempts=attempts, lease_owner=None, lease_expires_at=None, **values)
        )
        if result.rowcount == 1:  # a lease taken over since: that sender records its own attempt
            await conn.execute(
                outbox.attempts.insert().values(
                    outbox_id=row.id, number=attempts, at=moment, ok=ok, detail=detail
                )
            )
    status = str(values.get("status", "pending"))
    if not ok:
        logger.warning("notification %s to %s: %s", row.id, row.channel, detail)
    return Outcome(int(row.id), str(row.channel), str(row.destination), status, detail)
