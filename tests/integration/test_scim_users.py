"""Users over SCIM: create, read, query, replace, patch, delete, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx2

from enlist.lms.api.runtime import Portal
from tests.helpers import ENTERPRISE, USER, make_tenant


async def test_create_answers_201_with_location_id_and_etag(portal: Portal, http: httpx2.AsyncClient) -> None:
    t = await make_tenant(portal, http)
    response = await t.post("/Users", {"schemas": [USER], "userName": "ada@example.com", "active": True})
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/scim+json"
    body = response.json()
    assert body["id"]
    assert response.headers["location"] == f"http://portal.test/scim/v2/acme/Users/{body['id']}"
    assert response.headers["etag"] == 'W/"1"' == body["meta"]["version"]
    assert body["active"] is True
    assert body["meta"]["resourceType"] == "User"


async def test_query_for_a_missing_user_is_200_with_an_empty_list(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    response = await t.get("/Users", filter='userName eq "5f0c3a8e-9b0e-4a4f-8c1e-2d6f3b7a9c11"')
    assert response.status_code == 200
    assert response.json() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 0,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }


async def test_user_name_filter_is_case_insensitive(portal: Portal, http: httpx2.AsyncClient) -> None:
    t = await make_tenant(portal, http)
    created = await t.create_user("Ada.Lovelace@Example.com")
    found = await t.find_user("ada.lovelace@example.COM")
    assert found is not None
    assert found["id"] == created["id"]
    assert found["userName"] == "Ada.Lovelace@Example.com"


async def test_second_user_with_same_login_in_other_case_is_409(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    await t.create_user("ada@example.com")
    response = await t.post("/Users", {"schemas": [USER], "userName": "ADA@example.com"})
    assert response.status_code == 409
    assert response.json()["scimType"] == "uniqueness"


async def test_manager_is_returned_as_a_complex_value(portal: Portal, http: httpx2.AsyncClient) -> None:
    t = await make_tenant(portal, http)
    boss = await t.create_user("boss@example.com")
    user = await t.create_user(
        "ada@example.com", **{ENTERPRISE: {"manager": boss["id"], "department": "R&D"}}
    )
    enterprise = user[ENTERPRISE]
    assert enterprise["manager"] == {
        "value": boss["id"],
        "$ref": f"http://portal.test/scim/v2/acme/Users/{boss['id']}",
    }
    assert enterprise["department"] == "R&D"
    assert ENTERPRISE in user["schemas"]
