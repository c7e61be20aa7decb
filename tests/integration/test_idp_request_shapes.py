"""The requests Okta (both app styles), authentik and OneLogin really send, replayed on both databases.

Shapes are from okta-and-ldap.md Part 1 and scim-ecosystem.md: Okta's catalog apps ("SCIM 2.0
Test App", OIN templates) PATCH users path-less and PATCH groups, echoing the group's `id` in every
rename; Okta's custom apps (App Integration Wizard) PUT everything, including a group's whole
member list; authentik echoes `id`, `schemas`, `externalId` and `meta` in every path-less value
and sends one operation per member; OneLogin fills a JSON template (strings for booleans, `"id":
null`) and PUTs it. Each case sends the shape to a tenant holding users Ada and Bob and the group
Engineering (Ada), and checks the answer and the state after it. docs/reference/scim-conformance.md
lists them with their results.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from enlist.lms.api.runtime import Portal
from tests.helpers import ENTERPRISE, GROUP, PATCH_OP, USER, ScimTenant, make_tenant


@dataclass
class Directory:
    t: ScimTenant
    ada: dict[str, Any]
    bob: dict[str, Any]
    group: dict[str, Any]

    async def send(self, method: str, path: str, body: Any) -> httpx2.Response:
        headers = {**self.t.headers(), "User-Agent": "replayed IdP client"}
        return await self.t.http.request(method, self.t.base + path, json=body, headers=headers)

    async def patch(self, path: str, *operations: dict[str, Any]) -> httpx2.Response:
        return await self.send("PATCH", path, {"schemas": [PATCH_OP], "Operations": list(operations)})

    async def read(self, path: str) -> dict[str, Any]:
        response = await self.t.get(path)
        assert response.status_code == 200, response.text
        return dict(response.json())

    @property
    def user_path(self) -> str:
        return f"/Users/{self.ada['id']}"

    @property
    def group_path(self) -> str:
        return f"/Groups/{self.group['id']}"


Check = Callable[[Directory], Awaitable[None]]


@dataclass(frozen=True)
class Shape:
    idp: str
    name: str
    check: Check


SHAPES: list[Shape] = []


def shape(idp: str, name: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        SHAPES.append(Shape(idp, name, check))
        return check

    return register


def ok(response: httpx2.Response, *statuses: int) -> None:
    assert response.status_code in (statuses or (200, 204)), response.text


# --- Okta, catalog app (PATCH style) -------------------------------------------------------------


@shape("Okta catalog", "POST /Users with groups [] and a placeholder password")
async def _okta_create(d: Directory) -> None:
    body = {
        "schemas": [USER],
        "userName": "cy@acme.example",
        "name": {"givenName": "Cy", "familyName": "D"},
        "emails": [{"primary": True, "value": "cy@acme.example", "type": "work"}],
        "displayName": "Cy D",
        "locale": "en-US",
        "externalId": "00uCY",
        "groups": [],
        "password": "tmp-Placeholder-1!",
        "active": True,
    }
    r = await d.send("POST", "/Users", body)
    ok(r, 201)
    assert "password" not in r.json()
    assert r.json()["externalId"] == "00uCY"


@shape("Okta catalog", "path-less PATCH deactivate {active: false}")
async def _okta_deactivate(d: Directory) -> None:
    ok(await d.patch(d.user_path, {"op": "replace", "value": {"active": False}}))
    assert (await d.read(d.user_path))["active"] is False


@shape("Okta catalog", "profile change: GET then PUT echoing id, meta, groups")
async def _okta_profile_put(d: Directory) -> None:
    current = await d.read(d.user_path)
    ok(await d.send("PUT", d.user_path, {**current, "displayName": "Ada L."}))
    after = await d.read(d.user_path)
    assert (after["displayName"], after["id"]) == ("Ada L.", d.ada["id"])
    assert [g["value"] for g in after["groups"]] == [d.group["id"]]


@shape("Okta catalog", "group rename: path-less replace with the group's own id")
async def _okta_rename(d: Directory) -> None:
    value = {"id": d.group["id"], "displayName": "Engineering EMEA"}
    ok(await d.patch(d.group_path, {"op": "replace", "value": value}))
    assert (await d.read(d.group_path))["displayName"] == "Engineering EMEA"


@shape("Okta catalog", "membership: remove members[value eq] and add with display, one request")
async def _okta_members(d: Directory) -> None:
    ok(
        await d.patch(
            d.group_path,
            {"op": "remove", "path": f'members[value eq "{d.ada["id"]}"]'},
            {
                "op": "add",
                "path": "members",
                "value": [{"value": d.bob["id"], "display": "bob@acme.example"}],
            },
        )
    )
    assert await d.t.members(d.group["id"]) == {d.bob["id"]}


@shape("Okta catalog", "Push Now: replace members with the whole list, then []")
async def _okta_push_now(d: Directory) -> None:
    everyone = [{"value": d.ada["id"], "display": "ada"}, {"value": d.bob["id"], "display": "bob"}]
    ok(await d.patch(d.group_path, {"op": "replace", "path": "members", "value": everyone}))
    assert await d.t.members(d.group["id"]) == {d.ada["id"], d.bob["id"]}
    ok(await d.patch(d.group_path, {"op": "replace", "path": "members", "value": []}))
    assert await d.t.members(d.group["id"]) == set()


@shape("Okta catalog", "path-less replace {members: [...]} with the rename echo")
async def _okta_pathless_members(d: Directory) -> None:
    value = {"id": d.group["id"], "displayName": "Engineering", "members": [{"value": d.bob["id"]}]}
    ok(await d.patch(d.group_path, {"op": "replace", "value": value}))
    assert await d.t.members(d.group["id"]) == {d.bob["id"]}


@shape("Okta catalog", "PUT /Groups echoing id and meta (read back, changed, sent)")
async def _okta_group_put_echo(d: Directory) -> None:
    current = await d.read(d.group_path)
    ok(await d.send("PUT", d.group_path, {**current, "displayName": "Eng"}))
    assert (await d.read(d.group_path))["displayName"] == "Eng"


# --- Okta, custom app (App Integration Wizard: PUT style) ---------------------------------------


@shape("Okta custom app", "deactivate: PUT the whole user with active false")
async def _aiw_deactivate(d: Directory) -> None:
    current = await d.read(d.user_path)
    ok(await d.send("PUT", d.user_path, {**current, "active": False}))
    assert (await d.read(d.user_path))["active"] is False


@shape("Okta custom app", "membership change: PUT the group with every member")
async def _aiw_group_put(d: Directory) -> None:
    body = {
        "schemas": [GROUP],
        "id": d.group["id"],
        "displayName": "Engineering",
        "members": [{"value": d.ada["id"], "display": "ada"}, {"value": d.bob["id"], "display": "bob"}],
    }
    ok(await d.send("PUT", d.group_path, body))
    assert await d.t.members(d.group["id"]) == {d.ada["id"], d.bob["id"]}


# --- authentik ------------------------------------------------------------------------------------


@shape("authentik", "group change: path-less replace echoing id, schemas, externalId, meta")
async def _authentik_group(d: Directory) -> None:
    value = {
        "id": d.group["id"],
        "schemas": [GROUP],
        "externalId": "ak-group-1",
        "displayName": "Engineering (ak)",
        "meta": {"resourceType": "Group"},
    }
    ok(await d.patch(d.group_path, {"op": "replace", "value": value}))
    after = await d.read(d.group_path)
    assert (after["displayName"], after["externalId"]) == ("Engineering (ak)", "ak-group-1")


@shape("authentik", "user change: path-less replace echoing id, schemas, externalId, meta")
async def _authentik_user(d: Directory) -> None:
    value = {
        "id": d.ada["id"],
        "schemas": [USER],
        "externalId": "ak-user-1",
        "displayName": "Ada (ak)",
        "meta": {"resourceType": "User", "version": 'W/"1"'},
    }
    ok(await d.patch(d.user_path, {"op": "replace", "value": value}))
    assert (await d.read(d.user_path))["displayName"] == "Ada (ak)"


@shape("authentik", "membership: one add operation per member, all in one request")
async def _authentik_adds(d: Directory) -> None:
    operations = [{"op": "add", "path": "members", "value": [{"value": u["id"]}]} for u in (d.ada, d.bob)]
    ok(await d.patch(d.group_path, *operations))
    assert await d.t.members(d.group["id"]) == {d.ada["id"], d.bob["id"]}
    ok(await d.patch(d.group_path, {"op": "remove", "path": "members", "value": [{"value": d.ada["id"]}]}))
    assert await d.t.members(d.group["id"]) == {d.bob["id"]}


@shape("authentik", "a different id in the value is refused (mutability)")
async def _authentik_other_id(d: Directory) -> None:
    r = await d.patch(d.group_path, {"op": "replace", "value": {"id": d.bob["id"], "displayName": "X"}})
    assert r.status_code == 400
    assert r.json()["scimType"] == "mutability"
    assert (await d.read(d.group_path))["displayName"] == "Engineering"


# --- OneLogin ---------------------------------------------------------------------------------


def onelogin_template(user_name: str, active: str) -> dict[str, Any]:
    """OneLogin's SCIM v2 Enterprise template, filled: booleans as strings, `"id": null`."""
    return {
        "schemas": [USER, ENTERPRISE],
        "id": None,
        "userName": user_name,
        "name": {"givenName": "Eve", "familyName": "F"},
        "emails": [{"value": user_name, "type": "work", "primary": "true"}],
        "active": active,
        ENTERPRISE: {"department": "Sales"},
    }


