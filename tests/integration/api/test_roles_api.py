"""The roles and smart groups API (`enlist.lms.api.roles`), mounted as the portal will mount it,
on SQLite and PostgreSQL: the same operations as the CLI, the same answers, SCIM errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx2
import pytest

from enlist.api_tokens import store as token_store
from enlist.api_tokens.door import SCOPE_ATTRIBUTE
from enlist.lms.api import roles
from enlist.lms.api.app import create_app
from enlist.lms.api.runtime import Portal
from enlist.lms.api_tokens import api_tokens
from tests.helpers import GROUP, USER, ScimTenant, make_tenant

BASE = "/api/v1/tenants/acme"


@dataclass
class Api:
    http: httpx2.AsyncClient
    scim: ScimTenant
    write: dict[str, str]
    read: dict[str, str]


@pytest.fixture
async def api(portal: Portal) -> AsyncIterator[Api]:
    app = create_app(portal.settings, portal)
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://portal.test"
    ) as http:
        t = await make_tenant(portal, http)
        tokens = {}
        async with portal.db.write() as conn:
            for scope in ("write", "read"):
                minted = await token_store.create(
                    conn, api_tokens, portal.peppers.current, name=scope, scope=scope, expires_at=None
                )
                tokens[scope] = {"Authorization": f"Bearer {minted.token}"}
        yield Api(http, t, tokens["write"], tokens["read"])


async def test_rules_and_smart_groups_written_over_the_api_explain_a_users_access(api: Api) -> None:
    ann = (
        await api.scim.post("/Users", {"schemas": [USER], "userName": "ann@x.example", "title": "Manager"})
    ).json()
    await api.scim.post(
        "/Groups", {"schemas": [GROUP], "displayName": "Leads", "members": [{"value": ann["id"]}]}
    )
    rule = await api.http.post(
        f"{BASE}/role-rules", json={"group": "leads", "role": "manager"}, headers=api.write
    )
    assert rule.status_code == 201, rule.text
    smart = await api.http.post(
        f"{BASE}/smart-groups", json={"name": "Managers", "rule": 'title eq "manager"'}, headers=api.write
    )
    assert smart.status_code == 201, smart.text
    assert (await api.http.get(f"{BASE}/role-rules", headers=api.read)).json() == [rule.json()]
    shown = await api.http.get(f"{BASE}/smart-groups/managers", headers=api.read)
    assert shown.json()["members"] == [{"id": ann["id"], "userName": "ann@x.example"}]
    access = await api.http.get(f"{BASE}/users/{ann['id']}/access", headers=api.read)
    assert access.status_code == 200
    assert [r["reason"] for r in access.json()["roles"]] == ["manager because member of IdP group Leads"]
    assert [s["name"] for s in access.json()["smartGroups"]] == ["Managers"]
    by_secret_token = await api.http.get(f"{BASE}/users/{ann['id']}/access", headers=api.scim.headers())
    assert by_secret_token.status_code == 401  # the Secret token is the identity provider's
    gone = await api.http.delete(f"{BASE}/role-rules/{rule.json()['id']}", headers=api.write)
    assert gone.status_code == 204
    assert (await api.http.delete(f"{BASE}/smart-groups/Managers", headers=api.write)).status_code == 204
    after = await api.http.get(f"{BASE}/users/{ann['id']}/access", headers=api.read)
    assert after.json() == {"roles": [], "smartGroups": []}


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/role-rules", {"group": "G", "role": "owner"}, 400),
        ("POST", "/role-rules", {"group": 5, "role": "manager"}, 400),
        ("POST", "/role-rules", [1], 400),
        ("POST", "/role-rules", {"group": "G", "role": "department_admin", "department": "Nowhere"}, 400),
        ("POST", "/smart-groups", {"name": "G", "rule": "title co"}, 400),
        ("DELETE", "/role-rules/12", None, 404),
        ("DELETE", "/role-rules/not-a-number", None, 404),
        ("GET", "/smart-groups/nothing", None, 404),
        ("GET", "/users/nobody/access", None, 404),
    ],
)
async def test_a_mistake_is_answered_in_the_apis_error_shape_with_its_message(
    api: Api, method: str, path: str, body: object, status: int
) -> None:
    response = await api.http.request(method, BASE + path, json=body, headers=api.write)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"]
    assert error["message"]
    assert error["hint"]


WRITES = [
    ("POST", "/role-rules", {"group": "G", "role": "manager"}),
    ("POST", "/smart-groups", {"name": "G", "rule": "title pr"}),
    ("DELETE", "/smart-groups/G", None),
    ("DELETE", "/role-rules/1", None),
]


def test_the_writes_below_are_every_write_route() -> None:
    written = {
        (method, route.path.removeprefix(roles.BASE))
        for route in roles.routes()
        for method in route.methods or ()
        if getattr(route.endpoint, SCOPE_ATTRIBUTE) == "write"
    }
    assert written == {(m, p.replace("/G", "/{name}").replace("/1", "/{rule}")) for m, p, _ in WRITES}


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
async def test_every_write_refuses_a_read_token_and_the_secret_token(
    api: Api, method: str, path: str, body: object
) -> None:
    by_reader = await api.http.request(method, BASE + path, json=body, headers=api.read)
    assert by_reader.status_code == 403
    by_idp = await api.http.request(method, BASE + path, json=body, headers=api.scim.headers())
    assert by_idp.status_code == 401
    assert (await api.http.get(f"{BASE}/role-rules", headers=api.read)).json() == []
    assert (await api.http.get(f"{BASE}/smart-groups", headers=api.read)).json() == []
