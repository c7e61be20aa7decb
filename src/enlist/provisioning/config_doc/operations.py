"""`app export` and `app import` against the store: the CLI calls these, and the JSON API can
call the same, so the two cannot drift apart.

An import is one transaction: the document is checked whole (`read_document`), every assigned
name is looked up in the directory, the difference is computed, and only then is anything
written; any error rolls everything back. `dry_run` runs every check and computes the
difference in a read transaction and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enlist.document_shape import DocumentError
from enlist.provisioning.config_doc.diff import Change, diff_documents
from enlist.provisioning.config_doc.document import AppDocument, Status
from enlist.provisioning.directory import store as directory
from enlist.provisioning.directory.errors import ConflictError
from enlist.provisioning.directory.tables import dir_groups
from enlist.provisioning.mapping.mappings import mapping_from_json, mapping_to_json
from enlist.provisioning.mapping.scoping import filters_from_json, filters_to_json
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store.apps import App
from enlist.provisioning.target.connection import same_endpoint

# States in which provisioning is on: Entra's Provisioning Status toggle reads On.
_ON_STATES = frozenset({"active", "quarantined", "disabled"})


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did (or, for a dry run, would do): `changes` empty means nothing."""

    name: str
    created: bool
    dry_run: bool
    changes: list[Change] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "created": self.created,
            "dry_run": self.dry_run,
            "changed": bool(self.changes),
            "changes": [c.to_json() for c in self.changes],
        }


async def export_app(service: Service, name: str) -> AppDocument:
    """`app export NAME`: the application as a document (never its Secret token)."""
    async with service.db.read() as conn:
        return await document_of(conn, await app_store.get_app(conn, name))


async def document_of(conn: AsyncConnection, app: App) -> AppDocument:
    """`app` as a document, its assignments by name; `DocumentError` when an assigned object
    cannot be named uniquely (gone from the directory, or a group name two groups share)."""
    users = await directory.get_users(conn, await app_store.assigned_ids(conn, app.id, "user"))
    groups = await directory.get_groups(conn, await app_store.assigned_ids(conn, app.id, "group"))
    group_names = [str(g.attributes.get("displayName") or "") for g in groups.values()]
    for group_name in group_names:
        count = await conn.scalar(
            sa.select(sa.func.count()).where(dir_groups.c.display_name_ci == group_name.casefold())
        )
        if count != 1:
            raise DocumentError(
                "assignments.groups",
                f"{count} groups are named {group_name!r}; a document names groups by displayName, "
                "so rename one of them before exporting",
            )
    status: Status = "on" if app.state in _ON_STATES else "off"
    return AppDocument(
        name=app.name,
        tenant_url=app.tenant_url,
        provisioning_status=status,
        settings=app.settings,
        scoping=filters_from_json(app.scoping),
        user_mapping=mapping_from_json(app.user_mapping),
        group_mapping=mapping_from_json(app.group_mapping),
        users=tuple(u.upn for u in users.values()),
        groups=tuple(group_names),
    )


