"""What an admin does to a source, whichever front end they use (the `enlist provisioning
source …` commands now; the Sources page and the API call the same functions)."""

from __future__ import annotations

import json
from collections.abc import Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any

from enlist.db.rows import now
from enlist.provisioning.service import Service
from enlist.provisioning.sources import read_log
from enlist.provisioning.sources import store as source_store
from enlist.provisioning.sources.graph.settings import certificate_from_pem
from enlist.provisioning.sources.keys import check_keys
from enlist.provisioning.sources.ldap import extensions
from enlist.provisioning.sources.model import CheckResult
from enlist.provisioning.sources.read import Progress, ReadResult, claim_read, open_reader, read_source
from enlist.provisioning.sources.read_log import ReadEntry
from enlist.provisioning.sources.scheduling import next_read
from enlist.provisioning.sources.settings import GRAPH_CREDENTIALS, SECRET_KEYS, parse_value
from enlist.provisioning.sources.store import Source
from enlist.provisioning.sources.tables import KINDS

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


def new_source_settings(
    kind: str,
    *,
    path: str | None = None,
    tenant_id: str = "",
    client_id: str = "",
    client_secret: str | None = None,
    certificate: str | None = None,
    graph_url: str = GRAPH_URL,
    login_url: str = LOGIN_URL,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings and the secrets `source add` stores for a kind, from its options; raises
    ValueError (nothing stored) with the message both the CLI and the Add source form show."""
    settings: dict[str, Any] = {}
    secrets: dict[str, str] = {}
    if kind == "file":
        if not path or not path.strip():
            raise ValueError("a file source needs --path DIR (the folder HR files are dropped in)")
        folder = Path(path.strip()).expanduser()
        try:
            if folder.exists() and not folder.is_dir():
                raise ValueError(f"--path {folder} is a file; give the folder HR files are dropped in")
            settings["path"] = str(folder.resolve())
        except OSError as error:  # a name too long for the system, a part that is not a folder, …
            raise ValueError(f"--path cannot be used as a folder: {error.strerror}") from None
    elif kind == "graph":
        if (client_secret is None) == (certificate is None):
            raise ValueError(
                "a graph source needs --client-secret - (on stdin) or --certificate FILE, one of them"
            )
        if client_secret is not None:
            if not client_secret.strip():
                raise ValueError("the client secret is empty")
            secrets["client_secret"] = client_secret
        if certificate is not None:
            certificate_from_pem(certificate)  # the PEM certificate and its private key, or ValueError
            secrets["certificate"] = certificate
        settings = graph_settings(tenant_id, client_id, graph_url, login_url)
    elif kind not in KINDS:
        raise ValueError(f"a source's kind is one of {', '.join(KINDS)}, not {kind!r}")
    return settings, secrets


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


def _described(source: Source, last: ReadEntry | None, moment: datetime) -> dict[str, Any]:
    document = source.to_json()
    document["next_read"] = next_read(source, moment).to_json()
    if last is not None:
        entry = last.to_json()
        document["last_read"] |= {k: entry[k] for k in LAST_READ_KEYS}
    else:
        document["last_read"] |= dict.fromkeys(LAST_READ_KEYS)
    return document


LAST_READ_KEYS = ("id", "trigger", "requested", "kind", "records", "duration_s", "conflicts", "warnings")


async def describe(service: Service, name: str) -> dict[str, Any]:
    """`source show --json`: the source (`Source.to_json`), its next read by the scheduler's
    rule (`next_read`: `{"state", "at"}`), and its last read with what its log says of it."""
    async with service.db.read() as conn:
        found = await source_store.get_source(conn, name)
        last = await read_log.latest(conn, [found.id])
    return _described(found, last.get(found.id), now())


async def describe_all(service: Service) -> list[dict[str, Any]]:
    """`source list --json`: `describe` of every source, by name."""
    async with service.db.read() as conn:
        found = await source_store.list_sources(conn)
        last = await read_log.latest(conn, [s.id for s in found])
    moment = now()
    return [_described(s, last.get(s.id), moment) for s in found]


async def reads(service: Service, name: str, before_id: int | None, limit: int) -> list[ReadEntry]:
    """The source's log: up to `limit` reads, newest first, older than `before_id` when given."""
    async with service.db.read() as conn:
        found = await source_store.get_source(conn, name)
        return await read_log.page(conn, found.id, before_id, limit)


async def test(service: Service, name: str) -> CheckResult:
    """`source test`: reach the source with its credentials; says what is wrong."""
    return await open_reader(await get(service, name), service.secrets).check()


async def sync(
    service: Service, name: str, *, full: bool, allow_deletes: bool = False, progress: Progress | None = None
) -> ReadResult:
    """`source sync`: one read now (paused or not: an admin asked for it)."""
    return await read_source(
        service,
        await get(service, name),
        full=full,
        allow_deletes=allow_deletes,
        progress=progress,
        trigger="admin",
    )


async def start_sync(
    service: Service, name: str, *, full: bool, allow_deletes: bool = False
) -> Coroutine[Any, Any, ReadResult]:
    """Sync now from the pages: claims the source's lease at once, as the scheduler's read does
    (`SourceBusyError` when a read of any process holds it, so a click and a running `serve`
    never read one source twice), and returns the read to run under that lease, to be awaited
    in the background (a large read outlives a request)."""
    found = await get(service, name)
    claim = await claim_read(service, found, full=full, trigger="admin")
    return read_source(service, found, full=full, allow_deletes=allow_deletes, claim=claim)


async def configure(service: Service, name: str, changes: dict[str, str]) -> Source:
    """`source set NAME KEY=VALUE…`: all checked before anything is written. `interval_minutes`
    is the read interval; `client_secret` and `certificate` are sealed; other keys are the
    kind's settings (`attributes.NAME=ldapAttribute` of an LDAP source: a custom attribute,
    `attributes.NAME=` removes it). A key the kind does not take is refused with the valid
    keys (`keys.check_keys`). A changed setting other than the interval makes the next read a
    full one."""
    async with service.db.write() as conn:
        found = await source_store.get_source(conn, name)
        check_keys(found.kind, changes)
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
            elif key.startswith(extensions.KEY_PREFIX):
                settings["attributes"] = extensions.change(settings, key, raw)
                if not settings["attributes"]:
                    del settings["attributes"]
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
