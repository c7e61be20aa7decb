"""What raises and clears each alert kind: called by the runner at a cycle's end and by a source
read at its outcome, inside the transaction that records it (one call each)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.provisioning.engine.summary import CycleSummary
from enlist.provisioning.notify.outbox import clear_condition, raise_condition
from enlist.provisioning.notify.tables import notification_conditions
from enlist.provisioning.store.apps import App, list_apps

SUCCESSES = ("created", "updated", "disabled", "deleted")


async def after_cycle(
    conn: AsyncConnection,
    app: App,
    summary: CycleSummary,
    quarantine: dict[str, str] | None,
    moment: datetime,
) -> None:
    """`quarantine` is the quarantine the cycle put the application in (its reason and message),
    or None when the cycle left it out of quarantine."""
    base = {"cycle_id": summary.cycle_id, "status": summary.status, "counts": dict(summary.counts)}
    if quarantine is not None:
        await raise_condition(conn, app, "quarantine", {**base, **quarantine}, moment)
    elif summary.status != "failed":
        await clear_condition(conn, app, "quarantine", base, moment)
    if summary.too_many_deletes:
        staged = {
            **base,
            "staged": summary.counts.get("staged", 0),
            "threshold": app.settings.deletion_threshold,
        }
        await raise_condition(conn, app, "staged_deletions", staged, moment)
    elif summary.completed:
        await clear_condition(conn, app, "staged_deletions", base, moment)
    failed = summary.counts.get("failed", 0)
    processed = failed + sum(summary.counts.get(k, 0) for k in SUCCESSES)
    if processed:
        share = 100.0 * failed / processed
        details = {
            **base,
            "failed_percent": round(share, 1),
            "threshold_percent": app.settings.notify_failure_percent,
        }
        if share > app.settings.notify_failure_percent:
            await raise_condition(conn, app, "cycle_failures", details, moment)
        else:
            await clear_condition(conn, app, "cycle_failures", details, moment)


def _source_key(source_id: int) -> str:
    return f"source:{source_id}"


async def source_read_failed(
    conn: AsyncConnection, source_id: int, source_name: str, error: str, moment: datetime
) -> int:
    """Count one more failed read in a row of the source; raise `source_failing` on every
    application whose `notify_source_failures` the count has reached. The count."""
    key = _source_key(source_id)
    table = notification_conditions
    row = (await conn.execute(sa.select(table.c.count).where(table.c.key == key))).first()
    count = (row[0] if row else 0) + 1
    if row is None:
        await conn.execute(
            table.insert().values(
                key=key, app_id=None, active=True, notified=False, count=count, updated_at=moment
            )
        )
    else:
        await conn.execute(table.update().where(table.c.key == key).values(count=count, updated_at=moment))
    details = {"source": source_name, "failures_in_a_row": count, "error": error}
    for app in await list_apps(conn):
        if count >= app.settings.notify_source_failures:
            await raise_condition(conn, app, "source_failing", details, moment, subject=source_name)
    return count


async def source_read_ok(conn: AsyncConnection, source_id: int, source_name: str, moment: datetime) -> None:
    """A read succeeded: the count starts again, and each application told of the failures is
    told of the recovery."""
    table = notification_conditions
    result = await conn.execute(table.update().where(table.c.key == _source_key(source_id)).values(count=0))
    if not result.rowcount:
        return  # never failed: nothing to clear
    for app in await list_apps(conn):
        await clear_condition(
            conn, app, "source_failing", {"source": source_name}, moment, subject=source_name
        )
