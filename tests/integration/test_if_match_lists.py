"""`If-Match` with a list of entity-tags, or `*` (RFC 9110 §13.1.1): the write goes through when
any listed tag is the current version, whether the list comes in one header line or in several.
A list of stale tags only is 412 and changes nothing. Tags compare weakly, as SCIM's `W/` ETags
require (RFC 7644 §3.14)."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from enlist.lms.api.runtime import Portal
from tests.helpers import GROUP, PATCH_OP, USER, ScimTenant, make_tenant

LISTS = {
    "one-line list": lambda stale, current: [("If-Match", f"{stale}, {current}")],
    "current first": lambda stale, current: [("If-Match", f"{current},{stale}")],
    "two header lines": lambda stale, current: [("If-Match", stale), ("If-Match", current)],
    "strong form": lambda stale, current: [("If-Match", f"{stale}, {current.removeprefix('W/')}")],
    "star": lambda _stale, _current: [("If-Match", "*")],
}


async def write(t: ScimTenant, method: str, path: str, name: str, headers: list[tuple[str, str]]) -> Any:
    body: dict[str, Any] | None = None
    if method == "PATCH":
        body = {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": "displayName", "value": name}],
        }
    elif method == "PUT" and path.startswith("/Users"):
        body = {"schemas": [USER], "userName": "ada@example.com", "displayName": name}
    elif method == "PUT":
        body = {"schemas": [GROUP], "displayName": name}
    all_headers = [*t.headers().items(), *headers]
    return await t.http.request(method, t.base + path, json=body, headers=all_headers)


async def stale_and_current(t: ScimTenant, resource: str) -> tuple[str, str, str]:
    if resource == "Users":
        path = f"/Users/{(await t.create_user('ada@example.com', displayName='Ada'))['id']}"
    else:
        path = f"/Groups/{(await t.create_group('Ada'))['id']}"
    stale = (await t.get(path)).headers["etag"]
    ops = [{"op": "replace", "path": "displayName", "value": "Once"}]
    assert (await t.patch(path, ops)).status_code in (200, 204)
    return path, stale, (await t.get(path)).headers["etag"]


@pytest.mark.parametrize("form", list(LISTS))
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("resource", ["Users", "Groups"])
async def test_an_if_match_list_holding_the_current_etag_lets_the_write_through(
    portal: Portal, http: httpx2.AsyncClient, resource: str, method: str, form: str
) -> None:
    t = await make_tenant(portal, http)
    path, stale, current = await stale_and_current(t, resource)
    response = await write(t, method, path, "Listed", LISTS[form](stale, current))
    assert response.status_code in (200, 204), response.text
    after = await t.get(path)
    assert after.status_code == 404 if method == "DELETE" else after.json()["displayName"] == "Listed"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("resource", ["Users", "Groups"])
async def test_an_if_match_list_of_stale_etags_only_is_412(
    portal: Portal, http: httpx2.AsyncClient, resource: str, method: str
) -> None:
    t = await make_tenant(portal, http)
    path, stale, current = await stale_and_current(t, resource)
    headers = [("If-Match", stale), ("If-Match", 'W/"999"')]
    response = await write(t, method, path, "Too late", headers)
    assert response.status_code == 412, response.text
    after = await t.get(path)
    assert (after.headers["etag"], after.json()["displayName"]) == (current, "Once")
