"""What an admin does to an application, whichever front end they use: the `enlist
provisioning app …` commands and the admin pages' buttons both call these functions, so the
two cannot drift apart and give the same errors with the same messages.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from enlist.db.rows import now
from enlist.provisioning.directory.errors import DirectoryError
from enlist.provisioning.directory.files import DirectoryFile
from enlist.provisioning.directory.tables import dir_groups, dir_users
from enlist.provisioning.engine.app_settings import AppSettings, SettingError
from enlist.provisioning.engine.mapping_edits import Kind as MappingKind
from enlist.provisioning.engine.mapping_edits import build_row, with_mapping, without_mapping
from enlist.provisioning.engine.runner import AppPausedError, CycleBusyError, target_for
from enlist.provisioning.mapping.errors import MappingPackageError
from enlist.provisioning.mapping.mappings import (
    default_group_mapping,
    default_user_mapping,
    mapping_from_json,
    mapping_to_json,
)
from enlist.provisioning.mapping.scoping import filters_from_json, filters_to_json
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store.apps import App, AppExistsError, UnknownAppError
from enlist.provisioning.target.client import ScimTarget
from enlist.provisioning.target.connection import ConnectionCheck, same_endpoint
from enlist.provisioning.target.network import networks_of
from enlist.secretbox import SecretError

# The errors an admin causes and can fix: a front end shows their message, never a traceback.
EXPECTED = (
    UnknownAppError,
    AppExistsError,
    SettingError,
    DirectoryError,
    MappingPackageError,
    CycleBusyError,
    AppPausedError,
    SecretError,
    LookupError,
    ValueError,
)


async def create(service: Service, name: str) -> App:
    """`app create NAME`: a non-gallery application with Entra's default mappings."""
    async with service.db.write() as conn:
        return await app_store.create_app(
            conn, name, mapping_to_json(default_user_mapping()), mapping_to_json(default_group_mapping())
        )


# Said on every path (pages, CLI) when a stored token would go to a URL it was not saved for.
URL_CHANGED = "the Tenant URL changed: enter the Secret token again"


def _secret_for(service: Service, app: App, tenant_url: str, token: str) -> str:
    """The Secret token to send to `tenant_url`: the one typed, else the stored one, but only to
    the endpoint it was saved for (`same_endpoint`): a stored token never leaves for a new URL."""
    typed = token.strip()
    if typed:
        return typed
    if not app.sealed_token:
        raise ValueError("enter the Secret token the application gave you")
    if not app.tenant_url or not same_endpoint(app.tenant_url, tenant_url):
        raise ValueError(URL_CHANGED)
    return service.secrets.open(app.sealed_token)


async def _check(service: Service, app: App, tenant_url: str, secret: str) -> ConnectionCheck:
    networks = networks_of(service.settings)
    async with ScimTarget(tenant_url, secret, dialect=app.settings.dialect, networks=networks) as target:
        return await target.test_connection()


async def test_connection(service: Service, app: App, tenant_url: str, token: str) -> ConnectionCheck:
    """Test connection with the given Tenant URL and Secret token. An empty token tests the one
    saved already (the page never shows it), and only at the Tenant URL it was saved for: for
    another URL, ValueError(URL_CHANGED) and nothing is sent. Raises ValueError for a URL or
    token that cannot be tried at all."""
    if not tenant_url.strip():
        raise ValueError("enter the Tenant URL: the SCIM base URL the application gave you")
    return await _check(service, app, tenant_url.strip(), _secret_for(service, app, tenant_url, token))


async def connect(service: Service, app: App, tenant_url: str, token: str) -> ConnectionCheck:
    """`app connect`: save the Tenant URL and Secret token only after a Test connection that
    passes (as Entra's Create button requires); a failed check saves nothing. As for
    `test_connection`, a new Tenant URL needs the token typed again."""
    if not tenant_url.strip():
        raise ValueError("enter the Tenant URL: the SCIM base URL the application gave you")
    secret = _secret_for(service, app, tenant_url, token)
    check = await _check(service, app, tenant_url.strip(), secret)
    if check.ok:
        async with service.db.write() as conn:
            current = await app_store.get_app_by_id(conn, app.id)
            await app_store.connect(conn, current, tenant_url.strip(), service.secrets.seal(secret))
    return check


async def change_state(service: Service, app: App, command: str) -> str:
    """`app start|pause|restart|allow-deletes`: the new state."""
    async with service.db.write() as conn:
        found = await app_store.get_app_by_id(conn, app.id)
        if command == "start":
            await app_store.start(conn, found)
        elif command == "pause":
            await app_store.pause(conn, found)
        elif command == "restart":
            await app_store.restart(conn, found)
        elif command == "allow-deletes":
            quarantined = found.state == "quarantined"
            await app_store.update_app(
                conn,
                found.id,
                allow_deletes=True,
                next_run_at=now(),
                # Lift a TooManyDeletes quarantine; never un-pause a paused app.
                **({"state": "active", "quarantine": None} if quarantined else {}),
            )
        else:
            raise ValueError(f"unknown action {command!r}")
        return (await app_store.get_app_by_id(conn, app.id)).state


