"""Connect your application against the real portal (`enlist lms serve` on loopback): Test
connection shown in place, Create saving only what passed, a cycle run by the scheduler's own
pass, Provision on demand; and the Secret token never appears in a page once it was typed."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx2
import pytest

from enlist.db.leases import owner_id
from enlist.provisioning.directory.tables import dir_groups, dir_users
from enlist.provisioning.engine.scheduler import run_due
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from tests.live import LivePortal
from tests.web.conftest import Site
from tests.web.provisioning_fixtures import APP, APP_PATH, create_app, ids, load_directory, signed_in


@pytest.fixture(scope="module")
def live_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePortal]:
    live = LivePortal(tmp_path_factory.mktemp("portal"), None).start()
    yield live
    live.stop()


async def _all_pages(site: Site, users: dict[str, str]) -> list[str]:
    paths = [
        "/admin/apps",
        f"{APP_PATH}/overview",
        f"{APP_PATH}/overview/status",
        f"{APP_PATH}/users-and-groups",
        f"{APP_PATH}/users-and-groups/add",
        f"{APP_PATH}/provisioning",
        f"{APP_PATH}/logs",
        "/admin/directory/users",
        "/api/v1/apps",
        f"/api/v1/apps/{APP}",
        f"/api/v1/apps/{APP}/logs",
        f"{APP_PATH}/logs/download?format=json",
        *(f"/admin/directory/users/{i}" for i in users.values()),
    ]
    texts = []
    for path in paths:
        page = await site.client.get(path)
        assert page.status_code == 200, path
        texts.append(page.text)
    return texts


async def test_connect_test_start_and_the_token_never_shows_again(
    provisioning_site: Site, service: Service, live_portal: LivePortal
) -> None:
    site = provisioning_site
    tenant_url, token = live_portal.tenant(f"acme{id(site)}")
    csrf = await signed_in(site)
    await load_directory(site.db)
    await create_app(site, csrf)
    page = await site.client.get(f"{APP_PATH}/provisioning")
    assert "Connect your application" in page.text
    for label in ("Tenant URL", "Secret token", "Test connection", "Create"):
        assert label in page.text

    wrong = await site.client.post(
        f"{APP_PATH}/provisioning/test-connection",
        data={"csrf_token": csrf, "tenant_url": tenant_url, "secret_token": "not-the-token"},
        headers={"HX-Request": "true"},
    )
    assert "<html" not in wrong.text  # a fragment, shown in place
    assert "Testing connection failed" in wrong.text
    assert "refused the Secret token (401 Unauthorized)" in wrong.text
    refused = await site.client.post(
        f"{APP_PATH}/provisioning/connect",
        data={"csrf_token": csrf, "tenant_url": tenant_url, "secret_token": "not-the-token"},
    )
    assert refused.status_code == 400
    assert "Nothing was saved" in refused.text
    async with site.db.read() as conn:
        assert not (await app_store.get_app(conn, APP)).connected

    passed = await site.client.post(
        f"{APP_PATH}/provisioning/test-connection",
        data={"csrf_token": csrf, "tenant_url": tenant_url, "secret_token": token},
        headers={"HX-Request": "true"},
    )
    assert "the supplied credentials are authorized" in passed.text
    assert token not in passed.text
    created = await site.client.post(
        f"{APP_PATH}/provisioning/connect",
        data={"csrf_token": csrf, "tenant_url": tenant_url, "secret_token": token},
    )
    assert created.status_code == 303
    saved = await site.client.get(created.headers["location"])
    assert "Admin Credentials" in saved.text
    assert 'name="secret_token" type="password" autocomplete="new-password" value=""' in saved.text
    # An empty Secret token keeps the saved one: Test connection and Save still pass.
    kept = await site.client.post(
        f"{APP_PATH}/provisioning/connect",
        data={"csrf_token": csrf, "tenant_url": tenant_url, "secret_token": ""},
    )
    assert kept.status_code == 303

    groups = await ids(site.db, dir_groups, dir_groups.c.id, dir_groups.c.display_name)
    assigned = await site.client.post(
        f"{APP_PATH}/users-and-groups/assign",
        data={"csrf_token": csrf, "item": f"group:{groups['Sales team']}"},
    )
    assert assigned.status_code == 303
    started = await site.client.post(f"{APP_PATH}/start", data={"csrf_token": csrf})
    assert started.status_code == 303
    assert await run_due(service, owner_id()) == 1  # what the scheduler in `serve` does next

    overview = await site.client.get(f"{APP_PATH}/overview")
    assert "Initial cycle completed" in overview.text
    assert 'hx-trigger="every 2s"' not in overview.text  # nothing runs or is due: no polling
    assert "<svg" in overview.text
    logs = await site.client.get(f"{APP_PATH}/logs", params={"action": "create", "status": "success"})
    assert "user1@contoso.com" in logs.text
    assert "user3@contoso.com" in logs.text

    on_demand = await site.client.post(
        f"{APP_PATH}/provision-on-demand",
        data={"csrf_token": csrf, "upn": "user2@contoso.com"},
        headers={"HX-Request": "true"},
    )
    assert "user2@contoso.com" in on_demand.text
    assert "not assigned" in on_demand.text  # its scoping step says why it is skipped

    async with httpx2.AsyncClient() as http:
        listing = await http.get(f"{tenant_url}/Users", headers={"Authorization": f"Bearer {token}"})
    assert sorted(u["userName"] for u in listing.json()["Resources"]) == [
        "user1@contoso.com",
        "user3@contoso.com",
    ]

    users = await ids(site.db, dir_users, dir_users.c.id, dir_users.c.upn)
    texts = await _all_pages(site, users)
    for record_id in re.findall(rf"{APP_PATH}/logs/(\d+)", logs.text):
        for tab in ("steps", "troubleshooting", "modified", "summary"):
            texts.append((await site.client.get(f"{APP_PATH}/logs/{record_id}", params={"tab": tab})).text)
    assert len(texts) > 20
    assert not [t for t in texts if token in t]
