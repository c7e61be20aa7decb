"""Bad input: every malformed, mistyped or hostile request is a clear SCIM 4xx and changes nothing.

A rejection is a 4xx with the `urn:ietf:params:scim:api:messages:2.0:Error` schema, `status` as a
string and a `detail` that names what is wrong. After each one the tenant's state is read back,
through SCIM and straight from the tables, and must be exactly what it was before the request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enlist.lms.store.tables import departments, group_members, groups, user_emails, users
from tests.helpers import ENTERPRISE, GROUP, PATCH_OP, SCIM, USER, ScimTenant, make_tenant

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx2

    from enlist.lms.api.runtime import Portal

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
CUSTOM = "urn:example:params:scim:schemas:extension:Custom:1.0:User"
UNKNOWN_ID = "5f0c3a8e-9b0e-4a4f-8c1e-2d6f3b7a9c11"


# --- how a rejection looks, and what "nothing changed" means -------------------------------------


def assert_scim_error(
    response: httpx2.Response, status: int, *words: str, scim_type: str | None = None
) -> dict[str, Any]:
    """A SCIM error body with `status` (a string) and a `detail` containing every word in `words`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(SCIM)
    body = response.json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    assert isinstance(body["detail"], str)
    assert body["detail"].strip()
    for word in words:
        assert word.lower() in body["detail"].lower(), body["detail"]
    if scim_type is not None:
        assert body.get("scimType") == scim_type, body
    return dict(body)


async def state(portal: Portal, t: ScimTenant) -> dict[str, Any]:
    """Everything a request could change: the SCIM view of the tenant and its rows in every table."""
    scim: dict[str, Any] = {}
    for endpoint in ("/Users", "/Groups"):
        response = await t.get(endpoint, count=1000)
        assert response.status_code == 200, response.text
        scim[endpoint] = response.json()
    rows: dict[str, Any] = {}
    async with portal.db.read() as conn:
        for table in (users, user_emails, groups, group_members, departments):
            query = (
                sa.select(table).where(table.c.tenant_id == t.tenant.id).order_by(*table.primary_key.columns)
            )
            rows[table.name] = [dict(r._mapping) for r in await conn.execute(query)]
    return {"scim": scim, "rows": rows}


async def send(
    t: ScimTenant,
    method: str,
    path: str,
    body: Any = None,
    *,
    content: bytes | None = None,
    **headers: str,
) -> httpx2.Response:
    """A request to the tenant's SCIM root with its token; `content` sends raw bytes instead of JSON."""
    json_body = None if content is not None or method in ("GET", "DELETE") else body
    return await t.http.request(
        method, t.base + path, json=json_body, content=content, headers=t.headers(**headers)
    )


@dataclass
class Seeded:
    """A tenant with one user, Ada, in one group, Staff, and a second user, Bob, in no group."""

    t: ScimTenant
    user: dict[str, Any]
    other: dict[str, Any]
    group: dict[str, Any]

    def fill(self, path: str) -> str:
        return path.format(user=self.user["id"], group=self.group["id"], unknown=UNKNOWN_ID)


@pytest.fixture
async def seeded(portal: Portal, http: httpx2.AsyncClient) -> Seeded:
    t = await make_tenant(portal, http)
    user = await t.create_user(
        "ada@example.com",
        name={"givenName": "Ada", "familyName": "Lovelace"},
        emails=[{"value": "ada@example.com", "type": "work", "primary": True}],
        active=True,
    )
    other = await t.create_user("bob@example.com", active=True)
    group = await t.create_group("Staff", [user["id"]])
    return Seeded(t, user, other, group)


def valid_body(path: str) -> dict[str, Any]:
    """A well-formed body for a write to `path` (so only the thing under test is wrong)."""
    if "/Groups" in path:
        return {"schemas": [GROUP], "displayName": "Renamed"}
    return {"schemas": [USER], "userName": "renamed@example.com"}


def valid_patch() -> dict[str, Any]:
    return {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "displayName", "value": "Renamed"}],
    }


WRITE_TARGETS = [
    pytest.param("POST", "/Users", id="POST-Users"),
    pytest.param("PUT", "/Users/{user}", id="PUT-User"),
    pytest.param("PATCH", "/Users/{user}", id="PATCH-User"),
    pytest.param("POST", "/Groups", id="POST-Groups"),
    pytest.param("PUT", "/Groups/{group}", id="PUT-Group"),
    pytest.param("PATCH", "/Groups/{group}", id="PATCH-Group"),
]


