"""The provisioning API's application writes, over real HTTP with API tokens, on both databases:
each calls the operation the CLI calls, a bad request gets the one error shape and changes
nothing, and a read token cannot write."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2
import orjson
import sqlalchemy as sa
from starlette.routing import Route

from enlist.api_tokens.door import SCOPE_ATTRIBUTE
from enlist.lms.api.runtime import Portal
from enlist.provisioning.api.app import create_app
from enlist.provisioning.directory.importer import import_directory, parse_directory_json
from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations as source_operations
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store.tables import applications as apps_table
from tests.helpers import make_tenant
from tests.integration.api.http import assert_error_shape, token
from tests.live import portal_on_loopback


async def stored_apps(service: Service) -> list[dict[str, Any]]:
    """Every application row, as stored (what "nothing changed" is checked against)."""
    async with service.db.read() as conn:
        rows = (await conn.execute(sa.select(apps_table).order_by(apps_table.c.id))).mappings().all()
    return [dict(r) for r in rows]


def walked_writes(service: Service) -> list[tuple[str, str]]:
    app = create_app(service.settings, scheduler=False, service=service)
    found = [
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith("/api/")
        if getattr(route.endpoint, SCOPE_ATTRIBUTE, None) == "write"
        for method in sorted((route.methods or set()) - {"HEAD"})
    ]
    assert len(found) >= 8, found
    return found


async def test_an_application_is_created_connected_started_and_synced_with_a_status_url(
    service: Service, portal: Portal, api: httpx2.AsyncClient
) -> None:
    writer = await token(service, "ci", "write")
    async with portal_on_loopback(portal) as portal_url, httpx2.AsyncClient(base_url=portal_url) as http:
        tenant = await make_tenant(portal, http)
        tenant_url = f"{portal_url}/scim/v2/{tenant.tenant.slug}"

        created = await api.post("/api/v1/apps", json={"name": "HR"}, headers=writer)
        twice = await api.post("/api/v1/apps", json={"name": "HR"}, headers=writer)
        refused = await api.post(
            "/api/v1/apps/HR/connect",
            json={"tenant_url": tenant_url, "secret_token": "wrong"},
            headers=writer,
        )
        after_refusal = await stored_apps(service)
        connected = await api.post(
            "/api/v1/apps/HR/connect",
            json={"tenant_url": tenant_url, "secret_token": tenant.token},
            headers=writer,
        )
        tested = await api.post("/api/v1/apps/HR/test-connection", headers=writer)
        changed = await api.patch("/api/v1/apps/HR/settings", json={"interval_minutes": "15"}, headers=writer)
        paused = await api.post("/api/v1/apps/HR/pause", headers=writer)
        paused_sync = await api.post("/api/v1/apps/HR/sync", headers=writer)
        started = await api.post("/api/v1/apps/HR/start", headers=writer)
        restarted = await api.post("/api/v1/apps/HR/restart", headers=writer)
        nobody = await api.post(
            "/api/v1/apps/HR/provision-on-demand", json={"user": "no@x.test"}, headers=writer
        )
        accepted = await api.post("/api/v1/apps/HR/sync", headers=writer)
        status: dict[str, Any] = {"status": "running"}
        for _ in range(600):
            status = (await api.get(accepted.headers["location"], headers=writer)).json()
            if status["status"] != "running":
                break
            await asyncio.sleep(0.05)

    assert created.status_code == 201, created.text
    assert created.json()["state"] == "not_configured"
    assert_error_shape(twice, 409)
    assert_error_shape(refused, 422)
    assert [a["tenant_url"] for a in after_refusal] == [None]
    assert connected.json()["ok"] is True
    assert tested.json()["ok"] is True
    assert changed.json()["interval_minutes"] == 15.0
    assert paused.json() == {"state": "paused"}
    assert assert_error_shape(paused_sync, 409)["code"] == "AppPaused"
    assert started.json() == {"state": "active"}
    assert restarted.status_code == 200, restarted.text
    assert assert_error_shape(nobody, 404)["message"] == "no user 'no@x.test' in the directory"
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["status_url"] == accepted.headers["location"]
    assert status["status"] == "done", status
    assert status["result"]["status"] == "succeeded", status
    [stored] = await stored_apps(service)
    assert stored["tenant_url"] == tenant_url
    assert stored["state"] == "active"
    assert stored["settings"]["interval_minutes"] == 15.0


async def test_every_write_route_answers_a_bad_body_with_the_error_shape_and_changes_nothing(
    service: Service, api: httpx2.AsyncClient
) -> None:
    writer = await token(service, "ci", "write")
    assert (await api.post("/api/v1/apps", json={"name": "Portal"}, headers=writer)).status_code == 201
    before = await stored_apps(service)

    for method, path in walked_writes(service):
        concrete = path.replace("{name}", "Portal").replace("{object}", "user").replace("{target}", "title")
        for body in (b"{not json", b"[1, 2]"):
            answer = await api.request(method, concrete, content=body, headers=writer)
            assert_error_shape(answer, 400)
        if path.startswith("/api/v1/apps/{name}") and path != "/api/v1/apps/{name}/document":  # PUT creates
            elsewhere = concrete.replace("/Portal", "/Nobody")
            unknown = await api.request(method, elsewhere, json={}, headers=writer)
            assert assert_error_shape(unknown, 404)["code"] == "UnknownApp", path

    assert await stored_apps(service) == before


async def test_a_read_token_gets_403_on_every_write_route_and_changes_nothing(
    service: Service, api: httpx2.AsyncClient
) -> None:
    writer, reader = await token(service, "ci", "write"), await token(service, "dashboard", "read")
    assert (await api.post("/api/v1/apps", json={"name": "Portal"}, headers=writer)).status_code == 201
    before = await stored_apps(service)

    for method, path in walked_writes(service):
        concrete = path.replace("{name}", "Portal").replace("{object}", "user").replace("{target}", "title")
        answer = await api.request(method, concrete, json={"name": "X"}, headers=reader)
        assert answer.status_code == 403, (method, path, answer.text)

    assert await stored_apps(service) == before


async def test_assignments_mappings_and_scoping_are_written_as_the_cli_writes_them(
    service: Service, api: httpx2.AsyncClient
) -> None:
    writer = await token(service, "ci", "write")
    data = parse_directory_json(
        orjson.dumps(
            {
                "users": [
                    {"userPrincipalName": "ada@contoso.com", "displayName": "Ada", "accountEnabled": True}
                ],
                "groups": [{"displayName": "Staff", "members": []}],
            }
        ).decode()
    )
    async with service.db.write() as conn:
        await import_directory(conn, data, replace=False)
    assert (await api.post("/api/v1/apps", json={"name": "HR"}, headers=writer)).status_code == 201
    clause = {"attribute": "department", "operator": "EQUALS", "value": "Ops"}
    scoping = [{"title": "Ops only", "clauses": [clause]}]

    assigned = await api.post(
        "/api/v1/apps/HR/assign", json={"users": ["ada@contoso.com"], "groups": ["Staff"]}, headers=writer
    )
    unknown = await api.post("/api/v1/apps/HR/assign", json={"users": ["ghost@contoso.com"]}, headers=writer)
    mapped = await api.put(
        "/api/v1/apps/HR/mappings/user/title", json={"kind": "constant", "source": "Staff"}, headers=writer
    )
    bad_expression = await api.put(
        "/api/v1/apps/HR/mappings/user/nickName",
        json={"kind": "expression", "source": "Join("},
        headers=writer,
    )
    unmapped = await api.delete("/api/v1/apps/HR/mappings/user/title", headers=writer)
    remapped = await api.put(
        "/api/v1/apps/HR/mappings/user/title", json={"kind": "direct", "source": "jobTitle"}, headers=writer
    )
    scoped = await api.put("/api/v1/apps/HR/scoping", json={"filters": scoping}, headers=writer)
    unassigned = await api.post("/api/v1/apps/HR/unassign", json={"groups": ["Staff"]}, headers=writer)

    assert assigned.json() == {"users": 1, "groups": 1}
    assert assert_error_shape(unknown, 404)["message"] == "no user 'ghost@contoso.com' in the directory"
    assert mapped.status_code == 200, mapped.text
    assert_error_shape(bad_expression, 400)
    assert unmapped.status_code == 200, unmapped.text
    assert remapped.status_code == 200, remapped.text
    assert scoped.json() == {"filters": scoping}
    assert unassigned.json() == {"users": 0, "groups": 1}
    async with service.db.read() as conn:
        app = await app_store.get_app(conn, "HR")
        users = await app_store.assigned_ids(conn, app.id, "user")
        groups = await app_store.assigned_ids(conn, app.id, "group")
    title = [row for row in app.user_mapping["attributes"] if row["target"] == "title"]
    assert (len(users), len(groups)) == (1, 0)
    assert [r["source"] for r in title] == ["jobTitle"], title
    assert app.scoping == scoping
    assert not [r for r in app.user_mapping["attributes"] if r["target"] == "nickName"]


async def test_a_source_is_set_paused_resumed_and_removed_as_the_cli_does(
    service: Service, api: httpx2.AsyncClient
) -> None:
    writer = await token(service, "ci", "write")
    settings = source_operations.graph_settings(
        "contoso.onmicrosoft.com", "client", source_operations.GRAPH_URL, source_operations.LOGIN_URL
    )
    await source_operations.add(service, "Entra", "graph", settings, {"client_secret": "s3cret"})

    paused = await api.post("/api/v1/sources/Entra/pause", headers=writer)
    resumed = await api.post("/api/v1/sources/Entra/resume", headers=writer)
    changed = await api.patch(
        "/api/v1/sources/Entra/settings", json={"interval_minutes": "30"}, headers=writer
    )
    before = (await source_operations.get(service, "Entra")).to_json()
    refused = await api.patch(
        "/api/v1/sources/Entra/settings", json={"interval_minutes": "soon"}, headers=writer
    )
    after = (await source_operations.get(service, "Entra")).to_json()
    removed = await api.delete("/api/v1/sources/Entra", headers=writer)
    gone = await api.post("/api/v1/sources/Entra/pause", headers=writer)

    assert paused.json() == {"state": "paused"}
    assert resumed.json() == {"state": "active"}
    assert changed.status_code == 200, changed.text
    assert before["interval_minutes"] == 30
    assert_error_shape(refused, 400)
    assert after == before
    assert removed.json() == {"handed_over": 0}
    assert_error_shape(gone, 404)
    assert await source_operations.list_all(service) == []
