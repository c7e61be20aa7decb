"""Running a cycle for an application: the lease, the probe, what to look at, the aftermath.

One cycle of an application runs at a time, across every process that shares the database: the
runner takes the application's lease (renewed while it works, taken over when its holder dies)
or refuses. The lease belongs to one claim, not to a process: its owner is `host:pid:token` with
a token of its own, so a second claim from the same process (Provision on demand beside the
scheduler's cycle) is refused like any other, and cannot release the cycle's lease. A paused
application runs no cycle at all (`AppPausedError`): it sends nothing until it is started.

A cycle probes the target first (Entra's Test connection), builds the work (everything
for an initial cycle; for an incremental one the changes since the watermark, pending
assignments and due escrows, so its cost follows the changes, not the directory's size), runs
the cycle, then moves the watermark, records the cycle and sets the next run or the quarantine.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from enlist.db.leases import holder_is_dead, owner_id
from enlist.db.rows import now
from enlist.metrics.instruments import CYCLE_DURATION, CYCLES
from enlist.provisioning.directory.source import DirectorySource
from enlist.provisioning.engine import quarantine as q
from enlist.provisioning.engine.cycle import Cycle, Work
from enlist.provisioning.engine.cycle_log import logged_cycle
from enlist.provisioning.engine.mapped import Mappings
from enlist.provisioning.engine.ports import Source, SourceReadError
from enlist.provisioning.engine.scope import Assignments
from enlist.provisioning.engine.summary import CycleSummary
from enlist.provisioning.notify import alerts
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store import links as link_store
from enlist.provisioning.store import staging
from enlist.provisioning.store.apps import App
from enlist.provisioning.store.tables import applications, cycles
from enlist.provisioning.target.client import ScimTarget
from enlist.provisioning.target.network import networks_of

LEASE = timedelta(seconds=60)


class CycleBusyError(RuntimeError):
    """Another cycle or on-demand run (the scheduler's, another `sync`, this very process's) holds
    this app's lease."""


class AppPausedError(RuntimeError):
    """The application is paused: nothing is sent to its target until it is started."""

    def __init__(self, app: App) -> None:
        super().__init__(
            f"{app.name} is paused: a paused application sends nothing to its target until "
            "provisioning is started again; start provisioning first"
        )
        self.app_name = app.name


def refuse_if_paused(app: App) -> None:
    """`AppPausedError` for a paused `app`: the rule every way of running a cycle obeys."""
    if app.state == "paused":
        raise AppPausedError(app)


async def claim(service: Service, app: App, owner: str, *, due_only: bool = False) -> bool:
    """Take the app's lease for `owner` (a fresh `owner_id()`): free, expired, or held by a dead
    process of this host. A lease held by a live claim, whoever it is, is not free; renewing
    one's own is `renew`. With `due_only` (the scheduler), only while the app is still due: a
    scheduler that found it due may reach it after another process's cycle moved `next_run_at`
    on, and must not run that due time a second time."""
    moment = now()
    async with service.db.write() as conn:
        holder = (
            await conn.execute(sa.select(applications.c.lease_owner).where(applications.c.id == app.id))
        ).scalar_one_or_none()
        free = applications.c.lease_owner.is_(None) | (applications.c.lease_expires_at < moment)
        if holder_is_dead(holder):
            free = free | (applications.c.lease_owner == holder)
        if due_only:
            free = free & (applications.c.next_run_at <= moment)
        result = await conn.execute(
            applications.update()
            .where((applications.c.id == app.id) & free)
            .values(lease_owner=owner, lease_expires_at=moment + LEASE)
        )
        return result.rowcount == 1


async def renew(service: Service, app: App, owner: str) -> bool:
    """Extend `owner`'s lease; False when it is no longer `owner`'s (expired and taken over)."""
    async with service.db.write() as conn:
        result = await conn.execute(
            applications.update()
            .where((applications.c.id == app.id) & (applications.c.lease_owner == owner))
            .values(lease_expires_at=now() + LEASE)
        )
        return result.rowcount == 1


