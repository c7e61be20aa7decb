"""The provisioning API's writes that the CLI had alone until now, over real HTTP with an API
token on both databases: each answers what the CLI command prints (the same bytes for the
exports), a bad request changes nothing, and every CLI write has its route."""

from __future__ import annotations

import json
from datetime import timedelta

import click
import httpx2
import orjson
import pytest
from starlette.routing import Route

from enlist.cli import main
from enlist.db.leases import owner_id
from enlist.db.rows import now
from enlist.provisioning.api.app import create_app
from enlist.provisioning.engine.runner import claim, release
from enlist.provisioning.logs import store as log_store
from enlist.provisioning.logs.records import LogRecord
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from tests.integration.api.conftest import enlist
from tests.integration.api.http import assert_error_shape, token
from tests.integration.api.test_api_jobs import finished

DIRECTORY = {
    "users": [
        {"userPrincipalName": "ada@contoso.com", "displayName": "Ada", "accountEnabled": True},
        {"userPrincipalName": "bob@contoso.com", "displayName": "Bob", "accountEnabled": True},
    ],
    "groups": [{"displayName": "Staff", "members": ["ada@contoso.com"]}],
}

# Every `enlist provisioning` command that writes, and the API route that does the same; or why
# it stays on the command line. A new command must be placed here (the walk below fails).
API_OF: dict[str, tuple[str, str]] = {
    "app create": ("POST", "/api/v1/apps"),
    "app connect": ("POST", "/api/v1/apps/{name}/connect"),
    "app test-connection": ("POST", "/api/v1/apps/{name}/test-connection"),
    "app assign": ("POST", "/api/v1/apps/{name}/assign"),
    "app unassign": ("POST", "/api/v1/apps/{name}/unassign"),
    "app start": ("POST", "/api/v1/apps/{name}/start"),
    "app pause": ("POST", "/api/v1/apps/{name}/pause"),
    "app restart": ("POST", "/api/v1/apps/{name}/restart"),
    "app allow-deletes": ("POST", "/api/v1/apps/{name}/allow-deletes"),
    "app set": ("PATCH", "/api/v1/apps/{name}/settings"),
    "app sync": ("POST", "/api/v1/apps/{name}/sync"),
    "app provision-on-demand": ("POST", "/api/v1/apps/{name}/provision-on-demand"),
    "app delete": ("DELETE", "/api/v1/apps/{name}"),
    "app map": ("PUT", "/api/v1/apps/{name}/mappings/{object}/{target}"),
    "app unmap": ("DELETE", "/api/v1/apps/{name}/mappings/{object}/{target}"),
    "app scoping": ("PUT", "/api/v1/apps/{name}/scoping"),
    "app export": ("GET", "/api/v1/apps/{name}/document"),
    "app import": ("PUT", "/api/v1/apps/{name}/document"),
    "app import-entra-schema": ("POST", "/api/v1/apps/{name}/import-entra-schema"),
    "app preview": ("POST", "/api/v1/apps/{name}/preview"),
    "source add": ("POST", "/api/v1/sources"),
    "source set": ("PATCH", "/api/v1/sources/{source}/settings"),
    "source pause": ("POST", "/api/v1/sources/{source}/pause"),
    "source resume": ("POST", "/api/v1/sources/{source}/resume"),
    "source remove": ("DELETE", "/api/v1/sources/{source}"),
    "source test": ("POST", "/api/v1/sources/{source}/test"),
    "source sync": ("POST", "/api/v1/sources/{source}/sync"),
    "source rotate-token": ("POST", "/api/v1/sources/{source}/rotate-token"),
    "directory import": ("POST", "/api/v1/directory/import"),
    "directory export": ("GET", "/api/v1/directory/export"),
    "logs": ("GET", "/api/v1/apps/{name}/logs/export"),
    "notify test": ("POST", "/api/v1/apps/{name}/notify/test"),
    "notify send": ("POST", "/api/v1/notifications/send"),
    "api-token revoke": ("DELETE", "/api/v1/api-tokens/{name}"),
}
CLI_ONLY = {
    "serve": "runs the service itself",
    "reseal-secrets": "needs the old and new ENLIST_SECRET_KEY in the environment of the caller",
    "admin create": "admin accounts: a token must not mint sign-ins to the pages",
    "admin delete": "admin accounts (as above)",
    "admin set-password": "admin accounts (as above)",
    "api-token create": "a person mints tokens: a leaked one could mint its successor before it is revoked (ADR 0030)",
    "notify seal-password": "prints a value for the environment; writes nothing",
}
READS = {
    "app list",
    "app show",
    "app status",
    "app mappings",
    "app test-expression",
    "source list",
    "source show",
    "notify list",
    "admin list",
    "api-token list",
}


def commands(group: click.Group, prefix: str = "") -> set[str]:
    ctx = click.Context(group)
    found: set[str] = set()
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        path = f"{prefix} {name}".strip()
        found |= commands(command, path) if isinstance(command, click.Group) else {path}
    return found


