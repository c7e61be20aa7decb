"""The fake Graph refuses what the real Graph refuses (graph-source.md §8), so a reader test
fails when the reader sends a request Graph would not take. Checked over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import orjson
import pytest

from tests.fakes.graph.app import FakeGraph
from tests.integration.sources.graph_helpers import CLIENT_ID, SECRET

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


@pytest.fixture
async def http() -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient() as client:
        yield client


async def _token(
    fake: FakeGraph, http: httpx2.AsyncClient, client_id: str = CLIENT_ID, secret: str = SECRET
) -> str:
    response = await http.post(
        f"{fake.auth_base}/{fake.tenant.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": GRAPH_SCOPE,
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


REFUSED = [
    ("/v1.0/users?$top=1000", 400, "Request_BadRequest", "Invalid page size specified: '1000'"),
    ("/v1.0/users?$top=0", 400, "Request_BadRequest", "Must be between 1 and 999"),
    ("/v1.0/users?$skip=10", 400, "Request_BadRequest", "$skip"),
    ("/v1.0/users?$select=id,shoeSize", 400, "Request_BadRequest", "shoeSize"),
    ("/v1.0/users?$select=id,birthday", 501, "NotImplemented", "birthday"),
    (
        "/v1.0/users/delta?$select=id,birthday",
        400,
        "BadRequest",
        "not supported for the following properties: birthday",
    ),
    ("/v1.0/users/delta?$expand=manager", 400, "BadRequest", "$expand"),
    ("/v1.0/users/delta?$frobnicate=1", 400, "BadRequest", "$frobnicate"),
    ("/v1.0/groups/delta?$select=id,members,shoeSize", 400, "Request_BadRequest", "shoeSize"),
    ("/v1.0/directory/deletedItems", 400, "Request_BadRequest", "cast"),
    ("/v1.0/users/$count", 400, "Request_BadRequest", "ConsistencyLevel"),
    ("/beta/users", 400, "BadRequest", "version"),
]


@pytest.mark.parametrize(("path", "status", "code", "message"), REFUSED, ids=[r[0] for r in REFUSED])
async def test_a_request_graph_refuses_is_refused(
    fake: FakeGraph, http: httpx2.AsyncClient, path: str, status: int, code: str, message: str
) -> None:
    token = await _token(fake, http)

    response = await http.get(f"{fake.graph_base}{path}", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert message in error["message"]
    assert error["innerError"]["request-id"]
    assert response.headers["request-id"]


async def test_select_beside_a_skiptoken_is_refused(fake: FakeGraph, http: httpx2.AsyncClient) -> None:
    fake.knobs.page_size = 1
    for i in range(3):
        fake.tenant.create_user(f"u{i}@contoso.com")
    headers = {"Authorization": f"Bearer {await _token(fake, http)}"}
    first = (await http.get(f"{fake.graph_base}/v1.0/users/delta?$select=id", headers=headers)).json()

    response = await http.get(first["@odata.nextLink"] + "&$select=id", headers=headers)

    assert response.status_code == 400


@pytest.mark.parametrize(
    "authorization", [None, "Bearer not-a-token", "Bearer", "Basic Y2xpZW50OnNlY3JldA=="]
)
async def test_a_missing_or_unknown_bearer_token_is_401(
    fake: FakeGraph, http: httpx2.AsyncClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = await http.get(f"{fake.graph_base}/v1.0/users", headers=headers)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert "WWW-Authenticate" in response.headers


async def test_an_expired_token_is_401(fake: FakeGraph, http: httpx2.AsyncClient) -> None:
    token = await _token(fake, http)
    fake.tenant.advance_clock(3600)

    response = await http.get(f"{fake.graph_base}/v1.0/users", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("path", "permission"),
    [
        ("/v1.0/users", "User.Read.All"),
        ("/v1.0/users/delta", "User.Read.All"),
        ("/v1.0/groups/delta", "GroupMember.Read.All"),
        ("/v1.0/servicePrincipals", "Application.Read.All"),
        ("/v1.0/directory/deletedItems/microsoft.graph.user", "User.Read.All"),
    ],
)
async def test_a_call_outside_the_tokens_permissions_is_403(
    fake: FakeGraph, http: httpx2.AsyncClient, path: str, permission: str
) -> None:
    everything = {"User.Read.All", "GroupMember.Read.All", "Application.Read.All"}
    fake.tenant.register_app("limited", secret="s", permissions=frozenset(everything - {permission}))
    token = await _token(fake, http, "limited", "s")

    response = await http.get(f"{fake.graph_base}{path}", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "Authorization_RequestDenied"


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_secret": SECRET, "scope": "https://graph.microsoft.com/User.Read"}, 400, "invalid_scope"),
        ({"client_secret": SECRET, "grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"client_secret": SECRET, "client_id": "unknown"}, 400, "unauthorized_client"),
        ({}, 401, "invalid_client"),
        (
            {
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": "a.b.c",
            },
            401,
            "invalid_client",
        ),
    ],
)
async def test_the_token_endpoint_refuses_as_entra_does(
    fake: FakeGraph, http: httpx2.AsyncClient, form: dict[str, str], status: int, error: str
) -> None:
    data = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "scope": GRAPH_SCOPE, **form}

    response = await http.post(f"{fake.auth_base}/{fake.tenant.tenant_id}/oauth2/v2.0/token", data=data)

    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["error_description"].startswith("AADSTS")


async def test_a_batch_of_21_or_with_duplicate_ids_is_refused(
    fake: FakeGraph, http: httpx2.AsyncClient
) -> None:
    headers = {"Authorization": f"Bearer {await _token(fake, http)}", "Content-Type": "application/json"}
    user = fake.tenant.create_user("a@contoso.com")
    one = {"method": "GET", "url": f"/users/{user}/manager?$select=id"}

    too_many = await http.post(
        f"{fake.graph_base}/v1.0/$batch",
        headers=headers,
        content=orjson.dumps({"requests": [{"id": str(i), **one} for i in range(21)]}),
    )
    duplicates = await http.post(
        f"{fake.graph_base}/v1.0/$batch",
        headers=headers,
        content=orjson.dumps({"requests": [{"id": "1", **one}, {"id": "1", **one}]}),
    )
    fine = await http.post(
        f"{fake.graph_base}/v1.0/$batch",
        headers=headers,
        content=orjson.dumps({"requests": [{"id": "1", **one}]}),
    )

    assert too_many.status_code == 400
    assert duplicates.status_code == 400
    assert fine.status_code == 200
    assert fine.json()["responses"][0]["status"] == 404  # no manager: 404 by design


async def test_lists_page_as_graph_does(fake: FakeGraph, http: httpx2.AsyncClient) -> None:
    boss = fake.tenant.create_user("boss@contoso.com")
    for i in range(250):
        fake.tenant.set_manager(fake.tenant.create_user(f"u{i}@contoso.com"), boss)
    gone = fake.tenant.create_user("gone@contoso.com")
    fake.tenant.delete_user(gone)
    headers = {"Authorization": f"Bearer {await _token(fake, http)}"}

    plain = (await http.get(f"{fake.graph_base}/v1.0/users?$top=999", headers=headers)).json()
    expanded = (
        await http.get(f"{fake.graph_base}/v1.0/users?$top=999&$expand=manager($select=id)", headers=headers)
    ).json()
    default = (await http.get(f"{fake.graph_base}/v1.0/users", headers=headers)).json()
    deleted = (
        await http.get(f"{fake.graph_base}/v1.0/directory/deletedItems/microsoft.graph.user", headers=headers)
    ).json()
    count = await http.get(
        f"{fake.graph_base}/v1.0/users/$count", headers={**headers, "ConsistencyLevel": "eventual"}
    )

    assert len(plain["value"]) == 251  # soft-deleted users are not listed
    assert "@odata.nextLink" not in plain
    assert len(expanded["value"]) == 100  # $expand caps pages at 100 (§2.3)
    assert expanded["value"][1]["manager"]["id"] == boss
    assert len(default["value"]) == 100
    assert default["@odata.nextLink"].startswith(fake.graph_base)
    assert default["value"][0]["jobTitle"] is None  # lists answer null for unset properties
    assert [u["id"] for u in deleted["value"]] == [gone]
    assert count.text == "251"


async def test_prefer_minimal_returns_only_changed_properties(
    fake: FakeGraph, http: httpx2.AsyncClient
) -> None:
    user = fake.tenant.create_user("a@contoso.com", department="D1", jobTitle="Staff")
    headers = {"Authorization": f"Bearer {await _token(fake, http)}"}
    first = (
        await http.get(f"{fake.graph_base}/v1.0/users/delta?$select=id,department,jobTitle", headers=headers)
    ).json()
    fake.tenant.update_user(user, department="D2")

    minimal = (
        await http.get(first["@odata.deltaLink"], headers={**headers, "Prefer": "return=minimal"})
    ).json()
    full = (await http.get(first["@odata.deltaLink"], headers=headers)).json()

    assert minimal["value"] == [{"id": user, "department": "D2"}]
    assert full["value"] == [{"id": user, "department": "D2", "jobTitle": "Staff"}]
