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


class ManagerNotYetError(Exception):
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
        raise ManagerNotYetError(str(value))
    assert isinstance(manager, dict)
    manager["value"] = found


def prepare(request: object) -> dict[str, Any]:
    """The canonical user of an operation (pure); `ScimError` naming the field when it is not
    a POST of a user to /Users with an externalId."""
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
    return doc


def applied_response(request: object, location: str, *, created: bool) -> dict[str, Any]:
    response: dict[str, Any] = {"method": "POST", "location": location}
    if isinstance(request, dict) and isinstance(request.get("bulkId"), str):
        response["bulkId"] = request["bulkId"]
    response["status"] = "201" if created else "200"
    return response


async def apply_operation(
    conn: AsyncConnection, push: Push, position: int, request: object, now: datetime
) -> dict[str, Any]:
    """Apply one operation in `conn`'s transaction; its BulkResponse operation. Raises
    `ScimError` naming the operation (the transaction must then roll back)."""
    what = _label(position, request)
    try:
        doc = prepare(request)
        await _resolve_manager(conn, push, doc)
        matched = await by_external_id(conn, push, "user", doc["externalId"])
        resource, created = await users.upsert(conn, push, matched, doc, f"{what} POST /Users", now)
    except ScimError as error:
        raise named(error, what) from None
    return applied_response(request, resource["meta"]["location"], created=created)


def failed_response(position: int, request: object, error: ScimError) -> dict[str, Any]:
    response: dict[str, Any] = {"method": str(request.get("method", "")) if isinstance(request, dict) else ""}
    if isinstance(request, dict) and isinstance(request.get("bulkId"), str):
        response["bulkId"] = request["bulkId"]
    response["status"] = str(error.status)
    response["response"] = named(error, _label(position, request)).to_body()
    return response


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
