"""Entra ID's group provisioning requests, replayed as entra-scim.md §3 describes them, state read back.

Groups are created with Entra's ADSCIM schema URI and no members, matched by displayName with
`excludedAttributes=members`, filled and emptied by member PATCHes in both dialects (the default
`Remove` `members` with a value list must remove only those members, never empty the group),
renamed, checked with `id eq … and members eq …`, and deleted. Membership is read back with GET;
the sync log must show each change with `members` old = removed ids, new = added ids.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tests.helpers import GROUP, make_tenant
from tests.integration.test_entra_replay import (
    ENTRA_DEFAULT,
    ENTRA_FLAG,
    FLAG,
    Dialect,
    each_dialect,
    entra_delete,
    entra_patch,
    entra_post,
    logged,
    provision,
    query,
    read,
)

if TYPE_CHECKING:
    import httpx2

    from enlist.lms.api.runtime import Portal
    from tests.helpers import ScimTenant

ADSCIM_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"


def entra_group(display_name: str, **extra: Any) -> dict[str, Any]:
    """The body of Entra's documented `POST /Groups` (§3.3)."""
    return {
        "schemas": [GROUP, ADSCIM_GROUP],
        "externalId": str(uuid.uuid4()),
        "displayName": display_name,
        "meta": {"resourceType": "Group"},
        **extra,
    }


async def provision_group(t: ScimTenant, display_name: str) -> str:
    response = await entra_post(t, ENTRA_DEFAULT, "/Groups", entra_group(display_name))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def users(t: ScimTenant, count: int) -> list[str]:
    return [(await provision(t, f"member{i}@contoso.com"))["id"] for i in range(count)]


async def members(t: ScimTenant, group_id: str) -> set[str]:
    return {m["value"] for m in (await read(t, f"/Groups/{group_id}")).get("members", [])}


def member_values(*ids: str) -> list[dict[str, Any]]:
    """Entra's member list: `[{"$ref": null, "value": id}, …]` (§3.4)."""
    return [{"$ref": None, "value": member} for member in ids]


def add_members(dialect: Dialect, *ids: str) -> dict[str, Any]:
    return {"op": dialect.op("add"), "path": "members", "value": member_values(*ids)}


def remove_members(dialect: Dialect, member: str) -> dict[str, Any]:
    """One member's removal: a value list by default, a `members[value eq …]` path with the flag (§3.4)."""
    if dialect.flag:
        return {"op": "remove", "path": f'members[value eq "{member}"]'}
    return {"op": "Remove", "path": "members", "value": member_values(member)}


async def group_with(t: ScimTenant, name: str, ids: list[str]) -> str:
    gid = await provision_group(t, name)
    response = await entra_patch(t, ENTRA_DEFAULT, f"/Groups/{gid}", [add_members(ENTRA_DEFAULT, *ids)])
    assert response.status_code == 204, response.text
    assert await members(t, gid) == set(ids)
    return gid