@shape("OneLogin", "POST from the JSON template (active as a string, id null)")
async def _onelogin_create(d: Directory) -> None:
    r = await d.send("POST", "/Users", onelogin_template("eve@acme.example", "true"))
    ok(r, 201)
    assert r.json()["active"] is True


@shape("OneLogin", "suspend: PUT the template with active 'false'")
async def _onelogin_suspend(d: Directory) -> None:
    ok(await d.send("PUT", d.user_path, onelogin_template("ada@acme.example", "false")))
    assert (await d.read(d.user_path))["active"] is False


@shape("OneLogin", "delete: DELETE /Users/{id}")
async def _onelogin_delete(d: Directory) -> None:
    ok(await d.send("DELETE", d.user_path, None), 204)
    assert (await d.t.get(d.user_path)).status_code == 404


@shape("OneLogin", "group membership: add and remove with a value list")
async def _onelogin_members(d: Directory) -> None:
    ok(await d.patch(d.group_path, {"op": "add", "path": "members", "value": [{"value": d.bob["id"]}]}))
    ok(await d.patch(d.group_path, {"op": "remove", "path": "members", "value": [{"value": d.ada["id"]}]}))
    assert await d.t.members(d.group["id"]) == {d.bob["id"]}


@pytest.mark.parametrize("case", SHAPES, ids=lambda s: f"{s.idp}: {s.name}")
async def test_the_idp_request_shape_is_accepted_and_applied(
    portal: Portal, http: httpx2.AsyncClient, case: Shape
) -> None:
    t = await make_tenant(portal, http)
    ada = await t.create_user("ada@acme.example", displayName="Ada")
    bob = await t.create_user("bob@acme.example", displayName="Bob")
    group = await t.create_group("Engineering", [ada["id"]])
    await case.check(Directory(t, ada, bob, group))


@pytest.mark.parametrize("resource", ["Users", "Groups"])
async def test_an_unchanged_id_at_a_path_is_ignored_and_a_changed_one_refused(
    portal: Portal, http: httpx2.AsyncClient, resource: str
) -> None:
    """The path form of the same rule (RFC 7644 §3.5.2: only modifying a read-only attribute is
    an error): `{"op": "replace", "path": "id", "value": <own id>}` changes nothing."""
    t = await make_tenant(portal, http)
    own = await t.create_user("ada@acme.example") if resource == "Users" else await t.create_group("Eng")
    other = await t.create_user("bob@acme.example")
    path = f"/{resource}/{own['id']}"
    version = (await t.get(path)).headers["etag"]
    same = await t.patch(path, [{"op": "replace", "path": "id", "value": own["id"]}])
    assert same.status_code in (200, 204), same.text
    assert (await t.get(path)).headers["etag"] == version
    changed = await t.patch(path, [{"op": "replace", "path": "id", "value": other["id"]}])
    assert changed.status_code == 400
    assert changed.json()["scimType"] == "mutability"
    assert (await t.get(path)).json()["id"] == own["id"]