# --- the body is not the JSON object the operation needs -----------------------------------------


@pytest.mark.parametrize(("method", "path"), WRITE_TARGETS)
async def test_malformed_json_is_400_invalid_syntax_and_changes_nothing(
    portal: Portal, seeded: Seeded, method: str, path: str
) -> None:
    before = await state(portal, seeded.t)
    response = await send(seeded.t, method, seeded.fill(path), content=b'{"userName": "ada@example.com",')
    assert_scim_error(response, 400, "JSON", scim_type="invalidSyntax")
    assert await state(portal, seeded.t) == before


@pytest.mark.parametrize(("method", "path"), WRITE_TARGETS)
@pytest.mark.parametrize(
    "body",
    [
        pytest.param([{"userName": "eve@example.com", "displayName": "Eve"}], id="array"),
        pytest.param("eve@example.com", id="string"),
        pytest.param(42, id="number"),
        pytest.param(None, id="null"),
    ],
)
async def test_json_that_is_not_an_object_is_400_invalid_syntax_and_changes_nothing(
    portal: Portal, seeded: Seeded, method: str, path: str, body: Any
) -> None:
    before = await state(portal, seeded.t)
    response = await send(seeded.t, method, seeded.fill(path), content=json.dumps(body).encode())
    assert_scim_error(response, 400, "JSON object", scim_type="invalidSyntax")
    assert await state(portal, seeded.t) == before


@pytest.mark.parametrize(("method", "path"), WRITE_TARGETS)
async def test_an_empty_body_is_400_and_changes_nothing(
    portal: Portal, seeded: Seeded, method: str, path: str
) -> None:
    before = await state(portal, seeded.t)
    response = await send(seeded.t, method, seeded.fill(path), content=b"")
    assert_scim_error(response, 400, "body", scim_type="invalidSyntax")
    assert await state(portal, seeded.t) == before


# --- wrong types and missing attributes ----------------------------------------------------------

WRONG_TYPES = [
    pytest.param({"userName": 5}, "userName", id="userName-number"),
    pytest.param({"userName": "eve@example.com", "name": "x"}, "name", id="name-string"),
    pytest.param({"userName": "eve@example.com", "emails": "x"}, "emails", id="emails-string"),
    pytest.param({"userName": "eve@example.com", "active": "maybe"}, "active", id="active-maybe"),
    pytest.param(
        {"userName": "eve@example.com", "name": {"givenName": 7}}, "givenName", id="givenName-number"
    ),
    pytest.param(
        {"userName": "eve@example.com", "emails": [{"value": True}]}, "emails", id="email-value-bool"
    ),
]


@pytest.mark.parametrize(("attrs", "named"), WRONG_TYPES)
async def test_create_with_a_wrongly_typed_attribute_is_400_naming_it_and_creates_nothing(
    portal: Portal, seeded: Seeded, attrs: dict[str, Any], named: str
) -> None:
    before = await state(portal, seeded.t)
    response = await seeded.t.post("/Users", {"schemas": [USER], **attrs})
    assert_scim_error(response, 400, named, scim_type="invalidValue")
    assert await state(portal, seeded.t) == before
    assert await seeded.t.find_user("eve@example.com") is None


@pytest.mark.parametrize(("attrs", "named"), WRONG_TYPES)
async def test_replace_with_a_wrongly_typed_attribute_is_400_naming_it_and_leaves_the_user_as_it_was(
    portal: Portal, seeded: Seeded, attrs: dict[str, Any], named: str
) -> None:
    before = await state(portal, seeded.t)
    response = await seeded.t.put(f"/Users/{seeded.user['id']}", {"schemas": [USER], **attrs})
    assert_scim_error(response, 400, named, scim_type="invalidValue")
    assert await state(portal, seeded.t) == before


@pytest.mark.parametrize(
    "attrs",
    [
        pytest.param({"displayName": "Eve"}, id="absent"),
        pytest.param({"userName": "", "displayName": "Eve"}, id="empty"),
        pytest.param({"userName": None, "displayName": "Eve"}, id="null"),
    ],
)
async def test_create_without_user_name_is_400_naming_user_name_and_creates_nothing(
    portal: Portal, seeded: Seeded, attrs: dict[str, Any]
) -> None:
    before = await state(portal, seeded.t)
    response = await seeded.t.post("/Users", {"schemas": [USER], **attrs})
    assert_scim_error(response, 400, "userName", scim_type="invalidValue")
    assert await state(portal, seeded.t) == before


