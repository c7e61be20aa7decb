"""Small helpers the SCIM tests share: make a tenant with a token, talk SCIM to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx2

from enlist.lms.api.runtime import Portal
from enlist.lms.domain.tenants import Tenant
from enlist.lms.store import tenants as tenant_store

SCIM = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@dataclass
class ScimTenant:
    """A tenant, its token, and a client that speaks SCIM to its Tenant URL."""

    tenant: Tenant
    token: str
    http: httpx2.AsyncClient

    @property
    def base(self) -> str:
        return f"/scim/v2/{self.tenant.slug}"

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": SCIM, **extra}

    async def get(self, path: str, **params: Any) -> httpx2.Response:
        return await self.http.get(self.base + path, params=params or None, headers=self.headers())

    async def post(self, path: str, body: Any) -> httpx2.Response:
        return await self.http.post(self.base + path, json=body, headers=self.headers())

    async def put(self, path: str, body: Any) -> httpx2.Response:
        return await self.http.put(self.base + path, json=body, headers=self.headers())

    async def patch(self, path: str, operations: list[dict[str, Any]], **headers: str) -> httpx2.Response:
        body = {"schemas": [PATCH_OP], "Operations": operations}
        return await self.http.patch(self.base + path, json=body, headers=self.headers(**headers))

    async def delete(self, path: str) -> httpx2.Response:
        return await self.http.delete(self.base + path, headers=self.headers())

    async def create_user(self, user_name: str, **attrs: Any) -> dict[str, Any]:
        response = await self.post("/Users", {"schemas": [USER], "userName": user_name, **attrs})
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def create_group(self, name: str, members: list[str] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"schemas": [GROUP], "displayName": name}
        if members:
            body["members"] = [{"value": m} for m in members]
        response = await self.post("/Groups", body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def find_user(self, user_name: str) -> dict[str, Any] | None:
        response = await self.get("/Users", filter=f'userName eq "{user_name}"')
        assert response.status_code == 200, response.text
        resources = response.json()["Resources"]
        return resources[0] if resources else None

    async def members(self, group_id: str) -> set[str]:
        response = await self.get(f"/Groups/{group_id}")
        assert response.status_code == 200, response.text
        return {m["value"] for m in response.json().get("members", [])}


async def make_tenant(portal: Portal, http: httpx2.AsyncClient, name: str = "acme") -> ScimTenant:
    async with portal.db.write() as conn:
        tenant = await tenant_store.create_tenant(conn, name)
        token = await tenant_store.add_token(conn, tenant, portal.peppers.current)
    return ScimTenant(tenant, token, http)


def assert_api_error(response: httpx2.Response, status: int, *words: str) -> dict[str, str]:
    """`status` in the JSON APIs' one error shape (`{"error": {"code", "message", "hint"}}`),
    every part a sentence, `words` in the message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "hint"}
    assert all(isinstance(v, str) and v.strip() for v in error.values()), error
    for word in words:
        assert word in error["message"], (word, error)
    return dict(error)
