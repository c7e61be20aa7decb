"""`POST /bulkUpload`: a SCIM BulkRequest of users, accepted at once and applied in the background.

The shape is Entra's API-driven inbound provisioning's (`/bulkUpload` of a provisioning job):
`schemas` holds `urn:ietf:params:scim:api:messages:2.0:BulkRequest`; each of `Operations` is
`{"method": "POST", "path": "/Users", "bulkId", "data": <a User, with the Enterprise extension
and any custom extension>}`, an upsert matched on `data.externalId`. The request is checked
whole (its schema, its size, its number of operations) and stored with its operations, then
answered `202 Accepted` with a `Location` to read its status from; `enlist.provisioning.sources.
push.worker` applies it.

Each operation is applied in ONE transaction that also marks it done (`applied` only if it was
still `pending`), so a process killed part-way neither loses an operation (it is still
`pending`, and the next worker takes the job over when the lease lapses or the holder is dead)
nor applies one twice. A bad operation fails alone, with a SCIM error naming it and the field;
nothing of it is applied, and the good ones still apply. A manager named by an operation later
in the same request (by `externalId`, as HR systems send it, or by push id) is waited for: the
operation is retried after the others, and fails only when no operation brought the manager.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.db.rows import now as utc_now
from enlist.provisioning.directory.tables import dir_users
from enlist.provisioning.leases import holder_is_dead
from enlist.provisioning.service import Service
from enlist.provisioning.sources import store as source_store
from enlist.provisioning.sources.push import users
from enlist.provisioning.sources.push.tables import push_bulk_jobs, push_bulk_operations
from enlist.provisioning.sources.push.writes import Push, by_external_id, named, owned
from enlist.scim.errors import ScimError, invalid_syntax, invalid_value, payload_too_large
from enlist.scim.resource import parse_user
from enlist.scim.schema import ENTERPRISE_USER_SCHEMA_ID

BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
LEASE = timedelta(seconds=120)
DEFAULT_MAX_OPERATIONS = 50  # Entra's own limit: an HR connector written for Entra fits as it is
DEFAULT_MAX_PAYLOAD_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    max_operations: int = DEFAULT_MAX_OPERATIONS
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES

    @classmethod
    def of(cls, settings: dict[str, Any]) -> Limits:
        return cls(
            int(settings.get("bulk_max_operations", DEFAULT_MAX_OPERATIONS)),
            int(settings.get("bulk_max_payload_bytes", DEFAULT_MAX_PAYLOAD_BYTES)),
        )


def check_request(body: object, limits: Limits) -> tuple[list[Any], int | None]:
    """The operations and `failOnErrors` of a BulkRequest; 400 or 413 when the request as a
    whole cannot be taken (nothing of it is then stored)."""
    if not isinstance(body, dict):
        raise invalid_syntax("a BulkRequest is a JSON object")
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or BULK_REQUEST not in schemas:
        raise invalid_syntax(f"schemas must list {BULK_REQUEST}")
    operations = body.get("Operations")
    if not isinstance(operations, list) or not operations:
        raise invalid_syntax("Operations must be a non-empty list")
    if len(operations) > limits.max_operations:
        raise payload_too_large(
            f"the request has {len(operations)} operations; the limit is {limits.max_operations} "
            "(bulk.maxOperations in ServiceProviderConfig): send them in several requests"
        )
    fail_on_errors = body.get("failOnErrors")
    if fail_on_errors is not None and (
        not isinstance(fail_on_errors, int) or isinstance(fail_on_errors, bool) or fail_on_errors < 1
    ):
        raise invalid_value("failOnErrors must be a positive integer")
    return operations, fail_on_errors


async def enqueue(
    conn: AsyncConnection, source_id: int, operations: list[Any], fail_on_errors: int | None
) -> str:
    """Store the request's operations as a queued job; its id."""
    job = str(uuid.uuid4())
    await conn.execute(
        push_bulk_jobs.insert().values(
            id=job,
            source=source_id,
            state="queued",
            operations=len(operations),
            fail_on_errors=fail_on_errors,
            received_at=utc_now(),
        )
    )
    rows = [{"job": job, "position": i, "request": op, "state": "pending"} for i, op in enumerate(operations)]
    for start in range(0, len(rows), 1000):
        await conn.execute(push_bulk_operations.insert(), rows[start : start + 1000])
    return job


