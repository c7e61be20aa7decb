"""`source add|test|sync` as every front end runs them: the `enlist provisioning source …`
commands and the JSON API both call these, so a push source, a Graph tenant and an LDAP server
are added, tested and read the same way whichever one asks, with the same messages.

`add` takes the options by the CLI's names (without `--`, `-` as `_`); a value is the text
or number the option takes, secrets included (the CLI reads `-` from stdin before it calls).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from enlist.provisioning.sources.push import operations as push_operations
from enlist.provisioning.sources.read import Progress

_LDAP_OPTIONS = (
    "user_filter",
    "group_filter",
    "ca_file",
    "start_tls",
    "page_size",
    "timeout",
    "connect_timeout",
    "dialect",
    "delta",
)


def _text(options: dict[str, Any], key: str, default: str = "") -> str:
    value = options.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValueError(f"{key!r} is a string")  # noqa: TRY004 (a bad option, answered as a bad value)
    return value


def _optional(options: dict[str, Any], key: str) -> str | None:
    return None if options.get(key) is None else _text(options, key)


def _texts(options: dict[str, Any], key: str) -> tuple[str, ...]:
    value = options.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key!r} is a list of strings")
    return tuple(value)


def settings_of(kind: str, options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The stored settings and the secrets (sealed later) of a new source of `kind`; ValueError
    names the first option that is wrong. A push source has neither (its token is minted)."""
    if kind == "scim-push":
        return {}, {}
    if kind == "ldap":
        secrets: dict[str, str] = {}
        if options.get("bind_password") is not None:
            secrets["bind_password"] = _text(options, "bind_password")
        if options.get("ca_file") is not None:
            _text(options, "ca_file")
        given = {key: options.get(key) for key in _LDAP_OPTIONS}
        given["start_tls"] = given["start_tls"] or None
        settings = operations.ldap_settings(
            _texts(options, "url"), _text(options, "bind_dn"), _texts(options, "base_dn"), given, secrets
        )
        return settings, secrets
    return operations.new_source_settings(
        kind,
        path=_text(options, "path") or None,
        tenant_id=_text(options, "tenant_id"),
        client_id=_text(options, "client_id"),
        client_secret=_optional(options, "client_secret"),
        certificate=_optional(options, "certificate"),
        graph_url=_text(options, "graph_url", operations.GRAPH_URL),
        login_url=_text(options, "login_url", operations.LOGIN_URL),
    )


async def add(service: Service, name: str, kind: str, options: dict[str, Any]) -> dict[str, Any]:
    """`source add NAME --kind KIND …`: what `--json` prints. A push source's answer is exactly
    `{"name", "base_url", "token"}`, and its token is shown only here."""
    if kind == "scim-push":
        return await push_operations.add(service, name)
    settings, secrets = settings_of(kind, options)
    return (await operations.add(service, name, kind, settings, secrets)).to_json()


async def test(service: Service, name: str) -> dict[str, Any]:
    """`source test NAME`: `{"source", "ok", "message", "details"}` (a push source checks its
    endpoint and tokens; the others are reached with their credentials)."""
    found = await operations.get(service, name)
    if found.kind == "scim-push":
        check = await push_operations.check(service, found)
    else:
        check = await operations.test(service, name)
    return {"source": name, "ok": check.ok, "message": check.message, "details": dict(check.details)}


async def sync(
    service: Service, name: str, *, full: bool, allow_deletes: bool, progress: Progress | None = None
) -> dict[str, Any]:
    """`source sync NAME`: one read now and its result; for a push source, nothing to read and
    what to do instead (`read: false`)."""
    found = await operations.get(service, name)
    if found.kind == "scim-push":
        return push_operations.sync_answer(service, found)
    result = await operations.sync(service, name, full=full, allow_deletes=allow_deletes, progress=progress)
    return result.to_json()


async def start_sync(
    service: Service, name: str, *, full: bool, allow_deletes: bool
) -> Callable[[], Awaitable[dict[str, Any]]]:
    """`source sync NAME` to run in the background (the API's job, the page's Sync now): the
    source's lease is claimed now (`SourceBusyError` at once when any process reads it), and
    the read it returns runs under that lease; its result is what `sync` returns."""
    found = await operations.get(service, name)
    if found.kind == "scim-push":
        answer = push_operations.sync_answer(service, found)

        async def nothing_to_read() -> dict[str, Any]:
            return answer

        return nothing_to_read
    reading = await operations.start_sync(service, name, full=full, allow_deletes=allow_deletes)

    async def read() -> dict[str, Any]:
        return (await reading).to_json()

    return read