async def test_every_cli_write_of_the_provisioning_service_has_an_api_route(service: Service) -> None:
    provisioning = main.get_command(click.Context(main), "provisioning")
    assert isinstance(provisioning, click.Group)
    app = create_app(service.settings, scheduler=False, service=service)
    routed = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods or set()
    }

    every = commands(provisioning)

    assert every == set(API_OF) | set(CLI_ONLY) | READS, {
        "unplaced": every - set(API_OF) - set(CLI_ONLY) - READS,
        "gone": set(API_OF) | set(CLI_ONLY) | READS - every,
    }
    assert {c: r for c, r in API_OF.items() if r not in routed} == {}


async def test_a_directory_is_imported_as_a_job_and_exported_as_the_cli_exports_it(
    service: Service, api: httpx2.AsyncClient
) -> None:
    writer = await token(service, "ci", "write")

    imported = await api.post("/api/v1/directory/import", content=orjson.dumps(DIRECTORY), headers=writer)
    first = await finished(api, imported.headers["location"], writer)
    exported = {
        fmt: (await api.get(f"/api/v1/directory/export?format={fmt}", headers=writer))
        for fmt in ("json", "csv")
    }
    cli = {
        fmt: (await enlist(service, "provisioning", "directory", "export", "--format", fmt))[1]
        for fmt in ("json", "csv")
    }
    bad = await api.post("/api/v1/directory/import", content=b"{not json", headers=writer)
    bad_format = await api.post("/api/v1/directory/import?format=xml", content=b"<x/>", headers=writer)
    unchanged = (await api.get("/api/v1/directory/export", headers=writer)).text
    replace = b"userPrincipalName,displayName,accountEnabled\nada@contoso.com,Ada,true\n"
    replaced = await api.post(
        "/api/v1/directory/import?format=csv&replace=true", content=replace, headers=writer
    )
    second = await finished(api, replaced.headers["location"], writer)

    assert imported.status_code == 202, imported.text
    assert first["status"] == "done", first
    assert (first["result"]["users_created"], first["result"]["groups_created"]) == (2, 1)
    assert {fmt: r.text for fmt, r in exported.items()} == cli
    assert exported["csv"].headers["content-type"].startswith("text/csv")
    assert assert_error_shape(bad, 400)
    assert assert_error_shape(bad_format, 400)["code"] == "BadParameter"
    assert unchanged == cli["json"]
    assert second["result"]["users_soft_deleted"] == 1, second


async def test_an_application_is_exported_imported_with_a_dry_run_and_deleted(
    service: Service, api: httpx2.AsyncClient
) -> None:
    writer = await token(service, "ci", "write")
    assert (await api.post("/api/v1/apps", json={"name": "HR"}, headers=writer)).status_code == 201
    await api.patch("/api/v1/apps/HR/settings", json={"interval_minutes": "15"}, headers=writer)

    exported = {
        fmt: (await api.get(f"/api/v1/apps/HR/document?format={fmt}", headers=writer)).text
        for fmt in ("json", "yaml")
    }
    cli = {
        fmt: (await enlist(service, "provisioning", "app", "export", "HR", "--format", fmt))[1]
        for fmt in ("json", "yaml")
    }
    document = {**json.loads(exported["json"]), "name": "HR copy"}
    copy = "/api/v1/apps/HR%20copy/document"
    dry = await api.put(copy, json={"document": document, "dry_run": True}, headers=writer)
    after_dry = await api.get("/api/v1/apps/HR%20copy", headers=writer)
    done = await api.put(copy, json={"document": document}, headers=writer)
    again = await api.put(copy, json={"document": document}, headers=writer)
    round_trip = (await api.get(copy, headers=writer)).json()
    bad = await api.put(copy, json={"document": {"name": 3}}, headers=writer)
    elsewhere = await api.put("/api/v1/apps/Other/document", json={"document": document}, headers=writer)
    allowed = await api.post("/api/v1/apps/HR/allow-deletes", headers=writer)
    deleted = await api.delete("/api/v1/apps/HR%20copy", headers=writer)
    twice = await api.delete("/api/v1/apps/HR%20copy", headers=writer)

    assert exported == cli
    assert dry.json()["dry_run"] is True
    assert dry.json()["created"] is True
    assert dry.json()["changes"], dry.json()
    assert_error_shape(after_dry, 404)
    assert done.json()["created"] is True
    assert again.json()["changed"] is False
    assert round_trip == document
    assert_error_shape(bad, 400)
    assert assert_error_shape(elsewhere, 400)["code"] == "NameMismatch"
    assert allowed.json() == {"state": "not_configured"}
    assert deleted.json() == {"deleted": "HR copy"}
    assert assert_error_shape(twice, 404)["code"] == "UnknownApp"
    async with service.db.read() as conn:
        assert [a.name for a in await app_store.list_apps(conn)] == ["HR"]


