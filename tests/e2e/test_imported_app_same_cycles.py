"""Configuration as code, "done when": an application exported from one provisioning service
and imported into an empty one gives the same cycle results against the same target.

The target is the portal over real HTTP on one loopback address. The original application
provisions into a fresh portal there; then a second, fresh portal takes the same address and the
imported copy, in an empty provisioning service with the same directory, provisions into it.
Both runs go through an initial cycle and an incremental one after the same directory change.
After each, the portals hold the same users and groups (ids aside) and the provisioning logs
record the same actions on the same objects.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa
import uvicorn

from enlist.db.database import Database
from enlist.document_shape import dump, load
from enlist.lms.api.app import create_app
from enlist.lms.api.runtime import MIGRATIONS, VERSION_TABLE, Portal
from enlist.lms.secrets import load_peppers
from enlist.lms.store import tenants as tenant_store
from enlist.provisioning import operations
from enlist.provisioning.config_doc.document import read_document
from enlist.provisioning.config_doc.operations import export_app, import_app
from enlist.provisioning.directory import store as directory
from enlist.provisioning.engine.runner import run_cycle
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store.tables import provisioning_log
from enlist.settings import Settings
from tests.databases import Templates
from tests.integration.config.conftest import DIRECTORY, DOMAIN, empty_service, load_directory
from tests.live import free_port

__all__ = ["empty_service"]  # the fixture, used here too
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
NAME = "Learning portal"


@contextlib.asynccontextmanager
async def serve_at(portal: Portal, port: int) -> AsyncIterator[str]:
    """`portal` over real HTTP at 127.0.0.1:`port`, in this event loop, until the block ends."""
    config = uvicorn.Config(
        create_app(portal.settings, portal), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started or serving.done():
                break
            await asyncio.sleep(0.05)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def new_tenant(portal: Portal) -> str:
    async with portal.db.write() as conn:
        tenant = await tenant_store.create_tenant(conn, "acme")
        return await tenant_store.add_token(conn, tenant, portal.peppers.current)


async def target_state(base_url: str, token: str) -> dict[str, Any]:
    """The portal's users and groups as its SCIM endpoint shows them, server ids replaced by
    userNames (ids differ between two portals; what they identify must not)."""
    async with httpx2.AsyncClient(
        base_url=f"{base_url}/scim/v2/acme", headers={"Authorization": f"Bearer {token}"}
    ) as http:
        users = (await http.get("/Users", params={"count": 1000})).json()["Resources"]
        groups = (await http.get("/Groups", params={"count": 1000})).json()["Resources"]
    names = {u["id"]: u["userName"] for u in users}
    state: dict[str, Any] = {"users": {}, "groups": {}}
    for user in users:
        kept = {k: v for k, v in user.items() if k not in ("id", "meta")}
        manager = kept.get(ENTERPRISE, {}).get("manager")
        if manager:
            kept[ENTERPRISE] = {**kept[ENTERPRISE], "manager": names[manager["value"]]}
        if "groups" in kept:
            kept["groups"] = sorted(g["display"] for g in kept["groups"])
        state["users"][user["userName"]] = kept
    for group in groups:
        state["groups"][group["displayName"]] = sorted(names[m["value"]] for m in group.get("members", []))
    return state


async def log_actions(service: Service) -> list[tuple[str, str, str, str]]:
    """(object kind, source name, action, status) of every provisioning log record, sorted."""
    p = provisioning_log.c
    async with service.db.read() as conn:
        rows = await conn.execute(sa.select(p.object_kind, p.source_name, p.action, p.status))
        return sorted((r[0], r[1] or "", r[2], r[3]) for r in rows)


async def cycles(service: Service, base_url: str, token: str) -> list[Any]:
    """An initial cycle, the same directory change in every run, an incremental cycle: the
    counts of each, the target after each, and the provisioning log's actions."""
    results: list[Any] = []
    changed = copy.deepcopy(DIRECTORY)
    changed["users"][1]["jobTitle"] = "Principal engineer"
    changed["users"][4]["accountEnabled"] = False
    changed["groups"][0]["members"].remove(f"cleo@{DOMAIN}")
    for step in range(2):
        if step:
            await load_directory(service, changed)
        async with service.db.read() as conn:
            app = await app_store.get_app(conn, NAME)
        summary = await run_cycle(service, app)
        counts = dict(summary.counts)
        results.append((summary.kind, summary.status, counts, await target_state(base_url, token)))
    results.append(await log_actions(service))
    return results