class _ManagerNotYetError(Exception):
    """The operation's manager may come with a later operation of the same request."""


def _label(position: int, request: object) -> str:
    bulk_id = request.get("bulkId") if isinstance(request, dict) else None
    return f"Operations[{position}]" + (f" (bulkId {bulk_id})" if bulk_id else "")


async def _resolve_manager(conn: AsyncConnection, push: Push, doc: dict[str, Any]) -> None:
    """Rewrite `manager.value` (an externalId, as HR systems send it, or a push id) to the push id."""
    enterprise = doc.get(ENTERPRISE_USER_SCHEMA_ID)
    manager = enterprise.get("manager") if isinstance(enterprise, dict) else None
    value = manager.get("value") if isinstance(manager, dict) else None
    if not value:
        return
    found = await by_external_id(conn, push, "user", str(value))
    if found is None and await owned(conn, push, dir_users, str(value)) is not None:
        found = str(value)
    if found is None:
        raise _ManagerNotYetError(str(value))
    assert isinstance(manager, dict)
    manager["value"] = found


async def apply_operation(
    conn: AsyncConnection, push: Push, position: int, request: object, now: datetime
) -> dict[str, Any]:
    """Apply one operation in `conn`'s transaction; its BulkResponse operation. Raises
    `ScimError` naming the operation (the transaction must then roll back)."""
    what = _label(position, request)
    try:
        if not isinstance(request, dict):
            raise invalid_syntax("an operation is a JSON object")
        method = str(request.get("method", "")).upper()
        path = str(request.get("path", ""))
        if method != "POST" or path.rstrip("/").lower() != "/users":
            raise invalid_value(
                f'method {method or "(none)"} path {path or "(none)"}: each operation is "method": "POST", '
                '"path": "/Users" (an upsert matched on externalId)'
            )
        doc = parse_user(request.get("data"))
        external_id = doc.get("externalId")
        if not isinstance(external_id, str) or not external_id:
            raise invalid_value("data.externalId is required: each operation is an upsert matched on it")
        await _resolve_manager(conn, push, doc)
        matched = await by_external_id(conn, push, "user", external_id)
        resource, created = await users.upsert(conn, push, matched, doc, f"{what} POST /Users", now)
    except ScimError as error:
        raise named(error, what) from None
    response: dict[str, Any] = {"method": "POST", "location": resource["meta"]["location"]}
    if isinstance(request.get("bulkId"), str):
        response["bulkId"] = request["bulkId"]
    response["status"] = "201" if created else "200"
    return response


def failed_response(position: int, request: object, error: ScimError) -> dict[str, Any]:
    response: dict[str, Any] = {"method": str(request.get("method", "")) if isinstance(request, dict) else ""}
    if isinstance(request, dict) and isinstance(request.get("bulkId"), str):
        response["bulkId"] = request["bulkId"]
    response["status"] = str(error.status)
    response["response"] = named(error, _label(position, request)).to_body()
    return response


# Processing a job ---------------------------------------------------------------------------------


async def claim_next(service: Service, owner: str) -> str | None:
    """Take the lease of the oldest job not done whose lease is free (or whose holder died)."""
    moment = utc_now()
    async with service.db.write() as conn:
        j = push_bulk_jobs.c
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


def _held_by(holder: str | None) -> sa.ColumnElement[bool]:
    column = push_bulk_jobs.c.lease_owner
    return column.is_(None) if holder is None else column == holder


