"""SCIM operations on Users: list, get, create (or restore), replace, patch, delete."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.db.rows import now
from enlist.lms.domain.changes import Change, diff
from enlist.lms.domain.tenants import Tenant
from enlist.lms.domain.users import (
    SplitUser,
    missing_required,
    pending_manager,
    render_user,
    split_user,
    with_pending_manager,
)
from enlist.lms.notify.alerts import seats_changed
from enlist.lms.service.context import Request, check_if_match, transaction
from enlist.lms.store import synclog
from enlist.lms.store import tenants as tenants_store
from enlist.lms.store import users as store
from enlist.lms.store.department_rule import user_moves
from enlist.lms.store.filter_sql import unique_name_lookup, user_clause
from enlist.lms.store.synclog import SyncEntry
from enlist.lms.store.users import UserRecord
from enlist.scim.errors import ScimError, invalid_value, not_found, uniqueness
from enlist.scim.listing import ListQuery, Projection, list_response
from enlist.scim.patch import apply_user_patch, parse_patch
from enlist.scim.projection import project
from enlist.scim.resource import parse_user
from enlist.scim.schema import ENTERPRISE_USER_SCHEMA_ID

T = TypeVar("T")


async def render(
    conn: AsyncConnection,
    req: Request,
    records: list[UserRecord],
    view: Projection,
    *,
    in_groups: bool = True,
) -> list[dict[str, Any]]:
    """SCIM representations of a page of users, with their groups when the view wants them
    (`in_groups=False`: the caller knows they belong to none, so they are not read)."""
    wanted = in_groups and bool(records) and view.wants("groups")
    memberships = await store.groups_of(conn, req.tenant.id, [r.id for r in records]) if wanted else {}
    out = []
    for r in records:
        groups = [
            {"value": gid, "$ref": f"{req.base_url}/Groups/{gid}", "display": name, "type": "direct"}
            for gid, name in memberships.get(r.id, [])
        ]
        resource = render_user(
            user_id=r.id,
            doc=r.doc,
            status=r.status,
            manager_id=r.manager_id,
            created_at=r.created_at,
            updated_at=r.updated_at,
            version=r.version,
            base_url=req.base_url,
            groups=groups,
            active_shown=r.active_shown,
        )
        out.append(project(resource, "User", view.attributes, view.excluded))
    return out


async def list_users(req: Request, query: ListQuery) -> dict[str, Any]:
    view = Projection(query.attributes, query.excluded)
    login = unique_name_lookup(query.filter, "User") if query.filter else None
    if login is not None:
        # How Entra asks whether a user exists: one lookup on the unique login index.
        async with req.db.read() as conn:
            found = await store.find_visible_by_user_name(conn, req.tenant.id, login)
            page = [found] if found is not None and query.start == 1 and query.count > 0 else []
            resources = await render(conn, req, page, view)
        return list_response(int(found is not None), query.start, resources)
    where = user_clause(query.filter) if query.filter else None
    async with req.db.read() as conn:
        total, records = await store.query_users(conn, req.tenant.id, where, query.start, query.count)
        resources = await render(conn, req, records, view)
    return list_response(total, query.start, resources)


async def get_user(req: Request, user_id: str, view: Projection) -> dict[str, Any]:
    async with req.db.read() as conn:
        record = await store.get_user(conn, req.tenant.id, user_id)
        if record is None:
            raise not_found(f"User {user_id} not found")
        return (await render(conn, req, [record], view))[0]


async def create_user(req: Request, body: object) -> dict[str, Any]:
    split = split_user(parse_user(body))
    req.entry.resource_type, req.entry.resource_name = "User", split.fields.user_name

    async def work(conn: AsyncConnection) -> dict[str, Any]:
        tenant = req.tenant
        missing = missing_required(split.doc, tenant.policy.required_fields, split.manager_id is not None)
        if missing:
            raise invalid_value(f"{missing} is required by this portal's settings and is missing")
        existing = await store.find_by_user_name(conn, tenant.id, split.fields.user_name)
        if existing is not None and existing.status != "terminated":
            raise uniqueness(f"userName {split.fields.user_name!r} is already taken by user {existing.id}")
        status = "inactive" if split.active is False else "active"
        if status == "active":
            await _check_seat(conn, tenant)
        doc, manager_id = await _placed_manager(conn, tenant, split, existing.id if existing else None)
        if existing is not None:
            record = await store.update_user(
                conn, tenant.id, existing, doc, split.fields, status=status, manager_id=manager_id
            )
            # Terminating took them out of every group: they start again in the root department.
            await store.move_to_department(conn, tenant.id, [record.id], tenant.root_department_id)
            req.entry.action = "restore"
            req.entry.changes = diff(_comparable(existing), _comparable(record))
        else:
            record = await store.insert_user(
                conn,
                tenant.id,
                doc,
                split.fields,
                status=status,
                manager_id=manager_id,
                department_id=tenant.root_department_id,
            )
            req.entry.action = "create"
            req.entry.changes = diff(None, _comparable(record))
        req.entry.changes += await user_moves(conn, tenant, record.id)
        await _resolve_waiting(conn, req, record)
        if status == "active":
            await seats_changed(conn, tenant, now())
        req.entry.resource_id = record.id
        req.entry.status = 201
        await synclog.record(conn, tenant.id, req.entry)
        # A new user is in no group yet, and terminating took a restored one out of every group.
        return (await render(conn, req, [record], Projection(), in_groups=False))[0]

    return await _seat_transaction(req, work)


async def replace_user(req: Request, user_id: str, body: object, if_match: str | None) -> dict[str, Any]:
    split = split_user(parse_user(body))
    return await _rewrite(req, user_id, if_match, lambda _old: split, action="replace")


async def patch_user(req: Request, user_id: str, body: object, if_match: str | None) -> dict[str, Any]:
    ops = parse_patch(body)

    def patched(old: UserRecord) -> SplitUser:
        return split_user(apply_user_patch(_patchable(old), ops, resource_id=old.id))

    return await _rewrite(req, user_id, if_match, patched, action="update")


async def delete_user(req: Request, user_id: str, if_match: str | None) -> None:
    async def work(conn: AsyncConnection) -> None:
        tenant = req.tenant
        record = await store.get_user(conn, tenant.id, user_id, for_update=True)
        if record is None:
            raise not_found(f"User {user_id} not found")
        req.entry.resource_type, req.entry.resource_id, req.entry.resource_name = (
            "User",
            record.id,
            record.user_name,
        )
        check_if_match(if_match, record.version)
        if tenant.policy.delete_policy == "erase":
            await store.erase_user(conn, tenant.id, record)
            req.entry.action = "erase"
            req.entry.changes = diff(_comparable(record), None)
        else:
            await store.terminate_user(conn, tenant.id, record)
            req.entry.action = "terminate"
            req.entry.changes = diff({"status": record.status}, {"status": "terminated"})
        req.entry.status = 204
        if record.status == "active":
            await seats_changed(conn, tenant, now())
        await synclog.record(conn, tenant.id, req.entry)

    await transaction(req, work)


async def _rewrite(
    req: Request, user_id: str, if_match: str | None, compute: Any, *, action: str
) -> dict[str, Any]:
    async def work(conn: AsyncConnection) -> dict[str, Any]:
        tenant = req.tenant
        old = await store.get_user(conn, tenant.id, user_id, for_update=True)
        if old is None:
            raise not_found(f"User {user_id} not found")
        req.entry.resource_type, req.entry.resource_id, req.entry.resource_name = (
            "User",
            old.id,
            old.user_name,
        )
        check_if_match(if_match, old.version)
        split: SplitUser = compute(old)
        required = tenant.policy.required_fields
        missing = missing_required(split.doc, required, split.manager_id is not None)
        if missing and (
            action == "replace"
            or not missing_required(_comparable(old), (missing,), old.manager_id is not None)
        ):
            # PUT must carry every required field; PATCH may not remove one (it may leave alone
            # one the user lacked before the field became required).
            raise invalid_value(f"{missing} is required by this portal's settings and is missing")
        if split.fields.user_name.casefold() != old.user_name.casefold():
            clash = await store.find_by_user_name(conn, tenant.id, split.fields.user_name)
            if clash is not None and clash.id != old.id:
                if clash.status != "terminated":
                    raise uniqueness(
                        f"userName {split.fields.user_name!r} is already taken by user {clash.id}"
                    )
                await store.free_login(conn, tenant.id, clash)
        if split.active is not None:
            status, shown = ("active" if split.active else "inactive"), True
        elif action == "update":
            # The patch removed `active` (the document it applied to had it): unassigned means
            # the user cannot sign in, and SCIM shows no value until one is set again.
            status, shown = "inactive", False
        else:
            status, shown = old.status, old.active_shown
        if status == "active" and old.status != "active":
            await _check_seat(conn, tenant)
        # The document a PATCH applies to carries the manager, so its absence is a removal.
        manager_id = split.manager_id
        if manager_id is not None and manager_id == old.manager_id and pending_manager(old.doc):
            doc = with_pending_manager(split.doc, manager_id)  # still pending: nothing to check
        elif manager_id != old.manager_id:
            doc, manager_id = await _placed_manager(conn, tenant, split, old.id)
        else:
            doc = split.doc
        if (doc, status, manager_id, shown) == (old.doc, old.status, old.manager_id, old.active_shown):
            # Nothing to write: the version stays, and the log says the request changed nothing.
            req.entry.action, req.entry.changes, req.entry.status = "unchanged", [], 200
            await synclog.record(conn, tenant.id, req.entry)
            return (await render(conn, req, [old], Projection()))[0]
        new = await store.update_user(
            conn,
            tenant.id,
            old,
            doc,
            split.fields,
            status=status,
            manager_id=manager_id,
            active_shown=shown,
        )
        req.entry.action = _status_action(old.status, status) or action
        req.entry.resource_name = new.user_name
        req.entry.changes = diff(_comparable(old), _comparable(new))
        req.entry.changes += await user_moves(conn, tenant, new.id)
        req.entry.status = 200
        await _resolve_waiting(conn, req, new)
        if (old.status == "active") != (status == "active"):
            await seats_changed(conn, tenant, now())
        await synclog.record(conn, tenant.id, req.entry)
        return (await render(conn, req, [new], Projection()))[0]

    return await _seat_transaction(req, work)


def _status_action(old: str, new: str) -> str | None:
    if old == new:
        return None
    return "activate" if new == "active" else "deactivate"


class SeatsRefusedError(ScimError):
    """403: the tenant's seat limit refused a new active user."""


