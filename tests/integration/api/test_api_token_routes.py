"""The provisioning API lists and revokes API tokens as `enlist provisioning api-token list|revoke`
do, and mints none (ADR 0030, updated): over real HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import httpx2

from enlist.provisioning.service import Service
from tests.integration.api.conftest import enlist
from tests.integration.api.http import assert_error_shape, token

PAGE = "/api/v1/apps"  # any route a read token opens


def secret(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def test_the_list_is_the_clis_and_never_shows_a_token(
    service: Service, api: httpx2.AsyncClient
) -> None:
    reader = await token(service, "dashboard", "read")
    writer = await token(service, "ci", "write")

    by_reader = await api.get("/api/v1/api-tokens", headers=reader)
    by_writer = await api.get("/api/v1/api-tokens", headers=writer)
    code, cli, _ = await enlist(service, "provisioning", "api-token", "list", "--json")

    assert (by_reader.status_code, by_writer.status_code, code) == (200, 200, 0)
    assert [t["name"] for t in by_writer.json()] == ["ci", "dashboard"]  # newest first
    assert [t["name"] for t in json.loads(cli)] == ["ci", "dashboard"]
    assert {frozenset(t) for t in by_writer.json()} == {frozenset(t) for t in json.loads(cli)}
    for answer in (by_reader, by_writer):
        assert secret(reader) not in answer.text
        assert secret(writer) not in answer.text


async def test_a_write_token_revokes_a_leaked_token_which_is_refused_at_once(
    service: Service, api: httpx2.AsyncClient
) -> None:
    leaked = await token(service, "leaked", "write")
    writer = await token(service, "ci", "write")
    reader = await token(service, "dashboard", "read")

    by_reader = await api.delete("/api/v1/api-tokens/leaked", headers=reader)
    still = await api.get(PAGE, headers=leaked)
    revoked = await api.delete("/api/v1/api-tokens/leaked", headers=writer)
    after = await api.get(PAGE, headers=leaked)
    again = await api.delete("/api/v1/api-tokens/leaked", headers=writer)
    _, cli, _ = await enlist(service, "provisioning", "api-token", "list", "--json")

    assert assert_error_shape(by_reader, 403)["code"] == "InsufficientScope"
    assert still.status_code == 200, "a refused revoke changes nothing"
    assert revoked.status_code == 200
    assert revoked.json()["name"] == "leaked"
    assert revoked.json()["revoked_at"] is not None
    assert assert_error_shape(after, 401)["code"] == "InvalidToken"
    assert assert_error_shape(again, 404)["code"] == "UnknownToken"
    states = {t["name"]: t["revoked_at"] is not None for t in json.loads(cli)}
    assert states == {"leaked": True, "ci": False, "dashboard": False}


async def test_no_method_of_the_api_tokens_route_mints_one(service: Service, api: httpx2.AsyncClient) -> None:
    writer = await token(service, "ci", "write")
    asked = {"name": "minted", "scope": "write"}

    answers = {
        (method, path): await api.request(method, path, headers=writer, json=asked)
        for method in ("POST", "PUT", "PATCH")
        for path in ("/api/v1/api-tokens", "/api/v1/api-tokens/minted")
    }
    _, cli, _ = await enlist(service, "provisioning", "api-token", "list", "--json")

    assert {k: assert_error_shape(a, 405)["code"] for k, a in answers.items()} == dict.fromkeys(
        answers, "MethodNotAllowed"
    )
    assert [t["name"] for t in json.loads(cli)] == ["ci"]
