"""From SCIM pushes to the portal: Okta-shaped calls and an HR system's 5,000-user bulk upload
go over real HTTP on loopback into a push source, land in the directory, and an application
cycle carries them into the portal's real SCIM endpoint. Both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from enlist.lms.api.runtime import Portal
from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations as source_operations
from enlist.provisioning.sources.push import operations as push_operations
from tests.e2e.engine_harness import Harness, assign_groups, harness
from tests.integration.push.bulk_helpers import bulk, done, hr_user
from tests.integration.push.server import serve

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


@pytest.fixture
async def okta(service: Service) -> AsyncIterator[httpx2.AsyncClient]:
    """An Okta-like client of the push source `okta`, with Okta's headers."""
    async with serve(service) as served:
        added = await push_operations.add(served, "okta")
        headers = {
            "Authorization": f"Bearer {added['token']}",
            "Content-Type": "application/scim+json; charset=utf-8",
            "Accept": "application/scim+json",
            "User-Agent": "Okta SCIM Client 1.0.0",
        }
        async with httpx2.AsyncClient(base_url=added["base_url"], headers=headers, timeout=120) as client:
            client.service = served  # type: ignore[attr-defined]
            yield client


def okta_user(login: str, given: str, family: str, okta_id: str) -> dict[str, Any]:
    return {
        "schemas": [USER],
        "userName": login,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": True, "value": login, "type": "work"}],
        "displayName": f"{given} {family}",
        "locale": "en-US",
        "externalId": okta_id,
        "groups": [],
        "password": "placeholder!",
        "active": True,
    }


async def cycle(h: Harness) -> None:
    summary, _ = await h.sync("rfc")
    assert summary.status == "succeeded", summary
    assert summary.counts["failed"] == 0


async def all_portal_users(h: Harness) -> dict[str, dict[str, Any]]:
    users: dict[str, dict[str, Any]] = {}
    start = 1
    while True:
        page = await h.scim("/Users", startIndex=start, count=1000)
        users.update((u["userName"], u) for u in page["Resources"])
        start += len(page["Resources"])
        if not page["Resources"] or start > page["totalResults"]:
            return users