async def save_settings(service: Service, app: App, changes: dict[str, str]) -> AppSettings:
    """`app set NAME KEY=VALUE…`: validated as a whole before anything is written; a new scope
    or nested-group flattening makes the next cycle an initial one. A webhook secret is sealed
    before it is stored (an empty one clears it)."""
    if changes.get("webhook_secret", "").strip():
        changes = {**changes, "webhook_secret": service.secrets.seal(changes["webhook_secret"].strip())}
    async with service.db.write() as conn:
        found = await app_store.get_app_by_id(conn, app.id)
        updated = found.settings.with_changes(changes)
        restart = (
            updated.scope != found.settings.scope
            or updated.flatten_nested_groups != found.settings.flatten_nested_groups
        )
        await app_store.update_app(
            conn, found.id, settings=updated.to_json(), **({"watermark": None} if restart else {})
        )
        return updated


def _column(object_kind: str) -> str:
    if object_kind not in ("user", "group"):
        raise ValueError(f"mappings are for users or groups, not {object_kind!r}")
    return "user_mapping" if object_kind == "user" else "group_mapping"


async def map_attribute(
    service: Service,
    app: App,
    object_kind: str,
    target: str,
    kind: MappingKind,
    source: str,
    *,
    on_create: bool,
    matching: int | None,
    default: str | None,
) -> None:
    """`app map`: add or replace a row; a bad row is refused (with the expression's error
    position) and nothing is stored; the next cycle is an initial one."""
    row = build_row(target, kind, source, on_create=on_create, matching=matching, default=default)
    column = _column(object_kind)
    async with service.db.write() as conn:
        found = await app_store.get_app_by_id(conn, app.id)
        updated = with_mapping(mapping_from_json(getattr(found, column)), row)
        await app_store.update_app(conn, found.id, **{column: mapping_to_json(updated), "watermark": None})


async def unmap(service: Service, app: App, object_kind: str, target: str) -> None:
    """`app unmap`."""
    column = _column(object_kind)
    async with service.db.write() as conn:
        found = await app_store.get_app_by_id(conn, app.id)
        updated = without_mapping(mapping_from_json(getattr(found, column)), target)
        await app_store.update_app(conn, found.id, **{column: mapping_to_json(updated), "watermark": None})


async def set_scoping(service: Service, app: App, document: Any) -> list[dict[str, Any]]:
    """`app scoping --set FILE` (an empty list: `--clear`)."""
    stored = filters_to_json(filters_from_json(document))
    async with service.db.write() as conn:
        await app_store.update_app(conn, app.id, scoping=stored, watermark=None)
    return stored


async def change_assignments(
    service: Service, app: App, items: list[tuple[str, str]], *, assign: bool
) -> dict[str, int]:
    """`app assign|unassign`, by directory ids: every id must be a user or group of the
    directory (to assign), else nothing changes."""
    async with service.db.write() as conn:
        found = await app_store.get_app_by_id(conn, app.id)
        users = [i for k, i in items if k == "user"]
        groups = [i for k, i in items if k == "group"]
        if assign:
            known_users = set(
                (await conn.execute(sa.select(dir_users.c.id).where(dir_users.c.id.in_(users)))).scalars()
            )
            known_groups = set(
                (await conn.execute(sa.select(dir_groups.c.id).where(dir_groups.c.id.in_(groups)))).scalars()
            )
            missing = [i for i in users if i not in known_users] + [
                i for i in groups if i not in known_groups
            ]
            if missing:
                raise LookupError(f"no user or group {missing[0]!r} in the directory")
        act = app_store.assign if assign else app_store.unassign
        return {
            "users": await act(conn, found, "user", users),
            "groups": await act(conn, found, "group", groups),
        }


async def create_connected(service: Service, name: str, tenant_url: str | None, token: str | None) -> App:
    """`app create NAME [--tenant-url --secret-token]`: create, then save the connection as
    given (both or neither: ValueError otherwise). Unlike `connect`, nothing is tested first,
    as the CLI has always done: the first cycle or Test connection tells."""
    if (tenant_url is None) != (token is None):
        raise ValueError("give both the Tenant URL and the Secret token, or neither (connect later)")
    if tenant_url is not None and token is not None and not (tenant_url.strip() and token.strip()):
        raise ValueError("the Tenant URL and the Secret token must not be empty")
    created = await create(service, name)
    if tenant_url and token:
        async with service.db.write() as conn:
            await app_store.connect(conn, created, tenant_url.strip(), service.secrets.seal(token.strip()))
    async with service.db.read() as conn:
        return await app_store.get_app_by_id(conn, created.id)


async def check_saved_connection(service: Service, app: App) -> dict[str, Any]:
    """`app test-connection NAME`: Test connection with the saved Tenant URL and token;
    `{"ok", "code", "message"}`, with code NotConfigured when nothing is saved yet."""
    if not app.connected:
        return {
            "ok": False,
            "code": "NotConfigured",
            "message": f"{app.name} has no Tenant URL and Secret token yet",
        }
    async with target_for(service, app) as target:
        check = await target.test_connection()
    return {"ok": check.ok, "code": check.code, "message": check.message}