async def configure_original(service: Service, tenant_url: str, token: str) -> None:
    await load_directory(service)
    app = await operations.create(service, NAME)
    async with service.db.write() as conn:
        await app_store.connect(conn, app, tenant_url, service.secrets.seal(token))
    await operations.save_settings(service, app, {"interval_minutes": "15", "provision_groups": "true"})
    await operations.set_scoping(
        service,
        app,
        [
            {
                "title": "Not audit",
                "clauses": [{"attribute": "department", "operator": "NOT EQUALS", "value": "Audit"}],
            }
        ],
    )
    await operations.map_attribute(
        service, app, "user", "nickName", "expression", 'Join(".", [givenName], [surname])',
        on_create=False, matching=None, default=None,
    )  # fmt: skip
    async with service.db.write() as conn:
        engineering = await directory.get_group_by_name(conn, "Engineering")
        auditors = await directory.get_group_by_name(conn, "Auditors")
        bob = await directory.get_user_by_upn(conn, f"bob@{DOMAIN}")
        assert engineering
        assert auditors
        assert bob
        await app_store.assign(conn, app, "group", [engineering.id, auditors.id])
        await app_store.assign(conn, app, "user", [bob.id])
    await operations.change_state(service, app, "start")


async def second_portal(
    settings: Settings, database_kind: str, templates: Templates, tmp_path: Path
) -> Portal:
    folder = tmp_path / "second-portal"
    folder.mkdir()
    url = await templates.fresh(database_kind, MIGRATIONS, VERSION_TABLE, folder)
    configured = settings.model_copy(update={"lms_database_url": url})
    return Portal(configured, Database(configured.lms_url()), load_peppers(configured))


@pytest.mark.parametrize("fmt", ["yaml", "json"])
async def test_an_imported_application_gives_the_same_cycle_results_against_the_same_target(
    portal: Portal,
    service: Service,
    empty_service: Service,
    settings: Settings,
    database_kind: str,
    templates: Templates,
    tmp_path: Path,
    fmt: str,
) -> None:
    port = free_port()
    tenant_url = f"http://127.0.0.1:{port}/scim/v2/acme"
    first_token = await new_tenant(portal)
    async with serve_at(portal, port) as base_url:
        await configure_original(service, tenant_url, first_token)
        original = await cycles(service, base_url, first_token)
    text = dump((await export_app(service, NAME)).to_data(), fmt)  # type: ignore[arg-type]

    fresh = await second_portal(settings, database_kind, templates, tmp_path)
    try:
        second_token = await new_tenant(fresh)
        async with serve_at(fresh, port) as base_url:
            assert (await target_state(base_url, second_token)) == {"users": {}, "groups": {}}
            await load_directory(empty_service)
            await import_app(empty_service, read_document(load(text)), secret_token=second_token)
            copied = await cycles(empty_service, base_url, second_token)
    finally:
        await fresh.db.dispose()

    assert copied == original
    (initial_kind, initial_status, initial_counts, initial_state), incremental, _log = original
    assert (initial_kind, initial_status) == ("initial", "succeeded")
    # The scoping filter, the assignments and the expression mapping all took part:
    assert set(initial_state["users"]) == {f"{n}@{DOMAIN}" for n in ("cleo", "ada", "dan", "bob")}
    assert initial_state["users"][f"ada@{DOMAIN}"]["nickName"] == "Ada.Moss"
    assert initial_state["groups"] == {
        "Engineering": sorted(f"{n}@{DOMAIN}" for n in ("ada", "cleo", "dan")),
        "Auditors": [],
    }
    assert initial_counts["created"] == 6
    assert incremental[0] == "incremental"
    assert incremental[2]["updated"] >= 1