async def test_okta_put_based_pushes_reach_the_portal(portal: Portal, okta: httpx2.AsyncClient) -> None:
    service: Service = okta.service  # type: ignore[attr-defined]
    ids = {}
    for login, given, family, okta_id in (
        ("ann@contoso.com", "Ann", "Lee", "00u1"),
        ("bob@contoso.com", "Bob", "Stone", "00u2"),
        ("cy@contoso.com", "Cy", "Young", "00u3"),
    ):
        # How Okta assigns a user: look the userName up, then POST.
        found = await okta.get(
            "/Users", params={"filter": f'userName eq "{login}"', "startIndex": 1, "count": 100}
        )
        assert found.json()["totalResults"] == 0
        created = await okta.post("/Users", json=okta_user(login, given, family, okta_id))
        assert created.status_code == 201, created.text
        ids[login] = created.json()["id"]
    group = (
        await okta.post("/Groups", json={"schemas": [GROUP], "displayName": "Engineering", "members": []})
    ).json()
    members = [{"value": ids["ann@contoso.com"]}, {"value": ids["bob@contoso.com"]}]
    put = await okta.put(
        f"/Groups/{group['id']}", json={"schemas": [GROUP], "displayName": "Engineering", "members": members}
    )
    assert put.status_code == 200, put.text

    h = await harness(portal, service)
    await assign_groups(h, "Engineering")
    await cycle(h)
    users = await h.portal_users()
    assert {n for n, u in users.items() if u["active"]} == {"ann@contoso.com", "bob@contoso.com"}
    assert await h.portal_groups() == {"Engineering": {"ann@contoso.com", "bob@contoso.com"}}

    # A profile change: GET, then PUT the whole object back (id, meta, groups included).
    ann = (await okta.get(f"/Users/{ids['ann@contoso.com']}")).json()
    ann["name"]["familyName"] = "Lee-Smith"
    ann["displayName"] = "Ann Lee-Smith"
    assert (await okta.put(f"/Users/{ann['id']}", json=ann)).status_code == 200
    # A deactivation by an AIW app: PUT with active false.
    bob = (await okta.get(f"/Users/{ids['bob@contoso.com']}")).json()
    assert (await okta.put(f"/Users/{bob['id']}", json={**bob, "active": False})).status_code == 200
    # Group membership by PUT of every member.
    members = [{"value": ids[n]} for n in ("ann@contoso.com", "bob@contoso.com", "cy@contoso.com")]
    await okta.put(
        f"/Groups/{group['id']}", json={"schemas": [GROUP], "displayName": "Engineering", "members": members}
    )
    await cycle(h)
    users = await h.portal_users()
    assert users["ann@contoso.com"]["name"]["familyName"] == "Lee-Smith"
    assert users["ann@contoso.com"]["displayName"] == "Ann Lee-Smith"
    assert users["bob@contoso.com"]["active"] is False
    assert users["cy@contoso.com"]["active"] is True
    # A disabled user is out of scope (engine/scope.py): no group lists it.
    assert await h.portal_groups() == {"Engineering": {"ann@contoso.com", "cy@contoso.com"}}

    # Reactivation by PUT brings the same portal user back.
    portal_bob = users["bob@contoso.com"]["id"]
    assert (await okta.put(f"/Users/{bob['id']}", json={**bob, "active": True})).status_code == 200
    await cycle(h)
    users = await h.portal_users()
    assert (users["bob@contoso.com"]["id"], users["bob@contoso.com"]["active"]) == (portal_bob, True)


UPLOAD = 5000


def manager_of(number: int) -> int | None:
    """Ten reports per manager, in a tree rooted at employee 0; every report is uploaded BEFORE
    its manager (the list is reversed), the order in which an HR export need not be."""
    return None if number == 0 else (number - 1) // 10


async def test_a_5000_operation_bulk_upload_reaches_the_portal(
    portal: Portal, okta: httpx2.AsyncClient
) -> None:
    service: Service = okta.service  # type: ignore[attr-defined]
    await source_operations.configure(
        service, "okta", {"bulk_max_operations": str(UPLOAD), "bulk_max_payload_bytes": str(20 * 1024 * 1024)}
    )
    operations = [hr_user(n, manager=manager_of(n)) for n in reversed(range(UPLOAD))]
    accepted = await okta.post("/bulkUpload", json=bulk(operations))
    assert accepted.status_code == 202, accepted.text
    status = await done(okta, accepted.headers["location"], polls=20000)
    assert status["counts"] == {"pending": 0, "applied": UPLOAD, "failed": 0, "skipped": 0}
    assert {o["status"] for o in status["Operations"]} == {"201"}

    ids = [o["location"].rpartition("/")[2] for o in status["Operations"]]
    group = await okta.post(
        "/Groups", json={"displayName": "Everyone", "members": [{"value": i} for i in ids]}
    )
    assert group.status_code == 201, group.text[:500]
    h = await harness(portal, service)
    await assign_groups(h, "Everyone")
    await cycle(h)
    users = await all_portal_users(h)
    assert len(users) == UPLOAD
    assert all(u["active"] for u in users.values())
    name_of = {u["id"]: n for n, u in users.items()}
    managers = {
        n: name_of.get(u.get(ENTERPRISE, {}).get("manager", {}).get("value", "")) for n, u in users.items()
    }
    want = {
        f"e{n}@contoso.com": (f"e{m}@contoso.com" if (m := manager_of(n)) is not None else None)
        for n in range(UPLOAD)
    }
    assert managers == want
    assert users["e4999@contoso.com"][ENTERPRISE]["employeeNumber"] == "4999"
