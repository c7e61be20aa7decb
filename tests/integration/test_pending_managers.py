"""Managers that are not (yet) users of the tenant (ADR 0011).

By default a manager must be a user of the tenant (ADR 0007): anything else refuses the whole
user. With `unknown_managers=keep`, Okta's and OneLogin's mapped IdP manager id is stored
pending, shown in SCIM as it was sent (no `$ref`), and resolved as soon as a user arrives whose
id or externalId it is, whichever of the two arrives first.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
import sqlalchemy as sa

from enlist.lms.api.runtime import Portal
from enlist.lms.store.tables import sync_log
from tests.helpers import ENTERPRISE, USER, ScimTenant, make_tenant
from tests.integration.test_policies import set_policy

OKTA_MANAGER_ID = "00u1a2b3c4MANAGER"


def okta_user(user_name: str, external_id: str, manager: str | None = None) -> dict[str, Any]:
    """An Okta POST /Users (okta-and-ldap.md §1.2) with the manager mapped to the Okta id."""
    body: dict[str, Any] = {
        "schemas": [USER, ENTERPRISE],
        "userName": user_name,
        "externalId": external_id,
        "name": {"givenName": "A", "familyName": "B"},
        "emails": [{"primary": True, "value": user_name, "type": "work"}],
        "active": True,
        "groups": [],
        "password": "placeholder-1!",
    }
    if manager is not None:
        body[ENTERPRISE] = {"manager": {"value": manager}}
    return body


async def manager_of(t: ScimTenant, user_id: str) -> dict[str, Any] | None:
    response = await t.get(f"/Users/{user_id}")
    assert response.status_code == 200, response.text
    return response.json().get(ENTERPRISE, {}).get("manager")


async def keeping(portal: Portal, http: httpx2.AsyncClient) -> ScimTenant:
    t = await make_tenant(portal, http)
    await set_policy(portal, t, unknown_managers="keep")
    return t


async def test_by_default_an_unknown_manager_refuses_the_user(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    response = await t.post("/Users", okta_user("r@acme.example", "00uREPORT", OKTA_MANAGER_ID))
    assert response.status_code == 400
    assert "unknown_managers=keep" in response.json()["detail"]
    assert await t.find_user("r@acme.example") is None


async def test_a_kept_manager_arriving_after_the_report_resolves_the_pending_reference(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await keeping(portal, http)
    report = await t.post("/Users", okta_user("r@acme.example", "00uREPORT", OKTA_MANAGER_ID))
    assert report.status_code == 201, report.text
    rid = report.json()["id"]
    assert report.json()[ENTERPRISE]["manager"] == {"value": OKTA_MANAGER_ID}
    assert await manager_of(t, rid) == {"value": OKTA_MANAGER_ID}
    version = (await t.get(f"/Users/{rid}")).headers["etag"]
    boss = await t.post("/Users", okta_user("boss@acme.example", OKTA_MANAGER_ID))
    assert boss.status_code == 201, boss.text
    bid = boss.json()["id"]
    resolved = await manager_of(t, rid) or {}
    assert resolved["value"] == bid
    assert resolved["$ref"].endswith(f"/Users/{bid}")
    assert (await t.get(f"/Users/{rid}")).headers["etag"] != version
    async with portal.db.read() as conn:
        logged = (
            await conn.execute(
                sa.select(sync_log.c.action, sync_log.c.changes).where(sync_log.c.resource_id == rid)
            )
        ).all()
    assert ("resolve manager", [{"attribute": "manager", "old": OKTA_MANAGER_ID, "new": bid}]) in [
        tuple(row) for row in logged
    ]
    found = await t.get(
        "/Users",
        filter=f'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "{bid}"',
    )
    assert [u["id"] for u in found.json()["Resources"]] == [rid]


async def test_a_kept_manager_arriving_before_the_report_resolves_by_external_id_at_once(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await keeping(portal, http)
    boss = await t.post("/Users", okta_user("boss@acme.example", OKTA_MANAGER_ID))
    bid = boss.json()["id"]
    report = await t.post("/Users", okta_user("r@acme.example", "00uREPORT", OKTA_MANAGER_ID))
    assert report.status_code == 201, report.text
    assert report.json()[ENTERPRISE]["manager"]["value"] == bid
    assert "$ref" in report.json()[ENTERPRISE]["manager"]


@pytest.mark.parametrize("style", ["okta catalog PATCH", "okta custom app PUT", "onelogin PUT"])
async def test_a_pending_manager_survives_later_updates_and_resolves_when_the_manager_arrives(
    portal: Portal, http: httpx2.AsyncClient, style: str
) -> None:
    t = await keeping(portal, http)
    rid = (await t.post("/Users", okta_user("r@acme.example", "00uREPORT", OKTA_MANAGER_ID))).json()["id"]
    if style == "okta catalog PATCH":
        r = await t.patch(
            f"/Users/{rid}", [{"op": "replace", "value": {"id": rid, "displayName": "Renamed"}}]
        )
    else:
        current = (await t.get(f"/Users/{rid}")).json()
        r = await t.put(f"/Users/{rid}", {**current, "displayName": "Renamed"})
    assert r.status_code == 200, r.text
    assert await manager_of(t, rid) == {"value": OKTA_MANAGER_ID}
    bid = (await t.post("/Users", okta_user("boss@acme.example", OKTA_MANAGER_ID))).json()["id"]
    assert (await manager_of(t, rid) or {}).get("value") == bid
    assert (await t.get(f"/Users/{rid}")).json()["displayName"] == "Renamed"


async def test_a_kept_reference_never_makes_a_user_their_own_manager(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await keeping(portal, http)
    me = await t.post("/Users", okta_user("me@acme.example", OKTA_MANAGER_ID, OKTA_MANAGER_ID))
    assert me.status_code == 201, me.text
    assert await manager_of(t, me.json()["id"]) == {"value": OKTA_MANAGER_ID}