async def change_assignments_by_name(
    service: Service, app: App, upns: list[str], group_names: list[str], *, assign: bool
) -> dict[str, int]:
    """`app assign|unassign NAME --user UPN --group NAME`: users by userPrincipalName, groups by
    id first, then displayName (sources may give two groups one name, ADR 0018). LookupError
    for any name not in the directory, and then nothing changes."""
    from enlist.provisioning.directory import store as directory  # noqa: PLC0415 (CLI start-up)

    if not upns and not group_names:
        raise ValueError(f"nothing to {'assign' if assign else 'unassign'}: give a user or a group")
    async with service.db.write() as conn:
        found = await app_store.get_app_by_id(conn, app.id)
        user_ids, group_ids = [], []
        for upn in upns:
            user = await directory.get_user_by_upn(conn, upn)
            if user is None:
                raise LookupError(f"no user {upn!r} in the directory")
            user_ids.append(user.id)
        for group_name in group_names:
            group = (await directory.get_groups(conn, [group_name])).get(group_name)
            group = group or await directory.get_group_by_name(conn, group_name)
            if group is None:
                raise LookupError(f"no group {group_name!r} in the directory")
            group_ids.append(group.id)
        act = app_store.assign if assign else app_store.unassign
        return {
            "users": await act(conn, found, "user", user_ids),
            "groups": await act(conn, found, "group", group_ids),
        }


async def delete_app(service: Service, app: App) -> None:
    """`app delete NAME`: the application and everything that is its own (assignments, links,
    escrows, provisioning logs, notifications: their rows go with it). Never while a cycle or
    Provision on demand runs (CycleBusyError): the lease is taken first, as a cycle takes it, so
    nothing starts on it meanwhile. Nothing is sent to the target: what it holds stays there."""
    from enlist.db.leases import owner_id  # noqa: PLC0415
    from enlist.provisioning.engine.runner import claim, release  # noqa: PLC0415 (CLI start-up)
    from enlist.provisioning.store.tables import applications  # noqa: PLC0415

    owner = owner_id()
    if not await claim(service, app, owner):
        raise CycleBusyError(f"{app.name} is running a cycle; delete it when the cycle ends (or pause it)")
    try:
        async with service.db.write() as conn:
            await conn.execute(applications.delete().where(applications.c.id == app.id))
    except BaseException:
        await release(service, app, owner)
        raise


def read_directory_upload(service: Service, raw: bytes, file_name: str) -> DirectoryFile:
    """`directory import FILE`'s check, on the file's bytes and name (`.csv`: users in CSV,
    else JSON): the whole file is read and checked before anything is written
    (InvalidFileError lists what is wrong)."""
    from enlist.provisioning.directory.reading import read_directory_file  # noqa: PLC0415 (CLI start-up)

    return read_directory_file(raw, file_name, max_bytes=service.settings.max_directory_file_bytes)


async def import_directory_data(service: Service, data: DirectoryFile, *, replace: bool) -> dict[str, int]:
    """`directory import FILE [--replace]` once the file is checked: one transaction;
    `replace` soft-deletes the hand-imported users and groups the file lacks. The counts."""
    from enlist.provisioning.directory.importer import import_directory  # noqa: PLC0415 (CLI start-up)

    async with service.db.write() as conn:
        report = await import_directory(conn, data, replace=replace)
    return report.to_json()


async def export_directory(service: Service, file_format: str) -> str:
    """`directory export --format json|csv`: the hand-imported users and groups as the text
    `directory import` reads back (CSV: the users only)."""
    import json  # noqa: PLC0415

    from enlist.provisioning.directory.export import export_document, users_csv  # noqa: PLC0415

    if file_format not in ("json", "csv"):
        raise ValueError(f"the format is json or csv, not {file_format!r}")
    async with service.db.read() as conn:
        document = await export_document(conn)
    return users_csv(document["users"]) if file_format == "csv" else json.dumps(document, indent=2) + "\n"


async def log_records(service: Service, name: str, wanted: Any, limit: int) -> list[dict[str, Any]]:
    """`logs NAME --format …`: application NAME's provisioning log records that `wanted` (a
    `LogFilter`) selects, newest first, at most `limit` (0: all). UnknownAppError for no NAME."""
    from enlist.provisioning.logs import store as log_store  # noqa: PLC0415 (CLI start-up)

    async with service.db.read() as conn:
        found = await app_store.get_app(conn, name)
        records: list[dict[str, Any]] = []
        async for record in log_store.stream(conn, found.id, wanted):
            records.append(record)
            if limit and len(records) >= limit:
                break
        return records


async def preview(service: Service, name: str, *, initial: bool = False) -> dict[str, Any]:
    """What the next cycle of the application `name` would do, nothing sent nor kept (ADR 0038):
    `app sync --json`'s counts, `reads_target`, `items`. Refused (`CycleBusyError`) while a
    cycle of it runs."""
    from enlist.provisioning.engine.preview import preview_cycle  # noqa: PLC0415 (the engine, on use)

    async with service.db.read() as conn:
        found = await app_store.get_app(conn, name)
    return (await preview_cycle(service, found, initial=initial)).to_json()
