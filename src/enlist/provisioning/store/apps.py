"""Applications in the store: create, connect, settings, assignments, and their states.

States, as the Overview page shows them: `not_configured` (no Tenant URL and Secret token yet),
`stopped` (connected, provisioning not started), `active` (cycles run on schedule),
`paused`, `quarantined` (cycles run on a backed-off schedule until they succeed), `disabled`
(quarantined for more than four weeks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.db.rows import chunks, insert_ignoring_duplicates, now
from enlist.provisioning.engine.app_settings import AppSettings
from enlist.provisioning.store.tables import (
    app_pending,
    applications,
    assignments,
    escrows,
    staged_deletions,
)

State = Literal["not_configured", "stopped", "active", "paused", "quarantined", "disabled"]


class UnknownAppError(LookupError):
    """No application with that name."""


class AppExistsError(ValueError):
    """An application with that name exists already."""


@dataclass(frozen=True, slots=True)
class App:
    id: int
    name: str
    tenant_url: str | None
    sealed_token: str | None
    settings: AppSettings
    user_mapping: dict[str, Any]
    group_mapping: dict[str, Any]
    scoping: list[Any]
    state: str
    quarantine: dict[str, Any] | None
    watermark: int | None
    next_run_at: datetime | None
    allow_deletes: bool

    @property
    def connected(self) -> bool:
        return self.tenant_url is not None and self.sealed_token is not None


def _app(row: Any) -> App:
    m = row._mapping  # noqa: SLF001
    return App(
        id=m["id"],
        name=m["name"],
        tenant_url=m["tenant_url"],
        sealed_token=m["secret_token"],
        settings=AppSettings.from_json(m["settings"]),
        user_mapping=m["user_mapping"],
        group_mapping=m["group_mapping"],
        scoping=m["scoping"],
        state=m["state"],
        quarantine=m["quarantine"],
        watermark=m["watermark"],
        next_run_at=m["next_run_at"],
        allow_deletes=m["allow_deletes"],
    )


async def create_app(
    conn: AsyncConnection, name: str, user_mapping: dict[str, Any], group_mapping: dict[str, Any]
) -> App:
    name = name.strip()
    if not name or len(name) > 200:
        raise ValueError("an application needs a name of 1 to 200 characters")
    if "/" in name or any(not c.isprintable() for c in name):
        # The name is a path segment of its pages and API (/admin/apps/{name}/..., /api/v1/apps/{name}).
        raise ValueError(f"an application's name cannot contain '/' or control characters: {name!r}")
    if await find_app(conn, name) is not None:
        raise AppExistsError(f"an application named {name!r} exists already")
    moment = now()
    await conn.execute(
        applications.insert().values(
            name=name,
            name_ci=name.casefold(),
            settings=AppSettings().to_json(),
            user_mapping=user_mapping,
            group_mapping=group_mapping,
            scoping=[],
            state="not_configured",
            created_at=moment,
            updated_at=moment,
        )
    )
    return await get_app(conn, name)


async def find_app(conn: AsyncConnection, name: str) -> App | None:
    query = sa.select(applications).where(applications.c.name_ci == name.strip().casefold())
    row = (await conn.execute(query)).first()
    return _app(row) if row else None


async def get_app(conn: AsyncConnection, name: str) -> App:
    app = await find_app(conn, name)
    if app is None:
        raise UnknownAppError(
            f"no application named {name!r}; `enlist provisioning app create NAME` makes one"
        )
    return app


async def get_app_by_id(conn: AsyncConnection, app_id: int) -> App:
    row = (await conn.execute(sa.select(applications).where(applications.c.id == app_id))).first()
    if row is None:
        raise UnknownAppError(f"no application with id {app_id}")
    return _app(row)


async def list_apps(conn: AsyncConnection) -> list[App]:
    rows = await conn.execute(sa.select(applications).order_by(applications.c.name_ci))
    return [_app(r) for r in rows]


async def update_app(conn: AsyncConnection, app_id: int, **values: Any) -> None:
    await conn.execute(
        applications.update().where(applications.c.id == app_id).values(updated_at=now(), **values)
    )


async def connect(conn: AsyncConnection, app: App, tenant_url: str, sealed_token: str) -> None:
    """Save the Tenant URL and the (sealed) Secret token; a new app becomes `stopped`."""
    state = "stopped" if app.state == "not_configured" else app.state
    await update_app(conn, app.id, tenant_url=tenant_url, secret_token=sealed_token, state=state)


async def assign(conn: AsyncConnection, app: App, kind: str, source_ids: list[str]) -> int:
    """Assign users or groups; each becomes pending for the next incremental cycle."""
    moment = now()
    existing = await assigned_ids(conn, app.id, kind)
    new = [s for s in dict.fromkeys(source_ids) if s not in existing]
    for part in chunks(new):
        await conn.execute(
            assignments.insert(),
            [{"app_id": app.id, "kind": kind, "source_id": s, "assigned_at": moment} for s in part],
        )
    await mark_pending(conn, app.id, kind, new)
    return len(new)


async def unassign(conn: AsyncConnection, app: App, kind: str, source_ids: list[str]) -> int:
    existing = await assigned_ids(conn, app.id, kind)
    gone = [s for s in dict.fromkeys(source_ids) if s in existing]
    for part in chunks(gone):
        await conn.execute(
            assignments.delete().where(
                (assignments.c.app_id == app.id)
                & (assignments.c.kind == kind)
                & assignments.c.source_id.in_(part)
            )
        )
    await mark_pending(conn, app.id, kind, gone)
    return len(gone)


async def assigned_ids(conn: AsyncConnection, app_id: int, kind: str) -> set[str]:
    rows = await conn.execute(
        sa.select(assignments.c.source_id).where(
            (assignments.c.app_id == app_id) & (assignments.c.kind == kind)
        )
    )
    return {r[0] for r in rows}


async def mark_pending(conn: AsyncConnection, app_id: int, kind: str, source_ids: list[str]) -> None:
    statement = insert_ignoring_duplicates(conn, app_pending)
    for part in chunks(source_ids):
        await conn.execute(statement, [{"app_id": app_id, "kind": kind, "source_id": s} for s in part])


async def take_pending(conn: AsyncConnection, app_id: int) -> dict[str, set[str]]:
    rows = await conn.execute(
        sa.select(app_pending.c.kind, app_pending.c.source_id).where(app_pending.c.app_id == app_id)
    )
    pending: dict[str, set[str]] = {"user": set(), "group": set()}
    for kind, source_id in rows:
        pending.setdefault(kind, set()).add(source_id)
    return pending


async def clear_pending(conn: AsyncConnection, app_id: int, kind: str, source_ids: set[str]) -> None:
    for part in chunks(sorted(source_ids)):
        await conn.execute(
            app_pending.delete().where(
                (app_pending.c.app_id == app_id)
                & (app_pending.c.kind == kind)
                & app_pending.c.source_id.in_(part)
            )
        )


async def start(conn: AsyncConnection, app: App) -> None:
    """Start provisioning: cycles run from now on; a quarantine is lifted (Entra's Start)."""
    if not app.connected:
        raise ValueError(
            f"{app.name} is not connected: run `enlist provisioning app connect` with its Tenant URL "
            "and Secret token first"
        )
    await update_app(conn, app.id, state="active", quarantine=None, next_run_at=now())


async def pause(conn: AsyncConnection, app: App) -> None:
    """Pause: no cycle starts; a running one stops at the next object boundary."""
    await update_app(conn, app.id, state="paused")


async def restart(conn: AsyncConnection, app: App) -> None:
    """Restart: clear the watermark, escrows, quarantine and staged deletions (the next cycle is
    an initial one); keep the links to target objects, so nothing is created twice."""
    if not app.connected:
        raise ValueError(f"{app.name} is not connected yet")
    await conn.execute(escrows.delete().where(escrows.c.app_id == app.id))
    await conn.execute(staged_deletions.delete().where(staged_deletions.c.app_id == app.id))
    await update_app(
        conn, app.id, state="active", quarantine=None, watermark=None, next_run_at=now(), allow_deletes=False
    )


async def reseal_tokens(conn: AsyncConnection, reseal: Callable[[str], str]) -> int:
    """Re-encrypt every stored Secret token with `reseal`; raises (changing nothing, the caller's
    transaction rolls back) on the first one that does not open."""
    rows = (
        await conn.execute(
            sa.select(applications.c.id, applications.c.secret_token).where(
                applications.c.secret_token.is_not(None)
            )
        )
    ).all()
    for row in rows:
        await conn.execute(
            sa.update(applications)
            .where(applications.c.id == row.id)
            .values(secret_token=reseal(row.secret_token))
        )
    return len(rows)