async def process_job(service: Service, job: str, owner: str) -> None:
    """Apply every pending operation of `job` (whose lease `owner` holds), in order; those
    waiting for a manager after the others; then mark the job done."""
    async with service.db.read() as conn:
        row = (await conn.execute(sa.select(push_bulk_jobs).where(push_bulk_jobs.c.id == job))).one()
        source = await source_store.get_source_by_id(conn, row.source)
    push = Push(source, f"{service.public_url}/scim/v2/sources/{source.name}")
    waiting = True
    while waiting:
        pending = await _pending(service, job)
        applied_any = False
        waiting = False
        for position, request in pending:
            if await _failures_reached(service, job, row.fail_on_errors):
                await _skip_rest(service, job, row.fail_on_errors)
                break
            outcome = await _one(service, push, job, owner, position, request, defer=True)
            applied_any |= outcome == "applied"
            waiting |= outcome == "waiting"
        if waiting and not applied_any:
            for position, request in await _pending(service, job):
                await _one(service, push, job, owner, position, request, defer=False)
            waiting = False
    async with service.db.write() as conn:
        await conn.execute(
            push_bulk_jobs.update()
            .where((push_bulk_jobs.c.id == job) & (push_bulk_jobs.c.lease_owner == owner))
            .values(state="done", finished_at=utc_now(), lease_owner=None, lease_expires_at=None)
        )


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
) -> str:
    """Apply one operation: `applied`, `failed`, `waiting` (for its manager) or `taken` (by
    another worker, or no longer ours)."""
    o = push_bulk_operations.c
    j = push_bulk_jobs.c
    mine = (o.job == job) & (o.position == position) & (o.state == "pending")
    moment = utc_now()
    try:
        async with service.db.write() as conn:
            lease = await conn.execute(
                push_bulk_jobs.update()
                .where((j.id == job) & (j.lease_owner == owner))
                .values(lease_expires_at=moment + LEASE)
            )
            if not lease.rowcount:
                return "taken"
            marked = await conn.execute(push_bulk_operations.update().where(mine).values(state="applied"))
            if not marked.rowcount:
                return "taken"
            response = await apply_operation(conn, push, position, request, moment)
            await conn.execute(
                push_bulk_operations.update()
                .where((o.job == job) & (o.position == position))
                .values(response=response, finished_at=moment)
            )
    except _ManagerNotYetError as missing:
        if defer:
            return "waiting"
        error = invalid_value(
            f"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value {missing} is "
            "neither the externalId nor the id of a user of this source"
        )
    except ScimError as scim_error:
        error = scim_error
    else:
        return "applied"
    async with service.db.write() as conn:
        await conn.execute(
            push_bulk_operations.update()
            .where(mine)
            .values(state="failed", response=failed_response(position, request, error), finished_at=moment)
        )
    return "failed"


# Reading a job back -------------------------------------------------------------------------------


async def status(conn: AsyncConnection, source_id: int, job: str, base_url: str) -> dict[str, Any] | None:
    """What `GET /bulkUpload/{id}` answers: the job's state and counts, then each operation's
    BulkResponse entry (`status` once it is done); None when the source has no such job."""
    j = push_bulk_jobs.c
    row = (
        await conn.execute(sa.select(push_bulk_jobs).where((j.id == job) & (j.source == source_id)))
    ).first()
    if row is None:
        return None
    o = push_bulk_operations.c
    ops = (
        await conn.execute(
            sa.select(o.position, o.request, o.state, o.response).where(o.job == job).order_by(o.position)
        )
    ).all()
    counts = dict.fromkeys(("pending", "applied", "failed", "skipped"), 0)
    operations = []
    for op in ops:
        counts[op.state] += 1
        entry = dict(op.response or {})
        if not entry:
            request = op.request if isinstance(op.request, dict) else {}
            entry = {"method": str(request.get("method", ""))}
            if isinstance(request.get("bulkId"), str):
                entry["bulkId"] = request["bulkId"]
        entry["state"] = op.state
        operations.append(entry)
    return {
        "schemas": [BULK_RESPONSE],
        "id": job,
        "state": row.state,
        "receivedAt": row.received_at.isoformat(),
        "finishedAt": row.finished_at.isoformat() if row.finished_at else None,
        "counts": counts,
        "Operations": operations,
        "meta": {"resourceType": "BulkUpload", "location": f"{base_url}/bulkUpload/{job}"},
    }
