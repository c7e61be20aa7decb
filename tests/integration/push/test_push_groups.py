"""Groups pushed over real HTTP: Okta's Group Push shapes (PUT of every member, PATCH adds and
removes, a rename carrying our id), nesting kept, an unknown member refused."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from enlist.provisioning.directory.tables import dir_group_members, dir_groups, dir_users
from tests.integration.push.conftest import Pushed
from tests.integration.push.test_push_users import okta_user

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


async def members(p: Pushed, group_id: str) -> set[str]:
    """The group's members in the directory, by push id."""
    async with p.service.db.read() as conn:
        gid = (
            await conn.execute(sa.select(dir_groups.c.id).where(dir_groups.c.source_id == group_id))
        ).scalar_one()
        ids = [
            r[0]
            for r in await conn.execute(
                sa.select(dir_group_members.c.member_id).where(dir_group_members.c.group_id == gid)
            )
        ]
        out = set()
        for table in (dir_users, dir_groups):
            out |= {r[0] for r in await conn.execute(sa.select(table.c.source_id).where(table.c.id.in_(ids)))}
        return out


async def three_users(p: Pushed) -> list[str]:
    return [
        (await p.client.post("/Users", json=okta_user(f"{n}@contoso.com", externalId=n))).json()["id"]
        for n in ("ann", "bob", "cy")
    ]


async def test_okta_group_push_by_put_and_by_patch_keeps_the_members_in_the_directory(pushed: Pushed) -> None:
    ann, bob, cy = await three_users(pushed)
    created = await pushed.client.post(
        "/Groups", json={"schemas": [GROUP], "displayName": "Sales", "members": []}
    )
    assert created.status_code == 201, created.text
    group = created.json()
    found = (await pushed.client.get("/Groups", params={"filter": 'displayName eq "sales"'})).json()
    assert [r["id"] for r in found["Resources"]] == [group["id"]]

    body: dict[str, Any] = {
        "schemas": [GROUP],
        "displayName": "Sales",
        "members": [{"value": ann}, {"value": bob}],
    }
    assert (await pushed.client.put(f"/Groups/{group['id']}", json=body)).status_code == 200
    assert await members(pushed, group["id"]) == {ann, bob}

    operations = [
        {"op": "remove", "path": f'members[value eq "{ann}"]'},
        {"op": "add", "path": "members", "value": [{"value": cy, "display": "cy@contoso.com"}]},
    ]
    patched = await pushed.client.patch(
        f"/Groups/{group['id']}", json={"schemas": [PATCH], "Operations": operations}
    )
    assert patched.status_code == 200, patched.text
    assert await members(pushed, group["id"]) == {bob, cy}

    rename = [{"op": "replace", "value": {"id": group["id"], "displayName": "Sales EMEA"}}]
    renamed = await pushed.client.patch(
        f"/Groups/{group['id']}", json={"schemas": [PATCH], "Operations": rename}
    )
    assert renamed.json()["displayName"] == "Sales EMEA"
    assert await members(pushed, group["id"]) == {bob, cy}

    emptied = [{"op": "replace", "path": "members", "value": []}]
    await pushed.client.patch(f"/Groups/{group['id']}", json={"schemas": [PATCH], "Operations": emptied})
    assert await members(pushed, group["id"]) == set()


async def test_a_nested_group_stays_nested_and_an_unknown_member_changes_nothing(pushed: Pushed) -> None:
    ann, _bob, _cy = await three_users(pushed)
    inner = (
        await pushed.client.post("/Groups", json={"displayName": "Inner", "members": [{"value": ann}]})
    ).json()
    outer = (
        await pushed.client.post(
            "/Groups", json={"displayName": "Outer", "members": [{"value": inner["id"]}]}
        )
    ).json()
    assert await members(pushed, outer["id"]) == {inner["id"]}
    assert outer["members"][0]["type"] == "Group"

    refused = await pushed.client.put(
        f"/Groups/{outer['id']}", json={"displayName": "Renamed", "members": [{"value": "not-a-member"}]}
    )
    assert refused.status_code == 400
    assert "not-a-member" in refused.json()["detail"]
    assert refused.json()["detail"].startswith(f"PUT /Groups/{outer['id']}")
    assert (await pushed.client.get(f"/Groups/{outer['id']}")).json()["displayName"] == "Outer"
    assert await members(pushed, outer["id"]) == {inner["id"]}


async def test_a_deleted_group_is_soft_deleted(pushed: Pushed) -> None:
    group = (await pushed.client.post("/Groups", json={"displayName": "Temp"})).json()
    assert (await pushed.client.delete(f"/Groups/{group['id']}")).status_code == 204
    async with pushed.service.db.read() as conn:
        deleted_at = (
            await conn.execute(
                sa.select(dir_groups.c.deleted_at).where(dir_groups.c.source_id == group["id"])
            )
        ).scalar_one()
    assert deleted_at is not None
    assert (await pushed.client.get(f"/Groups/{group['id']}")).status_code == 404
