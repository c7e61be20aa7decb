"""What the Overview shows of an application: state, progress, last and next cycle, counts."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

from enlist.plural import plural
from enlist.provisioning.service import Service
from enlist.provisioning.store.apps import App
from enlist.provisioning.store.tables import cycles, escrows, links, staged_deletions
from enlist.web.paths import ADMIN_PREFIX

STATE_LABELS = {
    "not_configured": "Not configured: connect the application (Tenant URL, Secret token)",
    "stopped": "Connected; provisioning not started",
    "active": "Active",
    "paused": "Paused",
    "quarantined": "Quarantined",
    "disabled": "Disabled after four weeks in quarantine",
}


def overview_url(service: Service, app: App) -> str:
    """The application's Overview page on the provisioning service's admin site."""
    return f"{service.public_url}{ADMIN_PREFIX}/apps/{quote(app.name, safe='')}/overview"


async def describe(service: Service, app: App) -> dict[str, Any]:
    """The app's configuration (never its Secret token)."""
    return {
        "name": app.name,
        "state": app.state,
        "tenant_url": app.tenant_url,
        "connected": app.connected,
        "settings": app.settings.to_json(),
        "quarantine": app.quarantine,
        "next_run_at": app.next_run_at.isoformat() if app.next_run_at else None,
        "provisioning_url": overview_url(service, app),
    }


def _cycle(row: Any) -> dict[str, Any]:
    m = row._mapping  # noqa: SLF001
    return {
        "cycle_id": m["id"],
        "kind": m["kind"],
        "status": m["status"],
        "started_at": m["started_at"].isoformat(),
        "finished_at": m["finished_at"].isoformat() if m["finished_at"] else None,
        "progress": {"done": m["progress_done"], "total": m["progress_total"]},
        "summary": m["counts"] or None,
        "error": m["error"],
    }


async def status(service: Service, app: App, *, recent: int = 10) -> dict[str, Any]:
    async with service.db.read() as conn:
        rows = (
            await conn.execute(
                sa.select(cycles)
                .where(cycles.c.app_id == app.id)
                .order_by(cycles.c.started_at.desc())
                .limit(recent)
            )
        ).all()
        counted = await conn.execute(
            sa.select(links.c.kind, sa.func.count()).where(links.c.app_id == app.id).group_by(links.c.kind)
        )
        linked = {row[0]: row[1] for row in counted}
        escrowed = (
            await conn.execute(sa.select(sa.func.count()).where(escrows.c.app_id == app.id))
        ).scalar_one()
        staged = (
            await conn.execute(sa.select(sa.func.count()).where(staged_deletions.c.app_id == app.id))
        ).scalar_one()
    history = [_cycle(r) for r in rows]
    running = next((c for c in history if c["status"] == "running"), None)
    last = next((c for c in history if c["status"] != "running"), None)
    label = STATE_LABELS.get(app.state, app.state)
    if running:
        label = f"{'Initial' if running['kind'] == 'initial' else 'Incremental'} cycle in progress"
    return {
        **await describe(service, app),
        "label": label,
        "running_cycle": running,
        "last_cycle": last,
        "recent_cycles": history,
        "users_linked": linked.get("user", 0),
        "groups_linked": linked.get("group", 0),
        "escrowed": escrowed,
        "staged_deletions": staged,
    }


def one_line(status: dict[str, Any]) -> str:
    parts = [f"{status['name']}: {status['label']}"]
    if status["quarantine"]:
        parts.append(f"quarantine: {status['quarantine']['reason']} ({status['quarantine']['message']})")
    last = status["last_cycle"]
    if last and last["summary"]:
        s = last["summary"]
        parts.append(
            f"last {last['kind']} cycle {last['status']}: created {s.get('created', 0)}, "
            f"updated {s.get('updated', 0)}, disabled {s.get('disabled', 0)}, "
            f"deleted {s.get('deleted', 0)}, failed {s.get('failed', 0)}"
        )
    if status["next_run_at"] and status["state"] in ("active", "quarantined"):
        parts.append(f"next cycle {status['next_run_at'][:19]}")
    parts.append(
        f"{plural(status['users_linked'], 'user')} and {plural(status['groups_linked'], 'group')} linked"
    )
    return "; ".join(parts)