async def test_a_push_source_is_added_with_its_token_once_tested_synced_and_rotated(
    service: Service, api: httpx2.AsyncClient
) -> None:
    writer = await token(service, "ci", "write")

    added = await api.post("/api/v1/sources", json={"name": "HRIS", "kind": "scim-push"}, headers=writer)
    twice = await api.post("/api/v1/sources", json={"name": "HRIS", "kind": "scim-push"}, headers=writer)
    bad_kind = await api.post("/api/v1/sources", json={"name": "X", "kind": "fax"}, headers=writer)
    bad_graph = await api.post(
        "/api/v1/sources", json={"name": "G", "kind": "graph", "options": {}}, headers=writer
    )
    tested = await api.post("/api/v1/sources/HRIS/test", headers=writer)
    synced = await api.post("/api/v1/sources/HRIS/sync", json={"full": True}, headers=writer)
    result = await finished(api, synced.headers["location"], writer)
    rotated = await api.post("/api/v1/sources/HRIS/rotate-token", json={"overlap_minutes": 0}, headers=writer)
    unknown = await api.post("/api/v1/sources/nobody/sync", headers=writer)
    code, shown, _ = await enlist(service, "provisioning", "source", "list", "--json")

    assert added.status_code == 201, added.text
    assert set(added.json()) == {"name", "base_url", "token"}
    assert added.headers["cache-control"] == "no-store"
    assert twice.status_code in (400, 409), twice.text
    assert_error_shape(twice, twice.status_code)
    assert_error_shape(bad_kind, 400)
    assert "--client-secret" in assert_error_shape(bad_graph, 400)["message"]
    assert tested.json()["ok"] is True, tested.json()
    assert synced.status_code == 202, synced.text
    assert result["status"] == "done"
    assert result["result"]["read"] is False
    assert rotated.json()["token"] != added.json()["token"]
    assert_error_shape(unknown, 404)
    assert code == 0
    assert [s["name"] for s in json.loads(shown)] == ["HRIS"]


@pytest.mark.parametrize("fmt", ["csv", "json"])
async def test_the_provisioning_log_exports_as_the_cli_writes_it_and_notify_answers_the_cli_s_way(
    service: Service, api: httpx2.AsyncClient, fmt: str
) -> None:
    writer = await token(service, "ci", "write")
    assert (await api.post("/api/v1/apps", json={"name": "HR"}, headers=writer)).status_code == 201
    async with service.db.write() as conn:
        app = await app_store.get_app(conn, "HR")
        records = [
            LogRecord("c1", "user", f"id{i}", f"u{i}@contoso.com", now() - timedelta(minutes=i), "create")
            for i in range(3)
        ]
        records[1].fail("SystemForCrossDomainIdentityManagementBadRequest", "refused", "fix it")
        await log_store.write(conn, app.id, records)

    every = await api.get(f"/api/v1/apps/HR/logs/export?format={fmt}", headers=writer)
    failures = await api.get(f"/api/v1/apps/HR/logs/export?format={fmt}&status=failure", headers=writer)
    two = await api.get(f"/api/v1/apps/HR/logs/export?format={fmt}&limit=2", headers=writer)
    cli_every = (await enlist(service, "provisioning", "logs", "HR", "--format", fmt))[1]
    cli_failures = (
        await enlist(service, "provisioning", "logs", "HR", "--format", fmt, "--status", "failure")
    )[1]
    cli_two = (await enlist(service, "provisioning", "logs", "HR", "--format", fmt, "--limit", "2"))[1]
    nowhere = await api.post("/api/v1/apps/HR/notify/test", headers=writer)
    sent = await api.post("/api/v1/notifications/send", headers=writer)
    unknown = await api.get("/api/v1/apps/nobody/logs/export", headers=writer)

    newline = "" if fmt == "csv" else "\n"  # click.echo adds one after JSON
    assert (every.text + newline, failures.text + newline, two.text + newline) == (
        cli_every,
        cli_failures,
        cli_two,
    )
    assert every.text != two.text != failures.text
    assert "nowhere to send" in assert_error_shape(nowhere, 400)["message"]
    assert sent.json() == {"deliveries": []}
    assert_error_shape(unknown, 404)


async def test_an_application_is_not_deleted_while_a_cycle_holds_it_and_the_cli_deletes_it_the_same_way(
    service: Service, api: httpx2.AsyncClient
) -> None:
    writer = await token(service, "ci", "write")
    assert (await api.post("/api/v1/apps", json={"name": "HR"}, headers=writer)).status_code == 201
    async with service.db.read() as conn:
        app = await app_store.get_app(conn, "HR")
    cycle = owner_id()
    assert await claim(service, app, cycle)

    busy = await api.delete("/api/v1/apps/HR", headers=writer)
    await release(service, app, cycle)
    code, out, err = await enlist(service, "provisioning", "app", "delete", "HR", "--yes")

    assert assert_error_shape(busy, 409)["code"] == "CycleBusy"
    assert (code, out) == (0, "deleted HR\n"), err
    async with service.db.read() as conn:
        assert await app_store.list_apps(conn) == []