async def test_replace_without_user_name_is_400_and_leaves_the_user_as_it_was(
    portal: Portal, seeded: Seeded
) -> None:
    before = await state(portal, seeded.t)
    response = await seeded.t.put(f"/Users/{seeded.user['id']}", {"schemas": [USER], "displayName": "Ada"})
    assert_scim_error(response, 400, "userName", scim_type="invalidValue")
    assert await state(portal, seeded.t) == before


async def test_group_without_display_name_is_400_naming_display_name_and_creates_nothing(
    portal: Portal, seeded: Seeded
) -> None:
    before = await state(portal, seeded.t)
    response = await seeded.t.post("/Groups", {"schemas": [GROUP], "members": [{"value": seeded.user["id"]}]})
    assert_scim_error(response, 400, "displayName", scim_type="invalidValue")
    assert await state(portal, seeded.t) == before


# --- size limit and content type -----------------------------------------------------------------


def oversized_body(limit: int) -> bytes:
    """A well-formed user one byte over `limit`."""
    head = b'{"userName": "big@example.com", "displayName": "'
    tail = b'"}'
    return head + b"x" * (limit + 1 - len(head) - len(tail)) + tail


async def test_a_body_over_max_body_bytes_is_413_naming_the_limit_and_creates_nothing(
    portal: Portal, seeded: Seeded
) -> None:
    limit = portal.settings.max_body_bytes
    body = oversized_body(limit)
    assert len(body) == limit + 1
    before = await state(portal, seeded.t)
    response = await send(seeded.t, "POST", "/Users", content=body)
    assert_scim_error(response, 413, str(limit))
    assert await state(portal, seeded.t) == before


async def test_a_body_over_max_body_bytes_without_content_length_is_413_too(
    portal: Portal, seeded: Seeded
) -> None:
    limit = portal.settings.max_body_bytes
    body = oversized_body(limit)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 65_536):
            yield body[start : start + 65_536]

    before = await state(portal, seeded.t)
    request = seeded.t.http.build_request(
        "POST", seeded.t.base + "/Users", content=chunks(), headers=seeded.t.headers()
    )
    assert "content-length" not in request.headers
    response = await seeded.t.http.send(request)
    assert_scim_error(response, 413, str(limit))
    assert await state(portal, seeded.t) == before


async def test_a_body_of_exactly_max_body_bytes_passes_the_size_check(portal: Portal, seeded: Seeded) -> None:
    limit = portal.settings.max_body_bytes
    body = oversized_body(limit - 1)  # one byte over limit - 1: exactly the limit
    assert len(body) == limit
    before = await state(portal, seeded.t)
    response = await send(seeded.t, "POST", "/Users", content=body)
    # The body fits; its 1 MiB displayName is then over the string bound: a 400, not a 413.
    assert_scim_error(response, 400, "displayName", scim_type="invalidValue")
    assert await state(portal, seeded.t) == before


@pytest.mark.parametrize(("method", "path"), WRITE_TARGETS)
@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
async def test_a_body_that_is_not_json_by_content_type_is_415_naming_it_and_changes_nothing(
    portal: Portal, seeded: Seeded, method: str, path: str, content_type: str
) -> None:
    before = await state(portal, seeded.t)
    body = valid_patch() if method == "PATCH" else valid_body(path)
    response = await send(
        seeded.t,
        method,
        seeded.fill(path),
        content=json.dumps(body).encode(),
        **{"Content-Type": content_type},
    )
    assert_scim_error(response, 415, content_type)
    assert await state(portal, seeded.t) == before


# --- unknown ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", ["Users", "Groups"])
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
async def test_an_unknown_id_is_404_naming_it_and_changes_nothing(
    portal: Portal, seeded: Seeded, resource: str, method: str
) -> None:
    path = f"/{resource}/{UNKNOWN_ID}"
    body = valid_patch() if method == "PATCH" else valid_body(path)
    before = await state(portal, seeded.t)
    response = await send(seeded.t, method, path, body)
    assert_scim_error(response, 404, UNKNOWN_ID)
    assert await state(portal, seeded.t) == before


# --- PATCH requests that are not valid PatchOps --------------------------------------------------

