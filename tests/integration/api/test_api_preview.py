"""`POST /api/v1/apps/{name}/preview` over real HTTP, on both databases: it answers what the CLI's
`app preview --json` prints, its counts are those of the cycle that follows, and neither the
portal's users nor the stored application change."""

from __future__ import annotations

import httpx2
import orjson

from enlist.lms.api.runtime import Portal
from enlist.provisioning.directory.importer import import_directory, parse_directory_json
from enlist.provisioning.engine.runner import run_cycle
from enlist.provisioning.engine.summary import COUNTS
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from tests.helpers import make_tenant
from tests.integration.api.http import assert_error_shape, token
from tests.integration.api.test_api_writes import stored_apps
from tests.live import portal_on_loopback

PEOPLE = {
    "users": [{"userPrincipalName": f"p{i}@x.test", "displayName": f"P {i}"} for i in range(3)],
    "groups": [{"displayName": "Staff", "members": [f"p{i}@x.test" for i in range(3)]}],
}


async def test_the_preview_route_plans_the_next_cycle_and_sends_nothing(
    service: Service, portal: Portal, api: httpx2.AsyncClient
) -> None:
    writer = await token(service, "ci", "write")
    reader = await token(service, "eyes", "read")
    async with service.db.write() as conn:
        await import_directory(conn, parse_directory_json(orjson.dumps(PEOPLE).decode()), replace=False)
    async with portal_on_loopback(portal) as portal_url, httpx2.AsyncClient(base_url=portal_url) as http:
        tenant = await make_tenant(portal, http)
        await api.post("/api/v1/apps", json={"name": "HR"}, headers=writer)
        unconnected = await api.post("/api/v1/apps/HR/preview", headers=writer)
        await api.post(
            "/api/v1/apps/HR/connect",
            json={"tenant_url": f"{portal_url}/scim/v2/{tenant.tenant.slug}", "secret_token": tenant.token},
            headers=writer,
        )
        await api.post("/api/v1/apps/HR/assign", json={"groups": ["Staff"]}, headers=writer)
        await api.post("/api/v1/apps/HR/start", headers=writer)
        before = await stored_apps(service)
        scim = {"Authorization": f"Bearer {tenant.token}"}
        users_before = (await http.get(f"/scim/v2/{tenant.tenant.slug}/Users", headers=scim)).json()
        bad = await api.post("/api/v1/apps/HR/preview", json={"initial": "yes"}, headers=writer)
        refused = await api.post("/api/v1/apps/HR/preview", headers=reader)
        planned = await api.post("/api/v1/apps/HR/preview", json={"initial": True}, headers=writer)
        users_after = (await http.get(f"/scim/v2/{tenant.tenant.slug}/Users", headers=scim)).json()
        after = await stored_apps(service)
        async with service.db.read() as conn:
            app = await app_store.get_app(conn, "HR")
        summary = await run_cycle(service, app)

    assert assert_error_shape(unconnected, 409)["code"] == "NotConnected"
    assert_error_shape(bad, 400)
    assert refused.status_code == 403
    assert planned.status_code == 200, planned.text
    result = planned.json()
    assert result["reads_target"] is True
    assert result["created"] == 4  # three people and their group
    assert {k: result[k] for k in COUNTS} == {k: summary.counts[k] for k in COUNTS}
    assert users_after == users_before
    assert after == before
