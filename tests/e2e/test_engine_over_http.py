"""The engine provisions into the portal over real HTTP on loopback, in both dialects.

The portal runs as its own process (`enlist lms serve`), its tenant is made through its CLI as
an admin would, and the application is connected with the Tenant URL and Secret token the CLI
printed; cycles run through `run_cycle` with no transport override, so every request crosses a
socket. An initial cycle, then incremental cycles that change, disable, rename, move between
groups, unassign and delete; after each, the portal's state (read over HTTP) matches the
directory exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import orjson
import pytest

from enlist.provisioning.directory import lifecycle
from enlist.provisioning.directory import store as directory
from enlist.provisioning.directory.importer import import_directory, parse_directory_json
from enlist.provisioning.engine.runner import run_cycle
from enlist.provisioning.engine.summary import CycleSummary
from enlist.provisioning.mapping.mappings import default_group_mapping, default_user_mapping, mapping_to_json
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store.apps import App
from tests.e2e.scenario_helpers import (
    ADA,
    BOB,
    CEO,
    EVE,
    TargetState,
    assert_clean,
    base,
    expected_groups,
    expected_users,
    group_of,
    read_target,
    user_of,
)
from tests.live import LivePortal

APP = "Learning portal"


@pytest.fixture
def live_portal(tmp_path: Path, database_kind: str) -> Iterator[LivePortal]:
    if database_kind != "sqlite":
        pytest.skip("the portal over HTTP runs once, on SQLite")
    live = LivePortal(tmp_path / "portal", None).start()
    try:
        yield live
    finally:
        live.stop()


async def load(service: Service, data: dict[str, Any]) -> None:
    parsed = parse_directory_json(orjson.dumps(data).decode())
    async with service.db.write() as conn:
        await import_directory(conn, parsed, replace=False)


async def group_ids(service: Service, *names: str) -> list[str]:
    async with service.db.read() as conn:
        groups = [await directory.get_group_by_name(conn, n) for n in names]
    assert all(groups), names
    return [g.id for g in groups if g is not None]


async def set_assignment(service: Service, assign: bool, *names: str) -> None:
    ids = await group_ids(service, *names)
    async with service.db.write() as conn:
        app = await app_store.get_app(conn, APP)
        await (app_store.assign if assign else app_store.unassign)(conn, app, "group", ids)


async def connected_app(service: Service, tenant_url: str, token: str, dialect: str) -> None:
    async with service.db.write() as conn:
        app = await app_store.create_app(
            conn, APP, mapping_to_json(default_user_mapping()), mapping_to_json(default_group_mapping())
        )
        await app_store.connect(conn, app, tenant_url, service.secrets.seal(token))
        await app_store.update_app(conn, app.id, settings={**app.settings.to_json(), "dialect": dialect})
        await app_store.start(conn, await app_store.get_app(conn, APP))


async def cycle(service: Service) -> CycleSummary:
    async with service.db.read() as conn:
        app: App = await app_store.get_app(conn, APP)
    summary = await run_cycle(service, app)
    assert_clean(summary)
    return summary


async def portal_over_http(tenant_url: str, token: str) -> TargetState:
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        return await read_target(http, tenant_url)


@pytest.mark.slow
@pytest.mark.parametrize("dialect", ["rfc", "entra"])
async def test_engine_provisions_the_portal_over_http(
    live_portal: LivePortal, service: Service, dialect: str
) -> None:
    tenant_url, token = live_portal.tenant("acme")
    assert tenant_url.startswith(live_portal.url)
    data = base()
    await load(service, data)
    await connected_app(service, tenant_url, token, dialect)
    groups: tuple[str, ...] = ("Leadership", "Engineering", "Sales", "Auditors")
    await set_assignment(service, True, *groups)

    # Initial cycle: four users (Dan is only in the nested Design group), four groups.
    summary = await cycle(service)
    assert summary.kind == "initial"
    assert summary.counts["created"] == 8
    active = {CEO, ADA, BOB, EVE}
    first = await portal_over_http(tenant_url, token)
    assert first.users == expected_users(data, active)
    assert first.groups == expected_groups(data, groups, active)
    assert first.users[ADA]["manager"] == CEO

    # Incremental: a change, a disable, a rename, a move between groups.
    user_of(data, ADA)["jobTitle"] = "Principal engineer"
    user_of(data, BOB)["accountEnabled"] = False
    engineering = group_of(data, "Engineering")
    engineering.update(id=(await group_ids(service, "Engineering"))[0], displayName="Platform Engineering")
    group_of(data, "Auditors")["members"] = []
    group_of(data, "Sales")["members"] = [BOB, EVE]
    await load(service, data)
    summary = await cycle(service)
    assert summary.kind == "incremental"
    assert summary.counts["created"] == 0
    assert summary.counts["disabled"] == 1
    groups = ("Leadership", "Platform Engineering", "Sales", "Auditors")
    active = {CEO, ADA, EVE}
    second = await portal_over_http(tenant_url, token)
    assert second.users == expected_users(data, active, {BOB})
    assert second.groups == expected_groups(data, groups, active)
    assert second.group_ids["Platform Engineering"] == first.group_ids["Engineering"]
    assert second.user_ids == first.user_ids

    # Incremental: an unassigned group is deleted (Eve keeps Sales), a hard delete is a DELETE.
    await set_assignment(service, False, "Auditors")
    async with service.db.write() as conn:
        await lifecycle.hard_delete_user(conn, (await directory.get_user_by_upn(conn, BOB)).id)  # type: ignore[union-attr]
    summary = await cycle(service)
    assert summary.counts["deleted"] == 2
    assert summary.counts["disabled"] == 0
    groups = ("Leadership", "Platform Engineering", "Sales")
    third = await portal_over_http(tenant_url, token)
    assert third.users == expected_users(data, active)
    assert third.groups == expected_groups(data, groups, active)
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http:
        gone_user = await http.get(f"{tenant_url}/Users/{first.user_ids[BOB]}")
        gone_group = await http.get(f"{tenant_url}/Groups/{first.group_ids['Auditors']}")
    assert (gone_user.status_code, gone_group.status_code) == (404, 404)

    # Nothing changed: nothing is sent.
    summary = await cycle(service)
    assert summary.counts == dict.fromkeys(summary.counts, 0)
