"""Provision on demand: one user through the whole pipeline now, with its steps shown.

Like Entra's: the user is imported, scoped, matched and created, updated or disabled in the
target right away, outside the schedule; the provisioning log gets the record; the watermark does
not move. Unlike Entra's, the user's manager and group memberships follow in the same run.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from enlist.db.leases import owner_id
from enlist.provisioning.directory import store as directory
from enlist.provisioning.directory.source import DirectorySource
from enlist.provisioning.engine.cycle import Cycle, Work
from enlist.provisioning.engine.mapped import Mappings
from enlist.provisioning.engine.runner import (
    CycleBusyError,
    claim,
    refuse_if_paused,
    release,
    target_for,
)
from enlist.provisioning.engine.scope import Assignments
from enlist.provisioning.logs import store as log_store
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store.apps import App
from enlist.provisioning.store.tables import provisioning_log


class UnknownUserError(LookupError):
    """No user with that userPrincipalName in the directory."""


async def provision_on_demand(service: Service, app: App, upn: str, *, target: Any = None) -> dict[str, Any]:
    """Provision the user `upn` now, under a lease of its own. While a cycle of `app` runs (the
    scheduler's, a `sync`, in this process or another) it is refused with `CycleBusyError`: it
    would race the cycle over the same links. A paused app is refused (`AppPausedError`)."""
    async with service.db.read() as conn:
        user = await directory.get_user_by_upn(conn, upn)
        if user is None:
            raise UnknownUserError(f"no user {upn!r} in the directory")
        groups = await directory.groups_containing(conn, [user.id])
        assignments = Assignments(
            frozenset(await app_store.assigned_ids(conn, app.id, "user")),
            frozenset(await app_store.assigned_ids(conn, app.id, "group")),
        )
    owner = owner_id()
    if not await claim(service, app, owner):
        raise CycleBusyError(f"a cycle of {app.name} is running; provision on demand when it ends")
    try:
        async with service.db.read() as conn:
            app = await app_store.get_app_by_id(conn, app.id)
        refuse_if_paused(app)
        work = Work(users={user.id}, pairs={(g, user.id) for g in groups.get(user.id, set())})
        source = DirectorySource(service.db)
        if target is None:
            async with target_for(service, app) as fresh:
                summary = await Cycle(
                    service.db, app, source, fresh, Mappings.from_app(app), assignments
                ).run(work, 0)
        else:
            summary = await Cycle(service.db, app, source, target, Mappings.from_app(app), assignments).run(
                work, 0
            )
    finally:
        await release(service, app, owner)
    async with service.db.read() as conn:
        rows = await conn.execute(
            sa.select(provisioning_log)
            .where((provisioning_log.c.app_id == app.id) & (provisioning_log.c.cycle_id == summary.cycle_id))
            .order_by(provisioning_log.c.id)
        )
        records = [log_store.as_json(r) for r in rows]
    user_record = next((r for r in records if r["object_kind"] == "user" and r["source_id"] == user.id), None)
    return {
        "user": upn,
        "cycle_id": summary.cycle_id,
        "action": user_record["action"] if user_record else "other",
        "status": user_record["status"] if user_record else "skipped",
        "steps": user_record["steps"] if user_record else [],
        "modified": user_record["modified"] if user_record else [],
        "records": records,
        "summary": summary.to_json(),
    }