async def _seat_transaction(req: Request, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """`transaction`, and when the seat limit refused the write (which rolled back), the
    `seat_limit` alert written on its own: a limit lowered below the users already active is
    reached without a SCIM write filling it."""
    try:
        return await transaction(req, work)
    except SeatsRefusedError:
        await req.db.transaction(lambda conn: seats_changed(conn, req.tenant, now()))
        raise


async def _check_seat(conn: AsyncConnection, tenant: Tenant) -> None:
    limit = tenant.policy.seat_limit
    if limit is None:
        return
    await tenants_store.lock_tenant(conn, tenant.id)
    used = await store.count_active(conn, tenant.id)
    if used >= limit:
        raise SeatsRefusedError(
            403,
            f"the portal's active-seat limit is reached ({used} of {limit} seats in use): "
            "the user was not created or activated. Ask the portal admin to raise the limit "
            "or deactivate someone.",
        )


async def _placed_manager(
    conn: AsyncConnection, tenant: Tenant, split: SplitUser, user_id: str | None
) -> tuple[dict[str, Any], str | None]:
    """The document and manager column to store for a user whose manager is `split.manager_id`.

    A manager must not be the user. It must be a user of the tenant (ADR 0007), unless the
    tenant keeps unknown managers (ADR 0011): then a reference that is a user's externalId
    resolves to that user, and one that names no user yet is stored pending, in the document.
    Refused references are `invalidValue`.
    """
    reference = split.manager_id
    if reference is None:
        return split.doc, None
    if reference == user_id:
        raise invalid_value("a user cannot be their own manager")
    if await store.existing_user_ids(conn, tenant.id, [reference]):
        return split.doc, reference
    if not tenant.policy.keeps_unknown_managers:
        raise invalid_value(
            f"manager {reference!r} is not a user of this tenant (the tenant setting "
            "unknown_managers=keep stores it until that user arrives)"
        )
    found = await store.find_visible_by_external_id(conn, tenant.id, reference)
    if found is not None and found != user_id:
        return split.doc, found  # the IdP's own id for the manager, which it sent as externalId
    return with_pending_manager(split.doc, reference), reference


async def _resolve_waiting(conn: AsyncConnection, req: Request, record: UserRecord) -> None:
    """Users waiting for this one as their manager (by id or externalId) now point at it; each
    gets a sync log entry of its own, so their history says when and why the manager changed."""
    tenant = req.tenant
    if not tenant.policy.keeps_unknown_managers or record.status == "terminated":
        return
    resolved = await store.resolve_pending_managers(
        conn, tenant.id, record.id, [record.id, str(record.doc.get("externalId") or "")]
    )
    for user_id, user_name, reference in resolved:
        entry = SyncEntry(
            method=req.entry.method,
            path=req.entry.path,
            client=req.entry.client,
            status=200,
            action="resolve manager",
            resource_type="User",
            resource_id=user_id,
            resource_name=user_name,
            changes=[Change("manager", reference, record.id)],
        )
        await synclog.record(conn, tenant.id, entry)


def _patchable(record: UserRecord) -> dict[str, Any]:
    """The document a PATCH applies to: the stored one plus `active` and the manager."""
    doc = dict(record.doc)
    if record.active_shown:
        doc["active"] = record.status == "active"
    if record.manager_id:
        enterprise = dict(doc.get(ENTERPRISE_USER_SCHEMA_ID) or {})
        enterprise["manager"] = {"value": record.manager_id}
        doc[ENTERPRISE_USER_SCHEMA_ID] = enterprise
    return doc


def _comparable(record: UserRecord) -> dict[str, Any]:
    doc = _patchable(record)
    doc.pop("active", None)
    doc["status"] = record.status
    return doc