BAD_PATCHES = [
    pytest.param({"schemas": [PATCH_OP]}, 400, "Operations", "invalidSyntax", id="no-Operations"),
    pytest.param(
        {"schemas": [PATCH_OP], "Operations": []}, 400, "Operations", "invalidSyntax", id="empty-Operations"
    ),
    pytest.param(
        {"schemas": [PATCH_OP], "Operations": {"op": "replace", "path": "displayName", "value": "x"}},
        400,
        "Operations",
        "invalidSyntax",
        id="Operations-not-a-list",
    ),
    pytest.param(
        {"schemas": [PATCH_OP], "Operations": [{"op": "frobnicate", "path": "displayName", "value": "x"}]},
        400,
        "op",
        "invalidSyntax",
        id="unknown-op",
    ),
    pytest.param(
        {"schemas": [PATCH_OP], "Operations": [{"path": "displayName", "value": "x"}]},
        400,
        "op",
        "invalidSyntax",
        id="missing-op",
    ),
    pytest.param(
        {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": 'emails[type eq "work"', "value": "x"}],
        },
        400,
        "path",
        "invalidPath",
        id="unclosed-bracket-path",
    ),
    pytest.param(
        {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "favouriteColour", "value": "x"}]},
        400,
        "favouriteColour",
        "invalidPath",
        id="unknown-attribute-path",
    ),
    pytest.param(
        {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": 7, "value": "x"}]},
        400,
        "path",
        "invalidPath",
        id="path-not-a-string",
    ),
    pytest.param(
        {"schemas": [PATCH_OP], "Operations": [{"op": "remove"}]},
        400,
        "path",
        "invalidPath",
        id="remove-without-path",
    ),
]


@pytest.mark.parametrize(("body", "status", "named", "scim_type"), BAD_PATCHES)
async def test_an_invalid_user_patch_is_a_clear_400_and_leaves_the_user_as_it_was(
    portal: Portal, seeded: Seeded, body: dict[str, Any], status: int, named: str, scim_type: str
) -> None:
    before = await state(portal, seeded.t)
    response = await send(seeded.t, "PATCH", f"/Users/{seeded.user['id']}", body)
    assert_scim_error(response, status, named, scim_type=scim_type)
    assert await state(portal, seeded.t) == before


@pytest.mark.parametrize(("body", "status", "named", "scim_type"), BAD_PATCHES)
async def test_an_invalid_group_patch_is_a_clear_400_and_leaves_the_group_and_its_members_as_they_were(
    portal: Portal, seeded: Seeded, body: dict[str, Any], status: int, named: str, scim_type: str
) -> None:
    before = await state(portal, seeded.t)
    response = await send(seeded.t, "PATCH", f"/Groups/{seeded.group['id']}", body)
    assert_scim_error(response, status, named, scim_type=scim_type)
    assert await state(portal, seeded.t) == before
    assert await seeded.t.members(seeded.group["id"]) == {seeded.user["id"]}


async def test_a_patch_whose_last_operation_fails_applies_none_of_its_operations(
    portal: Portal, seeded: Seeded
) -> None:
    before = await state(portal, seeded.t)
    operations = [
        {"op": "replace", "path": "displayName", "value": "Countess"},
        {"op": "replace", "path": "active", "value": False},
        {"op": "replace", "path": "id", "value": UNKNOWN_ID},
    ]
    response = await seeded.t.patch(f"/Users/{seeded.user['id']}", operations)
    assert_scim_error(response, 400, "id", scim_type="mutability")
    assert await state(portal, seeded.t) == before


# --- group members that are not users of the tenant ----------------------------------------------


async def test_a_new_group_with_a_member_that_is_not_a_user_is_400_naming_it_and_is_not_created(
    portal: Portal, seeded: Seeded
) -> None:
    before = await state(portal, seeded.t)
    body = {
        "schemas": [GROUP],
        "displayName": "Ghosts",
        "members": [{"value": seeded.other["id"]}, {"value": UNKNOWN_ID}],
    }
    response = await seeded.t.post("/Groups", body)
    assert_scim_error(response, 400, UNKNOWN_ID, scim_type="invalidValue")
    assert await state(portal, seeded.t) == before
    listed = await seeded.t.get("/Groups", filter='displayName eq "Ghosts"')
    assert listed.json()["totalResults"] == 0