async def release(service: Service, app: App, owner: str) -> None:
    """Free the lease if `owner` still holds it; a lease taken over since is left alone."""
    async with service.db.write() as conn:
        await conn.execute(
            applications.update()
            .where((applications.c.id == app.id) & (applications.c.lease_owner == owner))
            .values(lease_owner=None, lease_expires_at=None)
        )


async def _renew(service: Service, app: App, owner: str, lost: asyncio.Event) -> None:
    while True:
        await asyncio.sleep(LEASE.total_seconds() / 3)
        if not await renew(service, app, owner):
            lost.set()  # another claim has it: this cycle stops at the next object boundary
            return


def target_for(service: Service, app: App, **overrides: Any) -> ScimTarget:
    assert app.tenant_url
    assert app.sealed_token
    return ScimTarget(
        app.tenant_url,
        service.secrets.open(app.sealed_token),
        dialect=app.settings.dialect,
        max_concurrency=app.settings.max_concurrency,
        max_requests_per_second=app.settings.max_requests_per_second,
        timeout_s=app.settings.timeout_seconds,
        networks=networks_of(service.settings),
        **overrides,
    )


@logged_cycle(CycleBusyError, AppPausedError)
async def run_cycle(
    service: Service,
    app: App,
    *,
    owner: str | None = None,
    source: Source | None = None,
    target: ScimTarget | None = None,
    progress: Any = None,
    due_only: bool = False,
) -> CycleSummary:
    """Run one cycle of `app` now (in this process), holding its lease under `owner` (a fresh
    `owner_id()` by default). `CycleBusyError` when another claim holds the lease (or, with
    `due_only`, when the app is no longer due), `AppPausedError` when the app is paused; either
    way nothing is sent to the target."""
    owner = owner or owner_id()
    if not await claim(service, app, owner, due_only=due_only):
        raise CycleBusyError(f"a cycle of {app.name} is running; try again when it ends")
    lost = asyncio.Event()
    renewal = asyncio.create_task(_renew(service, app, owner, lost))
    try:
        async with service.db.read() as conn:
            app = await app_store.get_app_by_id(conn, app.id)
        refuse_if_paused(app)  # read under the lease: a Pause pressed before this is seen here
        source = source or DirectorySource(service.db)
        started = time.monotonic()
        if target is not None:
            summary = await _run(service, app, source, target, progress, lost)
        else:
            async with target_for(service, app) as fresh:
                summary = await _run(service, app, source, fresh, progress, lost)
        CYCLES.labels(summary.kind, summary.status).inc()
        CYCLE_DURATION.labels(summary.kind).observe(time.monotonic() - started)
        return summary
    finally:
        renewal.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewal
        await release(service, app, owner)


