"""The null target S4 and S5 measure the engine against answers each request the engine sends
as a SCIM service would, keeps nothing, and counts what it answered."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from bench.client import Connection
from bench.procs import ROOT, free_port

TOKEN = "null-token"
USER = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a@example.com"}
PATCH = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []}


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    port = free_port()
    argv = [sys.executable, "-m", "bench.apps.null_target", str(port), TOKEN]
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
async def conn(base: str) -> AsyncIterator[Connection]:
    connection = Connection(base, TOKEN)
    yield connection
    await connection.close()


async def test_a_filter_query_finds_nothing(conn: Connection) -> None:
    answer = await conn.request("GET", "/Users?filter=userName+eq+%22a%40example.com%22")
    assert answer.status == 200
    assert answer.json()["totalResults"] == 0
    assert answer.json()["Resources"] == []


async def test_a_post_answers_201_with_the_resource_and_a_new_id(conn: Connection) -> None:
    first = await conn.request("POST", "/Users", USER)
    second = await conn.request("POST", "/Groups", {"displayName": "G"})
    assert (first.status, second.status) == (201, 201)
    assert first.json() == {**USER, "id": first.json()["id"]}
    assert first.json()["id"] != second.json()["id"]


async def test_patch_and_delete_answer_204_and_a_read_404(conn: Connection) -> None:
    assert (await conn.request("PATCH", "/Groups/g1", PATCH)).status == 204
    assert (await conn.request("DELETE", "/Users/u1")).status == 204
    missing = await conn.request("GET", "/Users/u1")
    assert missing.status == 404
    assert missing.json()["status"] == "404"


async def test_requests_without_the_token_are_refused_and_not_counted(base: str, conn: Connection) -> None:
    before = (await conn.request("GET", "/_counts")).json()
    stranger = Connection(base, "wrong")
    try:
        assert (await stranger.request("POST", "/Users", USER)).status == 401
    finally:
        await stranger.close()
    await conn.request("PATCH", "/Users/u2", PATCH)
    after = (await conn.request("GET", "/_counts")).json()
    assert after.get("POST", 0) == before.get("POST", 0)
    assert after["PATCH"] == before.get("PATCH", 0) + 1


async def test_bad_requests_get_a_scim_error(conn: Connection) -> None:
    not_json = await conn.request("POST", "/Users", "not an object")
    assert not_json.status == 400
    assert not_json.json()["scimType"] == "invalidSyntax"
    assert (await conn.request("GET", "/Users")).status == 400  # only filter queries
    assert (await conn.request("PUT", "/Users/u1", USER)).status == 405
    assert (await conn.request("GET", "/Elsewhere")).status == 404