async def import_app(
    service: Service, document: AppDocument, *, secret_token: str | None = None, dry_run: bool = False
) -> ImportResult:
    """`app import FILE`: create the application `document` names, or bring it to the document.

    The Secret token comes from `secret_token`, never from the document; it is required when the
    application gets a Tenant URL it has no token for (a new application, or a URL that is not
    the endpoint the stored token was saved for), and otherwise keeps the stored one. A document
    cannot disconnect a connected application (`DocumentError`). Like `app set`, `app map` and
    `app scoping`, a change to the mappings, scoping filters, scope or nested-group flattening
    makes the next cycle an initial one. `DocumentError` for a user or group not in the directory.
    """
    token = (secret_token or "").strip() or None
    async with service.db.read() if dry_run else service.db.write() as conn:
        existing = await app_store.find_app(conn, document.name)
        before = (await document_of(conn, existing)).to_data() if existing else None
        changes = diff_documents(before, document.to_data())
        user_ids = await _user_ids(conn, document.users)
        group_ids = await _group_ids(conn, document.groups)
        needs_token = _needs_token(existing, document.tenant_url)
        if document.tenant_url is None and token:
            raise DocumentError(
                "connection.tenant_url", "a Secret token was given but the document has no Tenant URL"
            )
        if needs_token and not token:
            raise DocumentError(
                "connection.secret_token",
                f"{document.name} gets the Tenant URL {document.tenant_url} without a Secret token for it: "
                "give the token with --secret-token (- reads it from stdin)",
            )
        if document.tenant_url is None and existing is not None and existing.tenant_url is not None:
            raise DocumentError(
                "connection.tenant_url",
                f"{existing.name} is connected to {existing.tenant_url}; a document cannot disconnect it "
                "(give its Tenant URL)",
            )
        if token:
            changes.append(
                Change(
                    "~" if existing and existing.sealed_token else "+",
                    "connection.secret_token",
                    "(stored)" if existing and existing.sealed_token else None,
                    "(given)",
                )
            )
        result = ImportResult(document.name, existing is None, dry_run, changes)
        if dry_run or not changes:
            return result
        app = existing or await app_store.create_app(
            conn,
            document.name,
            mapping_to_json(document.user_mapping),
            mapping_to_json(document.group_mapping),
        )
        await _write(service, conn, app, document, token, user_ids, group_ids)
        return result


def _needs_token(existing: App | None, tenant_url: str | None) -> bool:
    if tenant_url is None:
        return False
    if existing is None or not existing.sealed_token or not existing.tenant_url:
        return True
    return not same_endpoint(existing.tenant_url, tenant_url)


async def _user_ids(conn: AsyncConnection, upns: tuple[str, ...]) -> list[str]:
    ids = []
    for index, upn in enumerate(upns):
        user = await directory.get_user_by_upn(conn, upn)
        if user is None:
            raise DocumentError(f"assignments.users[{index}]", f"no user {upn!r} in the directory")
        ids.append(user.id)
    return ids


async def _group_ids(conn: AsyncConnection, names: tuple[str, ...]) -> list[str]:
    ids = []
    for index, name in enumerate(names):
        try:
            group = await directory.get_group_by_name(conn, name)
        except ConflictError as exc:
            raise DocumentError(f"assignments.groups[{index}]", str(exc)) from None
        if group is None:
            raise DocumentError(f"assignments.groups[{index}]", f"no group {name!r} in the directory")
        ids.append(group.id)
    return ids


async def _write(
    service: Service,
    conn: AsyncConnection,
    app: App,
    document: AppDocument,
    token: str | None,
    user_ids: list[str],
    group_ids: list[str],
) -> None:
    user_mapping = mapping_to_json(document.user_mapping)
    group_mapping = mapping_to_json(document.group_mapping)
    scoping = filters_to_json(document.scoping)
    restart = (
        user_mapping != app.user_mapping
        or group_mapping != app.group_mapping
        or scoping != app.scoping
        or document.settings.scope != app.settings.scope
        or document.settings.flatten_nested_groups != app.settings.flatten_nested_groups
    )
    await app_store.update_app(
        conn,
        app.id,
        name=document.name,
        settings=document.settings.to_json(),
        user_mapping=user_mapping,
        group_mapping=group_mapping,
        scoping=scoping,
        **({"watermark": None} if restart else {}),
    )
    if token and document.tenant_url:
        await app_store.connect(conn, app, document.tenant_url, service.secrets.seal(token))
    elif document.tenant_url and document.tenant_url != app.tenant_url:
        await app_store.update_app(conn, app.id, tenant_url=document.tenant_url)
    for kind, wanted in (("user", user_ids), ("group", group_ids)):
        current = await app_store.assigned_ids(conn, app.id, kind)
        await app_store.unassign(conn, app, kind, sorted(current - set(wanted)))
        await app_store.assign(conn, app, kind, wanted)
    await _set_status(conn, app.id, document.provisioning_status)


async def _set_status(conn: AsyncConnection, app_id: int, status: Status) -> None:
    app = await app_store.get_app_by_id(conn, app_id)
    if status == "on" and app.state not in _ON_STATES:
        await app_store.start(conn, app)
    elif status == "off" and app.state in _ON_STATES:
        await app_store.pause(conn, app)
