"""Links, written memberships and escrows: the engine's memory between cycles.

Links survive restarts and Restart provisioning; they are what makes a re-run after a crash
converge without duplicates (a created object whose link was not written yet is found again by
the matching query and adopted).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.db.rows import chunks, insert_ignoring_duplicates, now
from enlist.provisioning.engine.plan import LinkState
from enlist.provisioning.store.tables import escrows, link_members, links

# Entra's retry schedule for a failing object: next cycle, then backing off (§5.7).
ESCROW_BACKOFF = (
    timedelta(0),
    timedelta(minutes=40),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
)
ESCROW_MAX_BACKOFF = timedelta(hours=24)


def state_hash(state: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(state, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def load_links(
    conn: AsyncConnection, app_id: int, kind: str, source_ids: Iterable[str]
) -> dict[str, LinkState]:
    found: dict[str, LinkState] = {}
    for part in chunks(sorted(set(source_ids))):
        rows = await conn.execute(
            sa.select(links.c.source_id, links.c.target_id, links.c.state, links.c.disabled).where(
                (links.c.app_id == app_id) & (links.c.kind == kind) & links.c.source_id.in_(part)
            )
        )
        for source_id, target_id, state, disabled in rows:
            found[source_id] = LinkState(target_id, state, disabled)
    return found


async def linked_source_ids(conn: AsyncConnection, app_id: int, kind: str) -> set[str]:
    rows = await conn.execute(
        sa.select(links.c.source_id).where((links.c.app_id == app_id) & (links.c.kind == kind))
    )
    return {r[0] for r in rows}


async def save_link(
    conn: AsyncConnection,
    app_id: int,
    kind: str,
    source_id: str,
    target_id: str,
    state: dict[str, Any],
    *,
    disabled: bool,
) -> None:
    values = {
        "target_id": target_id,
        "state": state,
        "state_hash": state_hash(state),
        "disabled": disabled,
        "updated_at": now(),
    }
    updated = await conn.execute(
        links.update()
        .where((links.c.app_id == app_id) & (links.c.kind == kind) & (links.c.source_id == source_id))
        .values(**values)
    )
    if updated.rowcount == 0:
        await conn.execute(links.insert().values(app_id=app_id, kind=kind, source_id=source_id, **values))


async def save_links(
    conn: AsyncConnection, app_id: int, kind: str, saved: dict[str, tuple[str, dict[str, Any], bool]]
) -> None:
    """`save_link` for many links of one kind (`{source_id: (target_id, state, disabled)}`): one
    upsert executed for all of them, so a page of links costs a statement, not two per link."""
    moment = now()
    rows = [
        {
            "app_id": app_id,
            "kind": kind,
            "source_id": source_id,
            "target_id": target_id,
            "state": state,
            "state_hash": state_hash(state),
            "disabled": disabled,
            "updated_at": moment,
        }
        for source_id, (target_id, state, disabled) in sorted(saved.items())
    ]
    if not rows:
        return
    insert = postgresql.insert(links) if conn.dialect.name == "postgresql" else sqlite.insert(links)
    statement = insert.on_conflict_do_update(
        index_elements=[links.c.app_id, links.c.kind, links.c.source_id],
        set_={
            name: insert.excluded[name]
            for name in ("target_id", "state", "state_hash", "disabled", "updated_at")
        },
    )
    for part in chunks(rows):
        await conn.execute(statement, part)


async def drop_link(conn: AsyncConnection, app_id: int, kind: str, source_id: str) -> None:
    await conn.execute(
        links.delete().where(
            (links.c.app_id == app_id) & (links.c.kind == kind) & (links.c.source_id == source_id)
        )
    )
    column = link_members.c.group_id if kind == "group" else link_members.c.user_id
    await conn.execute(link_members.delete().where((link_members.c.app_id == app_id) & (column == source_id)))


async def written_members(
    conn: AsyncConnection, app_id: int, group_ids: Iterable[str]
) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for part in chunks(sorted(set(group_ids))):
        rows = await conn.execute(
            sa.select(link_members.c.group_id, link_members.c.user_id).where(
                (link_members.c.app_id == app_id) & link_members.c.group_id.in_(part)
            )
        )
        for group_id, user_id in rows:
            result.setdefault(group_id, set()).add(user_id)
    return result


async def written_groups_of(
    conn: AsyncConnection, app_id: int, user_ids: Iterable[str]
) -> dict[str, set[str]]:
    """`{user: {groups the engine wrote them into}}`."""
    result: dict[str, set[str]] = {}
    for part in chunks(sorted(set(user_ids))):
        rows = await conn.execute(
            sa.select(link_members.c.user_id, link_members.c.group_id).where(
                (link_members.c.app_id == app_id) & link_members.c.user_id.in_(part)
            )
        )
        for user_id, group_id in rows:
            result.setdefault(user_id, set()).add(group_id)
    return result


async def record_members(
    conn: AsyncConnection, app_id: int, group_id: str, added: list[str], removed: list[str]
) -> None:
    statement = insert_ignoring_duplicates(conn, link_members)
    for part in chunks(added):
        await conn.execute(statement, [{"app_id": app_id, "group_id": group_id, "user_id": u} for u in part])
    for part in chunks(removed):
        await conn.execute(
            link_members.delete().where(
                (link_members.c.app_id == app_id)
                & (link_members.c.group_id == group_id)
                & link_members.c.user_id.in_(part)
            )
        )


async def escrow(
    conn: AsyncConnection,
    app_id: int,
    kind: str,
    source_id: str,
    code: str,
    reason: str,
    *,
    is_reference: bool = False,
) -> int:
    """Remember a failed object for retry with backoff; returns its attempt count."""
    row = (
        await conn.execute(
            sa.select(escrows.c.attempts).where(
                (escrows.c.app_id == app_id) & (escrows.c.kind == kind) & (escrows.c.source_id == source_id)
            )
        )
    ).first()
    attempts = (row[0] if row else 0) + 1
    delay = ESCROW_BACKOFF[attempts - 1] if attempts <= len(ESCROW_BACKOFF) else ESCROW_MAX_BACKOFF
    values = {
        "attempts": attempts,
        "next_attempt_at": now() + delay,
        "error_code": code,
        "reason": reason[:4000],
        "is_reference": is_reference,
    }
    if row:
        await conn.execute(
            escrows.update()
            .where(
                (escrows.c.app_id == app_id) & (escrows.c.kind == kind) & (escrows.c.source_id == source_id)
            )
            .values(**values)
        )
    else:
        await conn.execute(escrows.insert().values(app_id=app_id, kind=kind, source_id=source_id, **values))
    return attempts


async def clear_escrow(conn: AsyncConnection, app_id: int, kind: str, source_ids: Iterable[str]) -> None:
    for part in chunks(sorted(set(source_ids))):
        await conn.execute(
            escrows.delete().where(
                (escrows.c.app_id == app_id) & (escrows.c.kind == kind) & escrows.c.source_id.in_(part)
            )
        )


async def due_escrows(conn: AsyncConnection, app_id: int, at: datetime) -> dict[str, set[str]]:
    rows = await conn.execute(
        sa.select(escrows.c.kind, escrows.c.source_id).where(
            (escrows.c.app_id == app_id) & (escrows.c.next_attempt_at <= at)
        )
    )
    due: dict[str, set[str]] = {"user": set(), "group": set()}
    for kind, source_id in rows:
        due.setdefault(kind, set()).add(source_id)
    return due


async def escrow_counts(conn: AsyncConnection, app_id: int) -> tuple[int, int]:
    """(failures excluding references, reference failures) currently in escrow."""
    rows = await conn.execute(
        sa.select(escrows.c.is_reference, sa.func.count())
        .where(escrows.c.app_id == app_id)
        .group_by(escrows.c.is_reference)
    )
    counts = {bool(ref): n for ref, n in rows}
    return counts.get(False, 0), counts.get(True, 0)