async def test_adding_a_member_that_is_not_a_user_is_400_and_adds_no_member_at_all(
    portal: Portal, seeded: Seeded
) -> None:
    before = await state(portal, seeded.t)
    operations = [
        {"op": "add", "path": "members", "value": [{"value": seeded.other["id"]}, {"value": UNKNOWN_ID}]}
    ]
    response = await seeded.t.patch(f"/Groups/{seeded.group['id']}", operations)
    assert_scim_error(response, 400, UNKNOWN_ID, scim_type="invalidValue")
    assert await state(portal, seeded.t) == before
    assert await seeded.t.members(seeded.group["id"]) == {seeded.user["id"]}


async def test_replacing_a_group_with_a_member_that_is_not_a_user_is_400_and_keeps_its_members(
    portal: Portal, seeded: Seeded
) -> None:
    before = await state(portal, seeded.t)
    body = {"schemas": [GROUP], "displayName": "Staff", "members": [{"value": UNKNOWN_ID}]}
    response = await seeded.t.put(f"/Groups/{seeded.group['id']}", body)
    assert_scim_error(response, 400, UNKNOWN_ID, scim_type="invalidValue")
    assert await state(portal, seeded.t) == before
    assert await seeded.t.members(seeded.group["id"]) == {seeded.user["id"]}


async def test_a_group_id_as_a_member_is_400_and_adds_nothing(portal: Portal, seeded: Seeded) -> None:
    before = await state(portal, seeded.t)
    operations = [{"op": "add", "path": "members", "value": [{"value": seeded.group["id"]}]}]
    response = await seeded.t.patch(f"/Groups/{seeded.group['id']}", operations)
    assert_scim_error(response, 400, seeded.group["id"], scim_type="invalidValue")
    assert await state(portal, seeded.t) == before


# --- filters -------------------------------------------------------------------------------------

BAD_FILTERS = [
    pytest.param('password eq "x"', "password", id="unknown-attribute-password"),
    pytest.param('favouriteColour eq "blue"', "favouriteColour", id="unknown-attribute"),
    pytest.param("userName eq", "", id="missing-value"),
    pytest.param('(userName eq "a"', "", id="unclosed-parenthesis"),
    pytest.param('userName xx "a"', "", id="unknown-operator"),
    pytest.param('userName eq "a" and', "", id="dangling-and"),
    pytest.param('userName eq "a', "", id="unterminated-string"),
    pytest.param('userName co "\\"', "", id="escaped-closing-quote"),
    pytest.param('emails[type eq "work"', "", id="unclosed-bracket"),
]

FILTER_ENDPOINTS = [
    pytest.param("GET", "/Users", id="GET-Users"),
    pytest.param("GET", "/Groups", id="GET-Groups"),
    pytest.param("POST", "/Users/.search", id="search-Users"),
    pytest.param("POST", "/Groups/.search", id="search-Groups"),
    pytest.param("POST", "/.search", id="search-root"),
]


@pytest.mark.parametrize(("method", "path"), FILTER_ENDPOINTS)
@pytest.mark.parametrize(("text", "named"), BAD_FILTERS)
async def test_a_bad_filter_is_400_invalid_filter_and_never_an_unfiltered_list(
    seeded: Seeded, method: str, path: str, text: str, named: str
) -> None:
    if method == "GET":
        response = await seeded.t.get(path, filter=text)
    else:
        response = await seeded.t.post(
            path, {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": text}
        )
    body = assert_scim_error(response, 400, named, scim_type="invalidFilter")
    assert "Resources" not in body
    assert "totalResults" not in body


@dataclass
class Tricky:
    t: ScimTenant
    names: list[str]


TRICKY_NAMES = [
    "a%b@example.com",
    "a_b@example.com",
    "axb@example.com",
    "back\\slash@example.com",
    "o'brien@example.com",
    "plain@example.com",
]


@pytest.fixture
async def tricky(portal: Portal, http: httpx2.AsyncClient) -> Tricky:
    t = await make_tenant(portal, http)
    for name in TRICKY_NAMES:
        await t.create_user(name)
    return Tricky(t, TRICKY_NAMES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("userName eq \"a' OR '1'='1\"", set(), id="sql-quote-injection"),
        pytest.param(
            'userName eq "x\\" or userName pr or userName eq \\"y"', set(), id="filter-quote-injection"
        ),
        pytest.param('userName eq "%"', set(), id="eq-percent"),
        pytest.param('userName eq "_"', set(), id="eq-underscore"),
        pytest.param('userName sw "%"', set(), id="sw-percent"),
        pytest.param('userName sw "_"', set(), id="sw-underscore"),
        pytest.param('userName ew "%"', set(), id="ew-percent"),
        pytest.param('userName co "%"', {"a%b@example.com"}, id="co-percent"),
        pytest.param('userName co "_"', {"a_b@example.com"}, id="co-underscore"),
        pytest.param('userName sw "a_"', {"a_b@example.com"}, id="sw-a-underscore"),
        pytest.param('userName sw "a%"', {"a%b@example.com"}, id="sw-a-percent"),
        pytest.param('userName co "\\\\"', {"back\\slash@example.com"}, id="co-backslash"),
        pytest.param('userName co "\'"', {"o'brien@example.com"}, id="co-quote"),
        pytest.param('userName eq "a_b@example.com"', {"a_b@example.com"}, id="eq-underscore-literal"),
    ],
)
async def test_filter_values_match_literally_never_as_sql_or_like_patterns(
    tricky: Tricky, text: str, expected: set[str]
) -> None:
    response = await tricky.t.get("/Users", filter=text)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {r["userName"] for r in body["Resources"]} == expected
    assert body["totalResults"] == len(expected)


