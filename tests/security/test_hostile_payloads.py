"""Hostile payloads at the SCIM API: each is a clear 4xx with a SCIM error body, never a 5xx, and
a read-back proves nothing changed; text that is stored is returned verbatim and inert.

Complements `tests/integration/test_bad_input.py` (malformed JSON, wrong types, size bounds,
filters with LIKE wildcards): here deep nesting of both brackets, huge strings and arrays,
invalid UTF-8, NUL bytes, content types, duplicate keys, numbers out of range, injection strings
in every string field and filter, and path traversal in ids.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from enlist.lms.api.runtime import Portal
from tests.helpers import GROUP, USER
from tests.integration import test_bad_input
from tests.integration.test_bad_input import Seeded, assert_scim_error, send, state

seeded = test_bad_input.seeded  # the fixture: Ada in group Staff, and Bob

INJECTIONS = [
    "' OR 1=1 --",
    '"; DROP TABLE users; --',
    "%",
    "_",
    "a%_\\",
    "{{7*7}}",
    "${7*7}",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "\u202eevil",
]
USER_STRING_FIELDS = ["displayName", "nickName", "title", "userType", "locale", "externalId"]
NAME_FIELDS = ["givenName", "familyName", "formatted"]


# --- deep nesting, huge strings and arrays, number overflow ------------------------------------


@pytest.mark.parametrize("opening", ["[", "{"])
@pytest.mark.parametrize("method_path", ["POST /Users", "PATCH /Users/{user}", "POST /Users/.search"])
async def test_ten_thousand_levels_of_nesting_are_a_400(
    portal: Portal, seeded: Seeded, opening: str, method_path: str
) -> None:
    method, path = method_path.split()
    depth = 10_000
    inner = opening * depth if opening == "[" else '{"a":' * depth
    closing = "]" * depth if opening == "[" else "}" * depth
    raw = f'{{"userName": "deep@example.com", "displayName": {inner}{closing}}}'.encode()
    before = await state(portal, seeded.t)
    response = await send(seeded.t, method, seeded.fill(path), content=raw)
    assert_scim_error(response, 400)
    assert await state(portal, seeded.t) == before


async def test_a_one_megabyte_string_inside_the_body_limit_is_a_400_naming_the_field(
    portal: Portal, seeded: Seeded
) -> None:
    limit = portal.settings.max_body_bytes
    text = "x" * (limit - 200)
    before = await state(portal, seeded.t)
    response = await seeded.t.post(
        "/Users", {"schemas": [USER], "userName": "big@example.com", "title": text}
    )
    assert_scim_error(response, 400, "title", scim_type="invalidValue")
    assert await state(portal, seeded.t) == before


async def test_a_body_twice_the_limit_is_a_413(portal: Portal, seeded: Seeded) -> None:
    limit = portal.settings.max_body_bytes
    body = json.dumps({"userName": "big@example.com", "title": "x" * 2 * limit}).encode()
    before = await state(portal, seeded.t)
    assert_scim_error(await send(seeded.t, "POST", "/Users", content=body), 413, str(limit))
    assert await state(portal, seeded.t) == before


@pytest.mark.parametrize("field", ["emails", "phoneNumbers", "roles", "entitlements"])
async def test_a_huge_array_is_a_400_naming_the_field(portal: Portal, seeded: Seeded, field: str) -> None:
    items = [{"value": "v"}] * 50_000  # about 800 kB: inside the body limit
    before = await state(portal, seeded.t)
    response = await seeded.t.post("/Users", {"schemas": [USER], "userName": "arr@example.com", field: items})
    assert_scim_error(response, 400, field)
    assert await state(portal, seeded.t) == before


@pytest.mark.parametrize("number", [b"1e999", b"-1e999", b"1" + b"0" * 5000, b"NaN", b"Infinity"])
@pytest.mark.parametrize("where", ["active", "displayName", "startIndex"])
async def test_numbers_out_of_range_are_a_400(
    portal: Portal, seeded: Seeded, number: bytes, where: str
) -> None:
    if where == "startIndex":
        path, raw = "/Users/.search", b'{"startIndex": ' + number + b"}"
    else:
        path, raw = "/Users", b'{"userName": "num@example.com", "' + where.encode() + b'": ' + number + b"}"
    before = await state(portal, seeded.t)
    assert_scim_error(await send(seeded.t, "POST", path, content=raw), 400)
    assert await state(portal, seeded.t) == before


# --- bytes that are not what they claim ---------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"userName": "\xff\xfe@example.com"}', id="invalid-utf8"),
        pytest.param(b'{"userName": "\xed\xa0\x80@example.com"}', id="utf8-surrogate"),
        pytest.param(b'{"userName": "\xc0\xafx@example.com"}', id="overlong-utf8"),
        pytest.param(b'{"userName": "a\x00b@example.com"}', id="raw-nul-in-string"),
        pytest.param(b'{"userName": "a\\u0000b@example.com"}', id="escaped-nul"),
        pytest.param(b'{"userName": "\\ud800@example.com"}', id="lone-surrogate-escape"),
        pytest.param(b"\x00" * 64, id="only-nul-bytes"),
        pytest.param(b"\xef\xbb\xbf" + b'{"userName": "bom@example.com"}', id="utf8-bom"),
        pytest.param('{"userName": "u16@example.com"}'.encode("utf-16"), id="utf16"),
    ],
)
async def test_bytes_that_are_not_clean_utf8_json_are_a_400(
    portal: Portal, seeded: Seeded, raw: bytes
) -> None:
    before = await state(portal, seeded.t)
    assert_scim_error(await send(seeded.t, "POST", "/Users", content=raw), 400)
    assert await state(portal, seeded.t) == before


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("text/html", 415),
        ("multipart/form-data; boundary=x", 415),
        ("application/octet-stream", 415),
        ("image/svg+xml", 415),
        ("application/scim+json; charset=utf-8", 201),
        ("application/json", 201),
    ],
)
async def test_content_types_other_than_json_are_a_415_naming_them(
    portal: Portal, seeded: Seeded, content_type: str, status: int
) -> None:
    body = json.dumps({"schemas": [USER], "userName": "ct@example.com"}).encode()
    before = await state(portal, seeded.t)
    response = await send(seeded.t, "POST", "/Users", content=body, **{"Content-Type": content_type})
    if status == 201:
        assert response.status_code == 201, response.text
        return
    assert_scim_error(response, 415, content_type.split(";", maxsplit=1)[0])
    assert await state(portal, seeded.t) == before


async def test_a_body_without_a_content_type_is_read_as_json(seeded: Seeded) -> None:
    """RFC 7644 asks for application/scim+json; a client that sends none is given the benefit."""
    body = json.dumps({"schemas": [USER], "userName": "noct@example.com"}).encode()
    headers = {"Authorization": f"Bearer {seeded.t.token}"}
    response = await seeded.t.http.post(seeded.t.base + "/Users", content=body, headers=headers)
    assert response.status_code == 201, response.text


async def test_duplicate_keys_take_the_last_value_as_every_json_parser_here_does(seeded: Seeded) -> None:
    raw = b'{"userName": "first@example.com", "userName": "second@example.com", "active": true}'
    response = await send(seeded.t, "POST", "/Users", content=raw)
    assert response.status_code == 201, response.text
    assert response.json()["userName"] == "second@example.com"
    assert await seeded.t.find_user("first@example.com") is None


# --- injection strings: stored verbatim and inert, or refused -----------------------------------


@pytest.mark.parametrize("text", INJECTIONS)
async def test_injection_strings_in_every_string_field_are_stored_and_returned_verbatim(
    seeded: Seeded, text: str
) -> None:
    user_name = f"{text}@example.com"
    body: dict[str, Any] = {
        "schemas": [USER],
        "userName": user_name,
        "name": dict.fromkeys(NAME_FIELDS, text),
        "emails": [{"value": user_name, "type": "work", "primary": True}],
        **dict.fromkeys(USER_STRING_FIELDS, text),
    }
    created = await seeded.t.post("/Users", body)
    assert created.status_code == 201, created.text
    read = (await seeded.t.get(f"/Users/{created.json()['id']}")).json()
    assert read["userName"] == user_name
    for field in USER_STRING_FIELDS:
        assert read[field] == text, field
    for field in NAME_FIELDS:
        assert read["name"][field] == text, field
    found = await seeded.t.get("/Users", filter=f'userName eq "{json.dumps(user_name)[1:-1]}"')
    assert [r["id"] for r in found.json()["Resources"]] == [read["id"]]
    group = await seeded.t.post("/Groups", {"schemas": [GROUP], "displayName": text})
    assert group.status_code == 201, group.text
    assert (await seeded.t.get(f"/Groups/{group.json()['id']}")).json()["displayName"] == text
    # Nothing else appeared or vanished: only the two resources made here are new.
    listed = await seeded.t.get("/Users", count=1000)
    assert listed.json()["totalResults"] == 3


@pytest.mark.parametrize("text", INJECTIONS)
@pytest.mark.parametrize("op", ["eq", "co", "sw", "ew"])
@pytest.mark.parametrize("attribute", ["userName", "displayName", "externalId", "emails.value"])
async def test_injection_strings_in_filters_match_only_literally(
    seeded: Seeded, text: str, op: str, attribute: str
) -> None:
    quoted = json.dumps(text)
    response = await seeded.t.get("/Users", filter=f"{attribute} {op} {quoted}")
    assert response.status_code == 200, response.text
    assert response.json()["totalResults"] == 0  # no seeded user holds any of these strings


# --- ids that try to leave their collection ---------------------------------------------------


@pytest.mark.parametrize(
    "hostile_id",
    [  # raw ".." segments are resolved by the client before sending; these reach the server
        "..%2FGroups",
        "%2e%2e%2f%2e%2e%2fadmin",
        "..\\..\\windows",
        "' OR 1=1 --",
        "{{7*7}}",
        "%00",
        "x" * 5000,
    ],
)
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
async def test_path_traversal_and_injection_in_ids_are_a_404_or_400_and_change_nothing(
    portal: Portal, seeded: Seeded, hostile_id: str, method: str
) -> None:
    body: Any = None
    if method == "PUT":
        body = {"schemas": [USER], "userName": "renamed@example.com"}
    elif method == "PATCH":
        body = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "displayName", "value": "x"}],
        }
    before = await state(portal, seeded.t)
    response = await send(seeded.t, method, f"/Users/{hostile_id}", body)
    assert response.status_code in (400, 404, 405), response.text
    assert_scim_error(response, response.status_code)
    assert await state(portal, seeded.t) == before


# --- known server bugs, tracked (strict: these start failing when the bug is fixed) -------------


async def test_a_search_attribute_list_holding_null_is_a_400(seeded: Seeded) -> None:
    response = await seeded.t.post("/Users/.search", {"excludedAttributes": [None]})
    assert_scim_error(response, 400, "excludedAttributes")


async def test_a_search_attribute_list_that_is_an_object_is_a_400(seeded: Seeded) -> None:
    response = await seeded.t.post("/Users/.search", {"attributes": {}})
    assert_scim_error(response, 400, "attributes")


async def test_a_line_break_in_a_schema_id_is_a_scim_404(seeded: Seeded) -> None:
    response = await seeded.t.get("/Schemas/a%0Ab")
    assert_scim_error(response, 404)
