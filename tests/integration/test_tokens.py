"""Secret tokens: what opens a tenant, what does not, rotation with and without overlap, storage.

A request without a usable token is a 401 with `WWW-Authenticate` and a SCIM error body, on the
SCIM endpoint and on the sync log API alike, and changes nothing. Rotation keeps the old token
working for the overlap it was given, and no longer. The token is stored only as a digest.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from enlist.lms.domain import tokens as tk
from enlist.lms.store import tenants as tenant_store
from enlist.lms.store.tables import metadata, secret_tokens, users
from tests.helpers import SCIM, USER, ScimTenant, make_tenant

if TYPE_CHECKING:
    import httpx2

    from enlist.lms.api.runtime import Portal

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def assert_unauthorized(response: httpx2.Response, token: str | None = None) -> None:
    """401, a Bearer challenge, an error body (SCIM's under /scim/, the JSON API's one shape
    under /api/, ADR 0031), and no echo of the token that was sent."""
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    if response.url.path.startswith("/api/"):
        assert body["error"]["code"] == "Unauthorized"
        assert "token" in (body["error"]["message"] + body["error"]["hint"]).lower()
    else:
        assert response.headers["content-type"].startswith(SCIM)
        assert body["schemas"] == [ERROR]
        assert body["status"] == "401"
        assert "token" in body["detail"].lower()
    if token:
        assert token not in response.text


async def user_count(portal: Portal) -> int:
    async with portal.db.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(users))).scalar_one())


async def works(t: ScimTenant, token: str) -> bool:
    """Whether `token` opens the tenant's SCIM endpoint (200) rather than being refused (401)."""
    response = await t.http.get(t.base + "/Users", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


def split(token: str) -> tuple[str, str]:
    parts = tk.split(token)
    assert parts is not None, token
    return parts


# --- what is refused -----------------------------------------------------------------------------

ENDPOINTS = [
    pytest.param("GET", "/scim/v2/{slug}/Users", id="scim-list"),
    pytest.param("POST", "/scim/v2/{slug}/Users", id="scim-create"),
    pytest.param("GET", "/scim/v2/{slug}/ServiceProviderConfig", id="scim-discovery"),
    pytest.param("GET", "/api/v1/tenants/{slug}/sync-log", id="sync-log"),
]


def bad_authorizations(token: str) -> dict[str, dict[str, str]]:
    """Authorization headers that must not open the tenant, by name (the token is a valid one)."""
    key_id, secret = split(token)
    wrong_secret = secrets.token_urlsafe(tk.SECRET_BYTES)
    return {
        "missing-header": {},
        "empty-header": {"Authorization": ""},
        "bearer-without-token": {"Authorization": "Bearer "},
        "basic-scheme": {"Authorization": "Basic " + base64.b64encode(f"acme:{token}".encode()).decode()},
        "raw-token-without-scheme": {"Authorization": token},
        "token-scheme": {"Authorization": f"Token {token}"},
        "malformed-token": {"Authorization": "Bearer not-a-token"},
        "malformed-prefix-only": {"Authorization": f"Bearer {tk.TOKEN_PREFIX}"},
        "secret-alone": {"Authorization": f"Bearer {secret}"},
        "truncated-token": {"Authorization": f"Bearer {token[:-1]}"},
        "token-with-extra-character": {"Authorization": f"Bearer {token}x"},
        "right-shape-wrong-secret": {"Authorization": f"Bearer {tk.TOKEN_PREFIX}{key_id}_{wrong_secret}"},
        "right-shape-unknown-key": {
            "Authorization": f"Bearer {tk.TOKEN_PREFIX}{secrets.token_urlsafe(tk.KEY_ID_BYTES)}_{secret}"
        },
        "case-changed-secret": {"Authorization": f"Bearer {tk.TOKEN_PREFIX}{key_id}_{secret.swapcase()}"},
    }


BAD_AUTHORIZATIONS = list(bad_authorizations(f"{tk.TOKEN_PREFIX}{'k' * tk.KEY_ID_LENGTH}_{'s' * 43}"))


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("case", BAD_AUTHORIZATIONS)
async def test_a_request_without_a_usable_token_is_401_with_a_challenge_and_changes_nothing(
    portal: Portal, http: httpx2.AsyncClient, method: str, path: str, case: str
) -> None:
    t = await make_tenant(portal, http)
    headers = {"Content-Type": SCIM, **bad_authorizations(t.token)[case]}
    before = await user_count(portal)
    body = {"schemas": [USER], "userName": "ada@example.com"} if method == "POST" else None
    response = await http.request(method, path.format(slug=t.tenant.slug), json=body, headers=headers)
    assert_unauthorized(response, t.token)
    assert await user_count(portal) == before


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
async def test_a_revoked_token_is_401_and_changes_nothing(
    portal: Portal, http: httpx2.AsyncClient, method: str, path: str
) -> None:
    t = await make_tenant(portal, http)
    async with portal.db.write() as conn:
        assert await tenant_store.revoke_tokens(conn, t.tenant) == 1
    before = await user_count(portal)
    body = {"schemas": [USER], "userName": "ada@example.com"} if method == "POST" else None
    response = await http.request(method, path.format(slug=t.tenant.slug), json=body, headers=t.headers())
    assert_unauthorized(response, t.token)
    assert await user_count(portal) == before


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
async def test_the_valid_token_opens_the_same_endpoints(
    portal: Portal, http: httpx2.AsyncClient, method: str, path: str
) -> None:
    """The control for the refusals above."""
    t = await make_tenant(portal, http)
    body = {"schemas": [USER], "userName": "ada@example.com"} if method == "POST" else None
    response = await http.request(method, path.format(slug=t.tenant.slug), json=body, headers=t.headers())
    assert response.status_code in (200, 201), response.text


async def test_the_bearer_scheme_is_case_insensitive(portal: Portal, http: httpx2.AsyncClient) -> None:
    t = await make_tenant(portal, http)
    response = await http.get(t.base + "/Users", headers={"Authorization": f"bearer {t.token}"})
    assert response.status_code == 200, response.text


async def test_a_token_minted_after_revocation_works_and_the_revoked_one_still_does_not(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    async with portal.db.write() as conn:
        await tenant_store.revoke_tokens(conn, t.tenant)
        fresh = await tenant_store.add_token(conn, t.tenant, portal.peppers.current)
    assert await works(t, fresh)
    assert not await works(t, t.token)


async def test_revocation_revokes_every_token_of_the_tenant_and_no_other_tenants(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http, "acme")
    other = await make_tenant(portal, http, "globex")
    async with portal.db.write() as conn:
        second = await tenant_store.add_token(conn, t.tenant, portal.peppers.current)
        assert await tenant_store.revoke_tokens(conn, t.tenant) == 2
    assert not await works(t, t.token)
    assert not await works(t, second)
    assert await works(other, other.token)


async def test_a_failed_authentication_writes_nothing_to_the_sync_log(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    await http.post(t.base + "/Users", json={"schemas": [USER], "userName": "ada@example.com"})
    await http.post(
        t.base + "/Users",
        json={"schemas": [USER], "userName": "ada@example.com"},
        headers={"Authorization": "Bearer not-a-token"},
    )
    response = await http.get(f"/api/v1/tenants/{t.tenant.slug}/sync-log", headers=t.headers())
    assert response.status_code == 200, response.text
    assert response.json()["entries"] == []


# --- rotation ------------------------------------------------------------------------------------


async def rotate(portal: Portal, t: ScimTenant, overlap: timedelta) -> str:
    async with portal.db.write() as conn:
        return await tenant_store.rotate_token(conn, t.tenant, portal.peppers.current, overlap)


async def test_rotation_with_an_overlap_keeps_the_old_token_working_and_the_new_one_too(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    new = await rotate(portal, t, timedelta(hours=24))
    assert new != t.token
    assert await works(t, t.token)
    assert await works(t, new)


async def test_rotation_with_overlap_zero_revokes_the_old_token_at_once(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    new = await rotate(portal, t, timedelta(0))
    response = await http.get(t.base + "/Users", headers=t.headers())
    assert_unauthorized(response, t.token)
    assert await works(t, new)


async def test_rotation_rejects_the_old_token_once_its_overlap_has_passed(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    new = await rotate(portal, t, timedelta(microseconds=1))
    await asyncio.sleep(0.05)
    response = await http.get(t.base + "/Users", headers=t.headers())
    assert_unauthorized(response, t.token)
    assert await works(t, new)


async def test_a_second_rotation_keeps_the_newest_two_tokens_within_their_overlap(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    second = await rotate(portal, t, timedelta(hours=24))
    third = await rotate(portal, t, timedelta(hours=24))
    assert len({t.token, second, third}) == 3
    assert await works(t, t.token)
    assert await works(t, second)
    assert await works(t, third)


async def test_a_rotated_token_opens_only_its_own_tenant(portal: Portal, http: httpx2.AsyncClient) -> None:
    t = await make_tenant(portal, http, "acme")
    other = await make_tenant(portal, http, "globex")
    new = await rotate(portal, t, timedelta(hours=24))
    assert not await works(other, new)
    assert not await works(other, t.token)


# --- storage -------------------------------------------------------------------------------------


def texts(row: dict[str, Any]) -> list[str]:
    return [str(v) for v in row.values() if v is not None]


async def test_the_token_is_never_stored_in_clear(portal: Portal, http: httpx2.AsyncClient) -> None:
    t = await make_tenant(portal, http)
    rotated = await rotate(portal, t, timedelta(hours=24))
    async with portal.db.read() as conn:
        stored = [dict(r._mapping) for r in await conn.execute(sa.select(secret_tokens))]
    assert len(stored) == 2
    for token in (t.token, rotated):
        key_id, secret = split(token)
        assert any(row["key_id"] == key_id for row in stored)  # the lookup key, and only it, is plain
        for row in stored:
            for value in texts(row):
                assert token not in value
                assert secret not in value
                assert secret[:16] not in value


async def test_no_table_holds_a_token_or_its_secret_after_the_tenant_was_used(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    created = await t.create_user("ada@example.com")
    await t.create_group("Staff", [created["id"]])
    await t.post("/Users", {"schemas": [USER], "userName": "ada@example.com"})  # a failure, logged
    await http.get(t.base + "/Users", headers={"Authorization": f"Bearer {t.token}x"})
    _, secret = split(t.token)
    async with portal.db.read() as conn:
        for table in metadata.sorted_tables:
            for r in await conn.execute(sa.select(table)):
                for value in texts(dict(r._mapping)):
                    assert t.token not in value, table.name
                    assert secret not in value, table.name


async def test_the_stored_digest_is_not_a_plain_hash_of_the_secret(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    """The digest is keyed by the pepper: a copy of the database alone cannot check a guess."""
    t = await make_tenant(portal, http)
    key_id, secret = split(t.token)
    async with portal.db.read() as conn:
        digest = (
            await conn.execute(sa.select(secret_tokens.c.digest).where(secret_tokens.c.key_id == key_id))
        ).scalar_one()
    assert digest not in (
        hashlib.sha256(secret.encode()).hexdigest(),
        hashlib.sha256(t.token.encode()).hexdigest(),
    )
    assert digest == tk.digest(portal.peppers.current, secret)