# --- If-Match ------------------------------------------------------------------------------------


async def make_stale(seeded: Seeded, resource: str) -> tuple[str, str, str]:
    """Change the resource once; returns its path, the ETag it had before, and the current one."""
    path = f"/Users/{seeded.user['id']}" if resource == "Users" else f"/Groups/{seeded.group['id']}"
    old = (await seeded.t.get(path)).headers["etag"]
    changed = await seeded.t.patch(path, [{"op": "replace", "path": "displayName", "value": "Changed once"}])
    assert changed.status_code in (200, 204), changed.text
    current = (await seeded.t.get(path)).headers["etag"]
    assert current != old
    return path, old, current


def write_body(method: str, resource: str, name: str) -> dict[str, Any] | None:
    if method == "PATCH":
        return {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": "displayName", "value": name}],
        }
    if method == "PUT":
        if resource == "Users":
            return {"schemas": [USER], "userName": "ada@example.com", "displayName": name, "active": True}
        return {"schemas": [GROUP], "displayName": name, "members": []}
    return None


@pytest.mark.parametrize("resource", ["Users", "Groups"])
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_a_stale_if_match_is_412_and_changes_nothing(
    portal: Portal, seeded: Seeded, resource: str, method: str
) -> None:
    path, stale, current = await make_stale(seeded, resource)
    before = await state(portal, seeded.t)
    response = await send(
        seeded.t, method, path, write_body(method, resource, "Too late"), **{"If-Match": stale}
    )
    assert_scim_error(response, 412, current)
    assert await state(portal, seeded.t) == before


@pytest.mark.parametrize("resource", ["Users", "Groups"])
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_the_current_if_match_lets_the_write_through(
    seeded: Seeded, resource: str, method: str
) -> None:
    path, _stale, current = await make_stale(seeded, resource)
    response = await send(
        seeded.t, method, path, write_body(method, resource, "In time"), **{"If-Match": current}
    )
    assert response.status_code in (200, 204), response.text
    after = await seeded.t.get(path)
    if method == "DELETE":
        assert after.status_code == 404
    else:
        assert after.json()["displayName"] == "In time"
        assert after.headers["etag"] != current


# --- hostile sizes and shapes --------------------------------------------------------------------


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": "x"}
    for _ in range(depth):
        value = {"a": value}
    return value


HOSTILE_USERS = [
    pytest.param({"userName": "deep@example.com", CUSTOM: nested(20)}, "deeper", id="nested-20-levels"),
    pytest.param(
        {"userName": "many@example.com", "emails": [{"value": f"e{i}@example.com"} for i in range(1001)]},
        "1000",
        id="1001-emails",
    ),
    pytest.param(
        {"userName": "long@example.com", "displayName": "x" * 70_000}, "longer", id="70k-displayName"
    ),
    pytest.param({"userName": "u" * 70_000}, "longer", id="70k-userName"),
    pytest.param(
        {"userName": "keys@example.com", CUSTOM: {f"k{i}": [i] * 1001 for i in range(2)}},
        "1000",
        id="custom-1001-list",
    ),
]


