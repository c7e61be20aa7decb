"""What an admin does to a source, whichever front end they use (the `enlist provisioning
source …` commands now; the Sources page and the API call the same functions)."""

from __future__ import annotations

import json
from typing import Any

from enlist.db.rows import now
from enlist.provisioning.service import Service
from enlist.provisioning.sources import store as source_store
from enlist.provisioning.sources.model import CheckResult
from enlist.provisioning.sources.read import Progress, ReadResult, open_reader, read_source
from enlist.provisioning.sources.settings import GRAPH_CREDENTIALS, SECRET_KEYS, parse_value
from enlist.provisioning.sources.store import Source

GRAPH_URL = "https://graph.microsoft.com"
LOGIN_URL = "https://login.microsoftonline.com"


def graph_settings(tenant_id: str, client_id: str, graph_url: str, login_url: str) -> dict[str, Any]:
    if not tenant_id.strip() or not client_id.strip():
        raise ValueError("a graph source needs --tenant-id and --client-id")
    return {
        "tenant_id": tenant_id.strip(),
        "client_id": client_id.strip(),
        "graph_url": graph_url.rstrip("/"),
        "login_url": login_url.rstrip("/"),
    }


def ldap_settings(
    urls: tuple[str, ...],
    bind_dn: str,
    base_dns: tuple[str, ...],
    given: dict[str, Any],
    secrets: dict[str, str],
) -> dict[str, Any]:
    """An LDAP source's settings document, checked (ValueError says what is wrong)."""
    from enlist.provisioning.sources.ldap.settings import settings_from_stored  # noqa: PLC0415

    settings: dict[str, Any] = {
        "url": " ".join(u.strip() for u in urls if u.strip()),
        "bind_dn": bind_dn.strip(),
        "base_dn": ";".join(b.strip() for b in base_dns if b.strip()),
        **{k: v for k, v in given.items() if v is not None},
    }
    settings_from_stored(settings, secrets)
    return settings


async def add(
    service: Service, name: str, kind: str, settings: dict[str, Any], secrets: dict[str, str]
) -> Source:
    """`source add`: store the source (its secrets sealed); it is read on its interval from now."""
    sealed = service.secrets.seal(json.dumps(secrets)) if secrets else None
    async with service.db.write() as conn:
        return await source_store.create_source(conn, name, kind, settings, sealed)


async def get(service: Service, name: str) -> Source:
    async with service.db.read() as conn:
        return await source_store.get_source(conn, name)


async def list_all(service: Service) -> list[Source]:
    async with service.db.read() as conn:
        return await source_store.list_sources(conn)


async def test(service: Service, name: str) -> CheckResult:
    """`source test`: reach the source with its credentials; says what is wrong."""
    return await open_reader(await get(service, name), service.secrets).check()


async def sync(
    service: Service, name: str, *, full: bool, allow_deletes: bool = False, progress: Progress | None = None
) -> ReadResult:
    """`source sync`: one read now (paused or not: an admin asked for it)."""
    return await read_source(
        service, await get(service, name), full=full, allow_deletes=allow_deletes, progress=progress
    )


async def configure(service: Service, name: str, changes: dict[str, str]) -> Source:
    """`source set NAME KEY=VALUE…`: all checked before anything is written. `interval_minutes`
    is the read interval; `client_secret` and `certificate` are sealed; other keys are the
    kind's settings. A changed setting other than the interval makes the next read a full one."""
    async with service.db.write() as conn:
        found = await source_store.get_source(conn, name)
        settings = dict(found.settings)
        secrets: dict[str, str] = {}
        if found.sealed_secrets:
            secrets = json.loads(service.secrets.open(found.sealed_secrets))
        values: dict[str, Any] = {}
        for key, raw in changes.items():
            if key in SECRET_KEYS:
                secrets[key] = raw
                if key in GRAPH_CREDENTIALS:  # a secret or a certificate, never both
                    secrets.pop(next(iter(GRAPH_CREDENTIALS - {key})), None)
            elif key == "interval_minutes":
                values["interval_minutes"] = parse_value(key, raw)
            else:
                settings[key] = parse_value(key, raw)
        if found.kind == "ldap":  # checked before anything is written (ValueError says what)
            from enlist.provisioning.sources.ldap.settings import settings_from_stored  # noqa: PLC0415

            settings_from_stored(settings, secrets)
        if settings != found.settings:
            values["settings"] = settings
            values["cursor"] = None
        if any(k in SECRET_KEYS for k in changes):
            values["secrets"] = service.secrets.seal(json.dumps(secrets))
        if values:
            await source_store.update_source(conn, found.id, **values)
        return await source_store.get_source(conn, name)


async def change_state(service: Service, name: str, command: str) -> str:
    """`source pause|resume`: the new state. A paused source is not read on its interval."""
    async with service.db.write() as conn:
        found = await source_store.get_source(conn, name)
        if command == "pause":
            await source_store.update_source(conn, found.id, state="paused")
        elif command == "resume":
            await source_store.update_source(conn, found.id, state="active", next_read_at=now())
        else:
            raise ValueError(f"unknown action {command!r}")
        return (await source_store.get_source(conn, name)).state


async def remove(service: Service, name: str) -> int:
    """`source remove`: how many directory objects it handed to the built-in owner (kept)."""
    async with service.db.write() as conn:
        return await source_store.remove_source(conn, await source_store.get_source(conn, name))