async def _run(
    service: Service, app: App, source: Source, target: ScimTarget, progress: Any, lost: asyncio.Event
) -> CycleSummary:
    async with service.db.read() as conn:
        assignments = Assignments(
            frozenset(await app_store.assigned_ids(conn, app.id, "user")),
            frozenset(await app_store.assigned_ids(conn, app.id, "group")),
        )
    mappings = Mappings.from_app(app)

    async def stop_requested() -> bool:
        if lost.is_set():
            return True
        async with service.db.read() as conn:
            row = (
                await conn.execute(sa.select(applications.c.state).where(applications.c.id == app.id))
            ).first()
        return row is None or row[0] not in ("active", "quarantined", "stopped")

    cycle = Cycle(service.db, app, source, target, mappings, assignments, stop_requested=stop_requested)

    async def report(done: int, total: int) -> None:
        async with service.db.write() as conn:
            await conn.execute(
                cycles.update()
                .where(cycles.c.id == cycle.id)
                .values(progress_done=done, progress_total=total)
            )
        if progress:
            await progress(done, total)

    cycle.progress = report
    summary = cycle.summary
    async with service.db.write() as conn:
        # We hold the lease: a cycle still marked running was killed with its process.
        await conn.execute(
            cycles.update()
            .where((cycles.c.app_id == app.id) & (cycles.c.status == "running"))
            .values(status="interrupted", finished_at=now(), error="the process running it stopped")
        )
        await conn.execute(
            cycles.insert().values(
                id=cycle.id, app_id=app.id, kind=cycle.kind, status="running", started_at=now(), counts={}
            )
        )
    check = await target.test_connection()
    if not check.ok:
        summary.status, summary.error = "failed", check.message
        credentials = check.code in (
            "Unauthorized",
            "InsufficientRights",
            "NotFound",
            "SystemForCrossDomainIdentityManagementServiceIncompatible",
        )
        await _finish(
            service,
            app,
            summary,
            quarantine_reason=q.CREDENTIALS if credentials else None,
            message=check.message,
        )
        return summary
    try:
        seq_end = await source.current_seq()
        work, taken = await _work(service, app, source)
        summary = await cycle.run(work, seq_end)
    except SourceReadError as error:
        summary.status, summary.error = (
            "failed",
            f"the source could not be read, nothing was deprovisioned: {error}",
        )
        await _finish(service, app, summary)
        return summary
    reason, message = None, None
    if summary.too_many_deletes:
        reason = q.TOO_MANY_DELETES
        message = (
            f"{summary.counts['staged']} disables and deletes reached the accidental-deletion threshold "
            f"({app.settings.deletion_threshold}); review the staged deletions, then allow them"
        )
    else:
        async with service.db.read() as conn:
            failures, references = await link_store.escrow_counts(conn, app.id)
        successes = sum(summary.counts[k] for k in ("created", "updated", "disabled", "deleted"))
        reason = q.escrow_reason(failures, references, successes)
        if reason:
            message = f"{failures} objects keep failing ({references} reference failures)"
    if summary.completed:
        summary.status = "succeeded" if summary.counts["failed"] == 0 else "entry_level_errors"
        async with service.db.write() as conn:
            for kind, ids in taken.items():
                await app_store.clear_pending(conn, app.id, kind, ids)
    elif summary.stopped:
        summary.status = "stopped"
    await _finish(service, app, summary, quarantine_reason=reason, message=message)
    return summary


async def _work(service: Service, app: App, source: Source) -> tuple[Work, dict[str, set[str]]]:
    """Everything (initial cycle), or what changed since the watermark (incremental)."""
    async with service.db.read() as conn:
        pending = await app_store.take_pending(conn, app.id)
        due = await link_store.due_escrows(conn, app.id, now())
        held = await staging.staged(conn, app.id)
    if app.watermark is None:
        return Work(everything=True), pending
    work = Work()
    for change in await source.changes_since(app.watermark):
        if change.kind == "user":
            work.users.add(change.object_id)
        elif change.kind == "group":
            work.groups.add(change.object_id)
        elif change.member_id is not None:
            work.pairs.add((change.object_id, change.member_id))
            work.users.add(change.member_id)
    work.users |= pending.get("user", set()) | due.get("user", set())
    work.groups |= due.get("group", set())
    # Staged deletions are evaluated again each cycle: sent once an admin allows them.
    work.users |= {h["source_id"] for h in held if h["kind"] == "user"}
    work.groups |= {h["source_id"] for h in held if h["kind"] == "group"}
    assigned_changes = pending.get("group", set()) | await _assigned_groups_come_or_gone(
        service, app, source, work.groups
    )
    if assigned_changes:
        work.groups |= assigned_changes
        groups = await source.get_groups(assigned_changes)
        for group in groups.values():
            work.users |= set(group.member_user_ids)
        if app.settings.flatten_nested_groups:
            await _descend(source, set(assigned_changes), work)
    if app.settings.flatten_nested_groups and work.pairs:
        await _follow_nesting(source, work)
    return work, pending