@pytest.mark.parametrize(("body", "named"), HOSTILE_USERS)
async def test_a_hostile_user_body_is_400_and_creates_nothing(
    portal: Portal, seeded: Seeded, body: dict[str, Any], named: str
) -> None:
    before = await state(portal, seeded.t)
    response = await seeded.t.post("/Users", {"schemas": [USER], **body})
    assert_scim_error(response, 400, named)
    assert await state(portal, seeded.t) == before


async def test_json_nested_ten_thousand_levels_deep_is_400_and_creates_nothing(
    portal: Portal, seeded: Seeded
) -> None:
    depth = 10_000
    raw = b'{"userName": "deep@example.com", "displayName": ' + b"[" * depth + b"]" * depth + b"}"
    before = await state(portal, seeded.t)
    response = await send(seeded.t, "POST", "/Users", content=raw)
    assert_scim_error(response, 400)
    assert await state(portal, seeded.t) == before


async def test_a_group_with_more_than_fifty_thousand_members_is_400_and_is_not_created(
    portal: Portal, seeded: Seeded
) -> None:
    before = await state(portal, seeded.t)
    members = [seeded.user["id"]] * 50_001
    response = await seeded.t.post(
        "/Groups", {"schemas": [GROUP], "displayName": "Crowd", "members": members}
    )
    assert_scim_error(response, 400, "50000")
    assert await state(portal, seeded.t) == before


async def test_a_patch_with_more_than_fifty_thousand_operations_is_400_and_changes_nothing(
    portal: Portal, seeded: Seeded
) -> None:
    before = await state(portal, seeded.t)
    operations = [{"op": "add", "path": "members", "value": seeded.user["id"]}] * 50_001
    response = await seeded.t.patch(f"/Groups/{seeded.group['id']}", operations)
    assert_scim_error(response, 400, "50000", scim_type="invalidSyntax")
    assert await state(portal, seeded.t) == before


async def test_a_patch_value_nested_too_deep_is_400_and_changes_nothing(
    portal: Portal, seeded: Seeded
) -> None:
    before = await state(portal, seeded.t)
    response = await seeded.t.patch(
        f"/Users/{seeded.user['id']}", [{"op": "add", "path": CUSTOM, "value": nested(20)}]
    )
    assert_scim_error(response, 400, "deeper")
    assert await state(portal, seeded.t) == before


async def test_a_filter_longer_than_the_bound_is_400_invalid_filter(seeded: Seeded) -> None:
    text = " or ".join(f'userName eq "u{i}@example.com"' for i in range(300))
    response = await seeded.t.get("/Users", filter=text)
    body = assert_scim_error(response, 400, scim_type="invalidFilter")
    assert "Resources" not in body


@pytest.mark.parametrize("attribute", ["userName", "displayName"])
async def test_a_nul_character_in_a_value_is_400_naming_the_attribute_never_a_server_error(
    portal: Portal, seeded: Seeded, attribute: str
) -> None:
    body = {"userName": "nul@example.com", attribute: "nul\u0000byte"}
    before = await state(portal, seeded.t)
    response = await send(seeded.t, "POST", "/Users", content=json.dumps(body).encode())
    assert_scim_error(response, 400, attribute)
    assert await state(portal, seeded.t) == before


# --- no input at all gets a 5xx ------------------------------------------------------------------

JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
USER_KEYS = st.sampled_from(
    [
        "userName",
        "name",
        "emails",
        "active",
        "displayName",
        "externalId",
        "phoneNumbers",
        "roles",
        "title",
        "schemas",
        "meta",
        "id",
        "groups",
        "password",
        ENTERPRISE,
        f"{ENTERPRISE}:manager",
        CUSTOM,
        f"{CUSTOM}:attr",
    ]
) | st.text(max_size=12)
USER_BODIES = st.dictionaries(USER_KEYS, JSON_VALUES, max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=USER_BODIES)
async def test_any_json_object_posted_to_users_gets_an_answer_below_500(
    seeded: Seeded, body: dict[str, Any]
) -> None:
    response = await seeded.t.post("/Users", body)
    assert response.status_code < 500, (body, response.text)
    if response.status_code >= 400:
        assert_scim_error(response, response.status_code)
    else:
        assert response.status_code == 201
        created = response.json()
        assert (await seeded.t.get(f"/Users/{created['id']}")).status_code == 200
