"""Processing a bulk upload: claim its lease, apply its pending operations, mark it done.

Operations go in chunks (`batch.apply_chunk`, one transaction each), falling back to one
transaction per operation (`_one`) for a chunk that cannot apply whole, for an operation that
is not valid (it fails alone, named), and under `failOnErrors` (counted exactly, one at a time).
Every transaction that applies operations first renews the job's lease, which on PostgreSQL
also locks the job's row until it commits: two workers never apply one job's operations at once,
and an operation is marked `applied` in the transaction that applies it, so none is lost or
repeated across a crash.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import sqlalchemy as sa

from enlist.db.leases import holder_is_dead
from enlist.db.rows import now as utc_now
from enlist.provisioning.service import Service
from enlist.provisioning.sources import store as source_store
from enlist.provisioning.sources.push import batch
from enlist.provisioning.sources.push.bulk import (
    LEASE,
    ManagerNotYetError,
    apply_operation,
    failed_response,
    prepare,
)
from enlist.provisioning.sources.push.tables import push_bulk_jobs, push_bulk_operations
from enlist.provisioning.sources.push.writes import Push
from enlist.scim.errors import ScimError, invalid_value

CHUNK = 200


def _held_by(holder: str | None) -> sa.ColumnElement[bool]:
    column = push_bulk_jobs.c.lease_owner
    return column.is_(None) if holder is None else column == holder


async def claim_next(service: Service, owner: str) -> str | None:
    """Take the lease of the oldest job not done whose lease is free (or whose holder died)."""
    moment = utc_now()
    j = push_bulk_jobs.c
    async with service.db.write() as conn:
        rows = (
            await conn.execute(
                sa.select(j.id, j.lease_owner, j.lease_expires_at)
                .where(j.state != "done")
                .order_by(j.received_at)
                .limit(20)
            )
        ).all()
        for row in rows:
            free = row.lease_owner is None or row.lease_expires_at < moment or holder_is_dead(row.lease_owner)
            if not free:
                continue
            done = await conn.execute(
                push_bulk_jobs.update()
                .where((j.id == row.id) & _held_by(row.lease_owner))
                .values(state="running", lease_owner=owner, lease_expires_at=moment + LEASE)
            )
            if done.rowcount:
                return str(row.id)
    return None


async def process_job(service: Service, job: str, owner: str) -> None:
    """Apply every pending operation of `job` (whose lease `owner` holds), in order. One that
    waits for its manager is applied as soon as the operation bringing that manager is; one
    still waiting at the end fails. Then the job is done."""
    async with service.db.read() as conn:
        row = (await conn.execute(sa.select(push_bulk_jobs).where(push_bulk_jobs.c.id == job))).one()
        source = await source_store.get_source_by_id(conn, row.source)
    push = Push(source, f"{service.public_url}/scim/v2/sources/{source.name}")
    size = 1 if row.fail_on_errors else CHUNK
    queue: deque[tuple[int, Any]] = deque(await _pending(service, job))
    waiting: dict[str, list[tuple[int, Any]]] = {}
    while queue:
        if await _failures_reached(service, job, row.fail_on_errors):
            await _skip_rest(service, job, row.fail_on_errors)
            queue.clear()
            waiting.clear()
            break
        chunk = [queue.popleft() for _ in range(min(size, len(queue)))]
        for position, request, outcome, keys in await _chunk(service, push, job, owner, chunk):
            if outcome == "waiting":
                waiting.setdefault(keys[0], []).append((position, request))
            elif outcome == "applied":
                for key in keys:
                    queue.extendleft(reversed(waiting.pop(key, [])))
            elif outcome == "taken":
                return  # the lease is no longer ours: whoever holds it goes on
    for position, request in sorted(p for ops in waiting.values() for p in ops):
        await _one(service, push, job, owner, position, request, defer=False)
    async with service.db.write() as conn:
        await conn.execute(
            push_bulk_jobs.update()
            .where((push_bulk_jobs.c.id == job) & (push_bulk_jobs.c.lease_owner == owner))
            .values(state="done", finished_at=utc_now(), lease_owner=None, lease_expires_at=None)
        )


Outcome = tuple[int, Any, str, list[str]]


async def _chunk(
    service: Service, push: Push, job: str, owner: str, chunk: list[tuple[int, Any]]
) -> list[Outcome]:
    """Apply `chunk`: the valid operations together when they can be, else one by one."""
    valid: list[batch.Item] = []
    out: list[Outcome] = []
    for position, request in chunk:
        try:
            valid.append((position, request, prepare(request)))
        except ScimError:
            out.append(
                (position, request, *await _one(service, push, job, owner, position, request, defer=True))
            )
    if len(valid) > 1:
        try:
            return out + await _together(service, push, job, owner, valid)
        except batch.ChunkRefusedError:
            pass  # rolled back: one by one below
    for position, request, _doc in valid:
        out.append((position, request, *await _one(service, push, job, owner, position, request, defer=True)))
    return out


async def _together(
    service: Service, push: Push, job: str, owner: str, items: list[batch.Item]
) -> list[Outcome]:
    o = push_bulk_operations.c
    moment = utc_now()
    async with service.db.write() as conn:
        if not await _renew(conn, job, owner):
            return [(p, r, "taken", []) for p, r, _ in items]
        result = await batch.apply_chunk(conn, push, items, moment)
        for position, (response, _keys) in result.applied.items():
            await conn.execute(
                push_bulk_operations.update()
                .where((o.job == job) & (o.position == position) & (o.state == "pending"))
                .values(state="applied", response=response, finished_at=moment)
            )
    out: list[Outcome] = []
    for position, request, _doc in items:
        if position in result.waiting:
            out.append((position, request, "waiting", [result.waiting[position]]))
        else:
            out.append((position, request, "applied", result.applied[position][1]))
    return out


async def _renew(conn: Any, job: str, owner: str) -> bool:
    j = push_bulk_jobs.c
    done = await conn.execute(
        push_bulk_jobs.update()
        .where((j.id == job) & (j.lease_owner == owner))
        .values(lease_expires_at=utc_now() + LEASE)
    )
    return bool(done.rowcount)


async def _pending(service: Service, job: str) -> list[tuple[int, Any]]:
    o = push_bulk_operations.c
    async with service.db.read() as conn:
        rows = await conn.execute(
            sa.select(o.position, o.request)
            .where((o.job == job) & (o.state == "pending"))
            .order_by(o.position)
        )
        return [(r.position, r.request) for r in rows]


async def _failures_reached(service: Service, job: str, limit: int | None) -> bool:
    if not limit:
        return False
    o = push_bulk_operations.c
    async with service.db.read() as conn:
        failed = await conn.execute(sa.select(sa.func.count()).where((o.job == job) & (o.state == "failed")))
        return int(failed.scalar_one()) >= limit


async def _skip_rest(service: Service, job: str, limit: int | None) -> None:
    o = push_bulk_operations.c
    error = ScimError(412, f"not performed: failOnErrors ({limit}) was reached before this operation")
    async with service.db.write() as conn:
        await conn.execute(
            push_bulk_operations.update()
            .where((o.job == job) & (o.state == "pending"))
            .values(
                state="skipped",
                response={"status": "412", "response": error.to_body()},
                finished_at=utc_now(),
            )
        )


async def _one(
    service: Service, push: Push, job: str, owner: str, position: int, request: Any, *, defer: bool
) -> tuple[str, list[str]]:
    """Apply one operation alone: `applied` (with the keys an operation waiting for its
    manager may name it by: its push id and externalId, case-folded), `failed`, `waiting`
    (with the manager's key) or `taken` (the job is no longer ours)."""
    o = push_bulk_operations.c
    mine = (o.job == job) & (o.position == position) & (o.state == "pending")
    moment = utc_now()
    try:
        async with service.db.write() as conn:
            if not await _renew(conn, job, owner):
                return "taken", []
            marked = await conn.execute(push_bulk_operations.update().where(mine).values(state="applied"))
            if not marked.rowcount:
                return "applied", []  # already applied, before a crash
            response = await apply_operation(conn, push, position, request, moment)
            await conn.execute(
                push_bulk_operations.update()
                .where((o.job == job) & (o.position == position))
                .values(response=response, finished_at=moment)
            )
    except ManagerNotYetError as missing:
        if defer:
            return "waiting", [str(missing).casefold()]
        error = invalid_value(
            f"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value {missing} is "
            "neither the externalId nor the id of a user of this source"
        )
    except ScimError as scim_error:
        error = scim_error
    else:
        keys = [response["location"].rpartition("/")[2].casefold()]
        external_id = request["data"].get("externalId") if isinstance(request.get("data"), dict) else None
        return "applied", [*keys, *([external_id.casefold()] if isinstance(external_id, str) else [])]
    async with service.db.write() as conn:
        await conn.execute(
            push_bulk_operations.update()
            .where(mine)
            .values(state="failed", response=failed_response(position, request, error), finished_at=moment)
        )
    return "failed", []
