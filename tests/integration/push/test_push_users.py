"""Users pushed over real HTTP land in the directory, owned by the source, Graph-shaped."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from enlist.provisioning.directory.tables import dir_users
from tests.integration.push.conftest import Pushed

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def okta_user(login: str, **extra: Any) -> dict[str, Any]:
    """The body Okta POSTs (okta-and-ldap.md §1.2): groups [] and a placeholder password included."""
    return {
        "schemas": [USER],
        "userName": login,
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"primary": True, "value": login, "type": "work"}],
        "displayName": "Ada Lovelace",
        "locale": "en-US",
        "externalId": "00u1abcd",
        "groups": [],
        "password": "placeholder-1",
        "active": True,
        **extra,
    }


async def row(p: Pushed, resource_id: str) -> Any:
    async with p.service.db.read() as conn:
        return (
            await conn.execute(
                sa.select(dir_users).where(
                    (dir_users.c.source == "hr") & (dir_users.c.source_id == resource_id)
                )
            )
        ).one()


async def test_a_posted_user_is_owned_by_the_source_with_graph_shaped_attributes(pushed: Pushed) -> None:
    created = await pushed.client.post("/Users", json=okta_user("ada@contoso.com", title="Engineer"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"{pushed.base_url}/Users/{body['id']}"
    stored = await row(pushed, body["id"])
    assert stored.upn == "ada@contoso.com"
    assert stored.attributes == {
        "userPrincipalName": "ada@contoso.com",
        "givenName": "Ada",
        "surname": "Lovelace",
        "mail": "ada@contoso.com",
        "displayName": "Ada Lovelace",
        "jobTitle": "Engineer",
        "mailNickname": "00u1abcd",
        "accountEnabled": True,
    }
    assert (await pushed.client.get(f"/Users/{body['id']}")).json() == body


async def test_put_replaces_the_whole_user_and_active_false_disables(pushed: Pushed) -> None:
    created = (await pushed.client.post("/Users", json=okta_user("ada@contoso.com", title="Engineer"))).json()
    fetched = (await pushed.client.get(f"/Users/{created['id']}")).json()
    fetched.pop("title")
    fetched["active"] = False
    fetched["displayName"] = "Ada L."
    replaced = await pushed.client.put(f"/Users/{created['id']}", json=fetched)  # id, meta sent back
    assert replaced.status_code == 200, replaced.text
    stored = await row(pushed, created["id"])
    assert stored.account_enabled is False
    assert "jobTitle" not in stored.attributes
    assert stored.attributes["displayName"] == "Ada L."
    assert replaced.json()["active"] is False


async def test_a_pathless_patch_deactivates_and_a_second_post_is_a_conflict(pushed: Pushed) -> None:
    created = (await pushed.client.post("/Users", json=okta_user("ada@contoso.com"))).json()
    patched = await pushed.client.patch(
        f"/Users/{created['id']}",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": False}}],
        },
    )
    assert patched.status_code == 200, patched.text
    assert (await row(pushed, created["id"])).account_enabled is False
    again = await pushed.client.post("/Users", json=okta_user("ADA@contoso.com"))
    assert again.status_code == 409
    assert again.json()["scimType"] == "uniqueness"


async def test_delete_soft_deletes_and_a_post_of_the_same_user_name_restores_it(pushed: Pushed) -> None:
    created = (await pushed.client.post("/Users", json=okta_user("ada@contoso.com"))).json()
    assert (await pushed.client.delete(f"/Users/{created['id']}")).status_code == 204
    assert (await row(pushed, created["id"])).deleted_at is not None
    assert (await pushed.client.get(f"/Users/{created['id']}")).status_code == 404
    listed = (await pushed.client.get("/Users", params={"filter": 'userName eq "ada@contoso.com"'})).json()
    assert listed["totalResults"] == 0
    restored = await pushed.client.post("/Users", json=okta_user("ada@contoso.com"))
    assert restored.status_code == 201
    assert restored.json()["id"] == created["id"]
    assert (await row(pushed, created["id"])).deleted_at is None


async def test_filters_find_users_by_user_name_external_id_and_id_in_any_case(pushed: Pushed) -> None:
    ada = (await pushed.client.post("/Users", json=okta_user("ada@contoso.com"))).json()
    await pushed.client.post("/Users", json=okta_user("bob@contoso.com", externalId="00u2"))
    for text in ('userName eq "ADA@contoso.com"', 'externalId eq "00U1ABCD"', f'id eq "{ada["id"]}"'):
        found = (await pushed.client.get("/Users", params={"filter": text})).json()
        assert [r["id"] for r in found["Resources"]] == [ada["id"]], text
    pages = [
        (await pushed.client.get("/Users", params={"startIndex": start, "count": 1})).json()
        for start in (1, 2, 3)
    ]
    assert [p["totalResults"] for p in pages] == [2, 2, 2]
    assert sum(len(p["Resources"]) for p in pages) == 2
    refused = await pushed.client.get("/Users", params={"filter": 'title co "x"'})
    assert (refused.status_code, refused.json()["scimType"]) == (400, "invalidFilter")


async def test_enterprise_and_custom_extension_attributes_are_kept_and_rendered_back(pushed: Pushed) -> None:
    custom = "urn:ietf:params:scim:schemas:extension:csv:1.0:User"
    boss = (await pushed.client.post("/Users", json=okta_user("boss@contoso.com", externalId="1"))).json()
    body = okta_user(
        "ada@contoso.com",
        schemas=[USER, ENTERPRISE, custom],
        **{
            ENTERPRISE: {
                "employeeNumber": "701984",
                "department": "R&D",
                "costCenter": "C1",
                "manager": {"value": boss["id"]},
            },
            custom: {"HireDate": "2026-01-02"},
        },
    )
    created = (await pushed.client.post("/Users", json=body)).json()
    stored = await row(pushed, created["id"])
    assert stored.attributes["employeeId"] == "701984"
    assert stored.attributes["department"] == "R&D"
    assert stored.attributes[f"{ENTERPRISE}:costCenter"] == "C1"
    assert stored.attributes[f"{custom}:HireDate"] == "2026-01-02"
    assert stored.manager_id == (await row(pushed, boss["id"])).id
    assert created[ENTERPRISE]["manager"]["value"] == boss["id"]
    assert created[custom] == {"HireDate": "2026-01-02"}


async def test_source_test_reports_the_last_push_and_the_scheduler_never_reads_a_push_source(
    pushed: Pushed,
) -> None:
    from enlist.provisioning.sources import operations as source_operations  # noqa: PLC0415
    from enlist.provisioning.sources.push import operations  # noqa: PLC0415
    from enlist.provisioning.sources.scheduling import due_source_ids  # noqa: PLC0415

    await pushed.client.post("/Users", json=okta_user("ada@contoso.com"))
    source = await source_operations.get(pushed.service, "hr")
    check = await operations.check(pushed.service, source)
    assert check.ok
    assert check.details["last_push"]["counts"]["push"] == "POST /Users"
    assert check.details["last_push"]["counts"]["users_created"] == 1
    await source_operations.change_state(pushed.service, "hr", "resume")  # sets next_read_at to now
    assert source.id not in await due_source_ids(pushed.service)


async def test_an_external_id_whose_user_was_purged_can_be_used_again(pushed: Pushed) -> None:
    from datetime import timedelta  # noqa: PLC0415

    from enlist.db.rows import now  # noqa: PLC0415
    from enlist.provisioning.directory import lifecycle  # noqa: PLC0415

    gone = (await pushed.client.post("/Users", json=okta_user("ada@contoso.com"))).json()
    await pushed.client.delete(f"/Users/{gone['id']}")
    async with pushed.service.db.write() as conn:
        assert await lifecycle.purge_deleted(conn, now() + timedelta(days=31)) == 1
    again = await pushed.client.post("/Users", json=okta_user("ada.new@contoso.com"))  # same externalId
    assert again.status_code == 201, again.text
    found = await pushed.client.get("/Users", params={"filter": 'externalId eq "00u1abcd"'})
    assert [r["id"] for r in found.json()["Resources"]] == [again.json()["id"]]