def membership_change(entry: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(removed, added) ids of the entry's `members` change, empty sides as empty lists."""
    changes = [c for c in entry["changes"] if c["attribute"] == "members"]
    assert len(changes) == 1, entry["changes"]
    return sorted(changes[0]["old"] or []), sorted(changes[0]["new"] or [])


# §3.3 Create, §3.1/§3.2 match and read -------------------------------------------------------


@each_dialect
@pytest.mark.parametrize("extra", [{}, {"members": []}], ids=["documented", "empty-members"])
async def test_create_group_with_adscim_schema_uri_answers_201_with_no_members(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect, extra: dict[str, Any]
) -> None:
    t = await make_tenant(portal, http)
    body = entra_group("Org Admin", **extra)
    response = await entra_post(t, dialect, "/Groups", body)
    assert response.status_code == 201, response.text
    gid = response.json()["id"]
    assert gid
    stored = await read(t, f"/Groups/{gid}")
    assert stored["displayName"] == "Org Admin"
    assert stored["externalId"] == body["externalId"]
    assert stored.get("members", []) == []
    assert stored["meta"]["resourceType"] == "Group"
    await logged(t, status=201, resource_id=gid, action="create")


async def test_group_match_with_excluded_members_returns_the_group_without_members(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    [uid] = await users(t, 1)
    gid = await group_with(t, "Org Admin", [uid])
    await provision_group(t, "Org Admins")
    q = "excludedAttributes=members&filter=displayName+eq+%22Org+Admin%22"
    response = await t.http.get(f"{t.base}/Groups?{q}", headers=t.headers())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["totalResults"] == 1
    [group] = body["Resources"]
    assert group["id"] == gid
    assert group["displayName"] == "Org Admin"
    assert group["externalId"]
    assert "members" not in group


async def test_get_group_with_excluded_members_omits_members(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    [uid] = await users(t, 1)
    gid = await group_with(t, "Readers", [uid])
    response = await t.http.get(f"{t.base}/Groups/{gid}?excludedAttributes=members", headers=t.headers())
    assert response.status_code == 200, response.text
    assert response.json()["id"] == gid
    assert "members" not in response.json()


# §3.4 Membership -------------------------------------------------------------------------------


@each_dialect
async def test_add_members_with_ref_null_value_list_adds_every_listed_member(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect
) -> None:
    t = await make_tenant(portal, http)
    ids = await users(t, 3)
    gid = await provision_group(t, "Sales")
    response = await entra_patch(t, dialect, f"/Groups/{gid}", [add_members(dialect, *ids)])
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert await members(t, gid) == set(ids)
    entry = await logged(t, status=204, resource_id=gid, action="update")
    assert membership_change(entry) == ([], sorted(ids))


@each_dialect
async def test_several_add_member_operations_in_one_request_add_every_member(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect
) -> None:
    t = await make_tenant(portal, http)
    ids = await users(t, 3)
    gid = await provision_group(t, "Sales")
    ops = [add_members(dialect, ids[0]), add_members(dialect, ids[1], ids[2])]
    response = await entra_patch(t, dialect, f"/Groups/{gid}", ops)
    assert response.status_code == 204, response.text
    assert await members(t, gid) == set(ids)
    await logged(t, status=204, resource_id=gid, action="update")


@each_dialect
async def test_adding_an_existing_member_again_is_a_noop_204(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect
) -> None:
    t = await make_tenant(portal, http)
    ids = await users(t, 2)
    gid = await group_with(t, "Sales", ids)
    response = await entra_patch(t, dialect, f"/Groups/{gid}", [add_members(dialect, ids[0])])
    assert response.status_code == 204, response.text
    assert await members(t, gid) == set(ids)


async def test_remove_members_with_value_list_removes_only_those_members(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    u1, u2, u3 = await users(t, 3)
    gid = await group_with(t, "Sales", [u1, u2, u3])
    ops = [{"op": "Remove", "path": "members", "value": [{"$ref": None, "value": u2}]}]
    response = await entra_patch(t, ENTRA_DEFAULT, f"/Groups/{gid}", ops)
    assert response.status_code == 204, response.text
    assert await members(t, gid) == {u1, u3}
    entry = await logged(t, status=204, resource_id=gid, action="update")
    assert membership_change(entry) == ([u2], [])


async def test_remove_members_with_a_value_list_of_several_removes_exactly_those(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    u1, u2, u3 = await users(t, 3)
    gid = await group_with(t, "Sales", [u1, u2, u3])
    ops = [{"op": "Remove", "path": "members", "value": member_values(u1, u3)}]
    response = await entra_patch(t, ENTRA_DEFAULT, f"/Groups/{gid}", ops)
    assert response.status_code == 204, response.text
    assert await members(t, gid) == {u2}
    entry = await logged(t, status=204, resource_id=gid, action="update")
    assert membership_change(entry) == (sorted([u1, u3]), [])


async def test_remove_member_with_value_filter_path_removes_only_that_member(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    u1, u2, u3 = await users(t, 3)
    gid = await group_with(t, "Sales", [u1, u2, u3])
    ops = [{"op": "remove", "path": f'members[value eq "{u1}"]'}]
    response = await entra_patch(t, ENTRA_FLAG, f"/Groups/{gid}", ops)
    assert response.status_code == 204, response.text
    assert await members(t, gid) == {u2, u3}
    entry = await logged(t, status=204, resource_id=gid, action="update")
    assert membership_change(entry) == ([u1], [])


@each_dialect
@pytest.mark.parametrize("who", ["user-not-in-group", "unknown-id"])
async def test_removing_a_non_member_is_a_noop_204(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect, who: str
) -> None:
    t = await make_tenant(portal, http)
    u1, u2, outsider = await users(t, 3)
    gid = await group_with(t, "Sales", [u1, u2])
    target = outsider if who == "user-not-in-group" else str(uuid.uuid4())
    response = await entra_patch(t, dialect, f"/Groups/{gid}", [remove_members(dialect, target)])
    assert response.status_code == 204, response.text
    assert await members(t, gid) == {u1, u2}
    await logged(t, status=204, resource_id=gid)


@each_dialect
async def test_add_and_remove_operations_in_one_request_apply_both(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect
) -> None:
    t = await make_tenant(portal, http)
    u1, u2, u3 = await users(t, 3)
    gid = await group_with(t, "Sales", [u1, u2])
    ops = [add_members(dialect, u3), remove_members(dialect, u1)]
    response = await entra_patch(t, dialect, f"/Groups/{gid}", ops)
    assert response.status_code == 204, response.text
    assert await members(t, gid) == {u2, u3}
    entry = await logged(t, status=204, resource_id=gid, action="update")
    assert membership_change(entry) == ([u1], [u3])


# §3.5 Rename ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dialect", "operation"),
    [
        (ENTRA_DEFAULT, {"op": "Replace", "path": "displayName", "value": "1879db59-updatedDisplayName"}),
        (ENTRA_FLAG, {"op": "replace", "value": {"displayName": "1879db59-updatedDisplayName"}}),
    ],
    ids=["default", FLAG],
)
async def test_replace_display_name_renames_the_group(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect, operation: dict[str, Any]
) -> None:
    t = await make_tenant(portal, http)
    [uid] = await users(t, 1)
    gid = await group_with(t, "displayName", [uid])
    response = await entra_patch(t, dialect, f"/Groups/{gid}", [operation])
    assert response.status_code == 204, response.text
    stored = await read(t, f"/Groups/{gid}")
    assert stored["displayName"] == "1879db59-updatedDisplayName"
    assert {m["value"] for m in stored["members"]} == {uid}
    assert (
        await query(t, "/Groups", excludedAttributes="members", filter='displayName eq "displayName"') == []
    )
    renamed = await query(
        t, "/Groups", excludedAttributes="members", filter='displayName eq "1879db59-updatedDisplayName"'
    )
    assert [g["id"] for g in renamed] == [gid]
    entry = await logged(t, status=204, resource_id=gid, action="update")
    assert entry["changes"] == [
        {"attribute": "displayName", "old": "displayName", "new": "1879db59-updatedDisplayName"}
    ]


# §3.4 legacy membership check ------------------------------------------------------------------


async def test_id_and_members_filter_returns_the_group_for_a_member(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    u1, _ = await users(t, 2)
    gid = await group_with(t, "Sales", [u1])
    q = f"filter=id+eq+%22{gid}%22+and+members+eq+%22{u1}%22&attributes=id"
    response = await t.http.get(f"{t.base}/Groups?{q}", headers=t.headers())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["totalResults"] == 1
    assert body["Resources"][0]["id"] == gid
    assert "members" not in body["Resources"][0]
    assert "displayName" not in body["Resources"][0]


async def test_id_and_members_filter_returns_nothing_for_a_non_member(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    u1, u2 = await users(t, 2)
    gid = await group_with(t, "Sales", [u1])
    assert await query(t, "/Groups", filter=f'id eq "{gid}" and members eq "{u2}"', attributes="id") == []


# §3.6 Delete ------------------------------------------------------------------------------------


@each_dialect
async def test_delete_group_answers_204_then_get_is_404(
    portal: Portal, http: httpx2.AsyncClient, dialect: Dialect
) -> None:
    t = await make_tenant(portal, http)
    u1, u2 = await users(t, 2)
    gid = await group_with(t, "Doomed", [u1, u2])
    response = await entra_delete(t, dialect, f"/Groups/{gid}")
    assert response.status_code == 204, response.text
    missing = await t.http.get(f"{t.base}/Groups/{gid}", headers=t.headers())
    assert missing.status_code == 404
    assert missing.json()["status"] == "404"
    assert await query(t, "/Groups", excludedAttributes="members", filter='displayName eq "Doomed"') == []
    entry = await logged(t, status=204, resource_id=gid, action="delete")
    assert membership_change(entry) == (sorted([u1, u2]), [])


async def test_delete_group_keeps_its_members_as_users(portal: Portal, http: httpx2.AsyncClient) -> None:
    t = await make_tenant(portal, http)
    u1, u2 = await users(t, 2)
    gid = await group_with(t, "Doomed", [u1, u2])
    assert (await entra_delete(t, ENTRA_DEFAULT, f"/Groups/{gid}")).status_code == 204
    for uid in (u1, u2):
        assert (await read(t, f"/Users/{uid}"))["active"] is True