async def _assigned_groups_come_or_gone(
    service: Service, app: App, source: Source, changed: set[str]
) -> set[str]:
    """The assigned groups among `changed` that may have been soft-deleted or restored: each
    takes its members (and, flattening, its nested groups) out of scope or back in, as an
    assignment does. A group linked in the target and not deleted is left out: its change is a
    rename, which the cycle handles without looking at every member."""
    if not changed:
        return set()
    async with service.db.read() as conn:
        assigned = await app_store.assigned_ids(conn, app.id, "group") & changed
        linked = set(await link_store.load_links(conn, app.id, "group", assigned))
    if not linked:
        return assigned
    groups = await source.get_groups(linked)
    deleted = {g for g in linked if g not in groups or groups[g].deleted_at is not None}
    return (assigned - linked) | deleted


async def _descend(source: Source, roots: set[str], work: Work) -> None:
    """Every group nested under `roots`, and its members, into the work."""
    frontier, seen = set(roots), set(roots)
    while frontier:
        found = await source.get_groups(frontier)
        frontier = set()
        for group in found.values():
            work.users |= set(group.member_user_ids)
            for child in group.member_group_ids:
                if child not in seen:
                    seen.add(child)
                    frontier.add(child)
    work.groups |= seen


async def _follow_nesting(source: Source, work: Work) -> None:
    """With flattening, a membership change reaches further: a group joining or leaving a group
    changes the scope of everyone nested in it, and every group above the change gains or
    loses members. Check those groups whole and evaluate those users."""
    changed_groups = {group_id for group_id, _ in work.pairs}
    nested = await source.get_groups({member_id for _, member_id in work.pairs})
    await _descend(source, set(nested), work)
    frontier, seen = set(changed_groups), set()
    while frontier:
        seen |= frontier
        work.groups |= frontier
        parents = await source.groups_containing(frontier)
        frontier = set().union(*parents.values()) - seen if parents else set()


async def _finish(
    service: Service,
    app: App,
    summary: CycleSummary,
    *,
    quarantine_reason: str | None = None,
    message: str | None = None,
) -> None:
    moment = now()
    values: dict[str, Any] = {}
    if summary.completed:
        values["watermark"] = summary.watermark
        if not summary.too_many_deletes:
            values["allow_deletes"] = False
    async with service.db.write() as conn:
        current = await app_store.get_app_by_id(conn, app.id)
        if quarantine_reason:
            entered = q.enter(current.quarantine, quarantine_reason, message or quarantine_reason, moment)
            values["quarantine"] = entered.to_json()
            values["state"] = "disabled" if q.expired(entered) else "quarantined"
            values["next_run_at"] = entered.next_attempt
        elif summary.status == "failed":
            values["next_run_at"] = moment + timedelta(minutes=current.settings.interval_minutes)
        else:
            if current.state == "quarantined":
                values["state"] = "active"
            values["quarantine"] = None
            values["next_run_at"] = moment + timedelta(minutes=current.settings.interval_minutes)
        if current.state == "paused":
            values.pop("state", None)
        await app_store.update_app(conn, app.id, **values)
        if summary.completed and not summary.too_many_deletes and current.allow_deletes:
            await staging.clear(conn, app.id)  # the allowed deletions went out
        told = (
            {"reason": quarantine_reason, "message": message or quarantine_reason}
            if quarantine_reason
            else None
        )
        await alerts.after_cycle(conn, current, summary, told, moment)  # in this transaction
        await conn.execute(
            cycles.update()
            .where(cycles.c.id == summary.cycle_id)
            .values(status=summary.status, finished_at=moment, counts=summary.to_json(), error=summary.error)
        )


async def work_for(service: Service, app: App, source: Source) -> tuple[Work, dict[str, set[str]]]:
    """What the next cycle of `app` looks at (and the pending assignments it takes): the very
    same choice `run_cycle` makes, for a preview (`enlist.provisioning.engine.preview`)."""
    return await _work(service, app, source)
