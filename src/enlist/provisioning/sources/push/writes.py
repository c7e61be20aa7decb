"""Writing one push into the directory: a page of records through the framework's apply path.

Every SCIM write and every bulk operation becomes a `Page` (a user or group record, or a
removal) staged and applied as a one-page delta round in the caller's transaction
(`enlist.provisioning.sources.apply.apply_round`): the same rules and the same change feed as a
Graph read. What the apply path only reports (a userPrincipalName another owner has, a manager
or member that is not this source's) is an error here, raised inside the transaction, so
nothing of the request is applied. The source's `last_*` columns then describe the last push.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.provisioning.directory.errors import ConflictError
from enlist.provisioning.directory.tables import dir_groups, dir_users
from enlist.provisioning.sources import staging
from enlist.provisioning.sources import store as source_store
from enlist.provisioning.sources.apply import ApplyReport, RoundRef, apply_round
from enlist.provisioning.sources.model import Page
from enlist.provisioning.sources.push.tables import push_external_ids
from enlist.provisioning.sources.settings import SourceSettings
from enlist.provisioning.sources.store import Source
from enlist.provisioning.store.tables import applications
from enlist.scim.errors import ScimError, invalid_value, uniqueness


@dataclass(frozen=True, slots=True)
class Push:
    """Who pushes: the source (its row as authenticated) and its SCIM base URL."""

    source: Source
    base_url: str


async def apply_page(conn: AsyncConnection, push: Push, page: Page, what: str, now: datetime) -> ApplyReport:
    """Apply `page` in `conn`'s transaction; raises `ScimError` (and the caller's transaction
    rolls back) when any record of it could not be applied as sent."""
    source = push.source
    round_id = str(uuid.uuid4())
    await staging.stage(conn, source.id, round_id, page)
    ref = RoundRef(source.id, source.name, round_id, "delta")
    try:
        report = await apply_round(conn, ref, threshold=0, allow_deletes=True, now=now)
    except ConflictError as exc:
        raise uniqueness(f"{what}: {exc}") from None
    if report.conflicts:
        conflict = report.conflicts[0]
        raise uniqueness(
            f"{what}: userName {conflict['userPrincipalName']} belongs to another source's user "
            f"({conflict['owner']}); objects are never merged across sources"
        )
    if report.warnings:
        raise invalid_value(f"{what}: {report.warnings[0]}")
    await source_store.update_source(
        conn,
        source.id,
        last_started_at=now,
        last_finished_at=now,
        last_status="ok",
        last_counts={"push": what, **report.counts},
        last_error=None,
    )
    if report.changed and SourceSettings.from_json(source.settings).start_cycles_after_read:
        await conn.execute(
            applications.update()
            .where((applications.c.state == "active") & (applications.c.next_run_at > now))
            .values(next_run_at=now)
        )
    return report


async def owned(
    conn: AsyncConnection, push: Push, table: sa.Table, resource_id: str, *, deleted: bool = False
) -> Any:
    """This source's object with push id `resource_id` (a soft-deleted one only with `deleted`)."""
    query = sa.select(table).where((table.c.source == push.source.name) & (table.c.source_id == resource_id))
    if not deleted:
        query = query.where(table.c.deleted_at.is_(None))
    return (await conn.execute(query)).first()


async def push_ids(conn: AsyncConnection, table: sa.Table, directory_ids: list[str]) -> dict[str, str]:
    """Directory id -> push id (`source_id`) of the given objects."""
    if not directory_ids:
        return {}
    rows = await conn.execute(sa.select(table.c.id, table.c.source_id).where(table.c.id.in_(directory_ids)))
    return {r.id: r.source_id for r in rows}


async def live_members(
    conn: AsyncConnection, push: Push, ids: list[str], what: str
) -> tuple[set[str], set[str]]:
    """Split member push ids into this source's live users and groups; an id that is neither
    is `invalidValue` (Okta pushes only assigned users: a member we do not have must not be
    silently dropped)."""
    users: set[str] = set()
    groups: set[str] = set()
    for table, found in ((dir_users, users), (dir_groups, groups)):
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            rows = await conn.execute(
                sa.select(table.c.source_id).where(
                    (table.c.source == push.source.name)
                    & table.c.source_id.in_(part)
                    & table.c.deleted_at.is_(None)
                )
            )
            found.update(r[0] for r in rows)
    unknown = [i for i in ids if i not in users and i not in groups]
    if unknown:
        raise invalid_value(f"{what}: members value {unknown[0]} is not a user or group of this source")
    return users, groups


async def check_manager(conn: AsyncConnection, push: Push, manager: str | None, what: str) -> None:
    if manager is not None and await owned(conn, push, dir_users, manager) is None:
        raise invalid_value(
            f"{what}: urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value "
            f"{manager} is not a user of this source"
        )


async def by_external_id(conn: AsyncConnection, push: Push, kind: str, external_id: str) -> str | None:
    """The push id of this source's object whose `externalId` is `external_id` (any case)."""
    e = push_external_ids.c
    query = sa.select(e.source_id).where(
        (e.source == push.source.id) & (e.kind == kind) & (e.external_id_ci == external_id.casefold())
    )
    return (await conn.execute(query)).scalar()


async def keep_external_id(
    conn: AsyncConnection, push: Push, kind: str, resource_id: str, external_id: object, what: str
) -> None:
    """Record the object's `externalId` (or that it has none); one another object of this
    source has already is `uniqueness`."""
    e = push_external_ids.c
    mine = (e.source == push.source.id) & (e.kind == kind)
    await conn.execute(push_external_ids.delete().where(mine & (e.source_id == resource_id)))
    if not isinstance(external_id, str) or not external_id:
        return
    holder = await by_external_id(conn, push, kind, external_id)
    table = dir_users if kind == "user" else dir_groups
    if holder is not None and await owned(conn, push, table, holder, deleted=True) is None:
        # Its object was purged (30 days after its deletion): the externalId is free again.
        await conn.execute(push_external_ids.delete().where(mine & (e.source_id == holder)))
    elif holder is not None:
        raise uniqueness(f"{what}: externalId {external_id} is another {kind}'s of this source ({holder})")
    await conn.execute(
        push_external_ids.insert().values(
            source=push.source.id, kind=kind, external_id_ci=external_id.casefold(), source_id=resource_id
        )
    )


def named(error: ScimError, what: str) -> ScimError:
    """`error` with the operation it stopped named first (once)."""
    if error.detail.startswith(what):
        return error
    return ScimError(error.status, f"{what}: {error.detail}", error.scim_type, error.headers)
