"""Bad input: a SCIM error naming the operation and the field, and nothing of it applied; the
limits advertised in ServiceProviderConfig are the ones enforced."""

from __future__ import annotations

import sqlalchemy as sa

from enlist.provisioning.directory.tables import dir_users
from enlist.provisioning.sources import operations as source_operations
from tests.integration.push.conftest import Pushed
from tests.integration.push.test_push_users import okta_user

BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"


async def user_count(p: Pushed) -> int:
    async with p.service.db.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(dir_users))).scalar_one())


async def test_a_bad_attribute_is_named_and_nothing_is_applied(pushed: Pushed) -> None:
    cases = [
        ({"userName": ""}, "userName"),
        (okta_user("a@contoso.com", name={"givenName": 5}), "name.givenName"),
        (okta_user("a@contoso.com", active="maybe"), "active"),
        (
            okta_user(
                "a@contoso.com",
                **{
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                        "manager": {"value": "nobody"}
                    }
                },
            ),
            "manager",
        ),
    ]
    for body, field in cases:
        answer = await pushed.client.post("/Users", json=body)
        assert answer.status_code == 400, (body, answer.text)
        error = answer.json()
        assert error["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
        assert field in error["detail"], error
        assert await user_count(pushed) == 0


async def test_a_user_name_another_source_owns_is_a_conflict_and_is_not_merged(pushed: Pushed) -> None:
    await source_operations.add(pushed.service, "other", "file", {"path": "/nonexistent"}, {})
    async with pushed.service.db.write() as conn:
        from enlist.provisioning.directory import store  # noqa: PLC0415

        await store.upsert_users(
            conn,
            [
                store.UserState(
                    "00000000-0000-0000-0000-000000000001",
                    {"userPrincipalName": "ada@contoso.com"},
                    None,
                    ("other", "x"),
                )
            ],
        )
    answer = await pushed.client.post("/Users", json=okta_user("ada@contoso.com"))
    assert (answer.status_code, answer.json()["scimType"]) == (409, "uniqueness")
    assert "other" in answer.json()["detail"]
    async with pushed.service.db.read() as conn:
        owners = [r[0] for r in await conn.execute(sa.select(dir_users.c.source))]
    assert owners == ["other"]


async def test_service_provider_config_advertises_the_limits_that_are_enforced(pushed: Pushed) -> None:
    await source_operations.configure(
        pushed.service, "hr", {"bulk_max_operations": "3", "bulk_max_payload_bytes": "4000"}
    )
    config = (await pushed.client.get("/ServiceProviderConfig")).json()
    assert config["bulk"] == {"supported": True, "maxOperations": 3, "maxPayloadSize": 4000}
    operation = {"method": "POST", "path": "/Users", "bulkId": "b", "data": okta_user("a@contoso.com")}
    too_many = await pushed.client.post(
        "/bulkUpload", json={"schemas": [BULK], "Operations": [operation] * 4}
    )
    assert too_many.status_code == 413
    assert "3" in too_many.json()["detail"]
    too_big = await pushed.client.post("/Users", json=okta_user("a@contoso.com", displayName="x" * 5000))
    assert too_big.status_code == 413
    assert "4000" in too_big.json()["detail"]
    fits = await pushed.client.post("/bulkUpload", json={"schemas": [BULK], "Operations": [operation] * 3})
    assert fits.status_code == 202
    assert await user_count(pushed) <= 1


async def test_discovery_documents_are_served(pushed: Pushed) -> None:
    types = (await pushed.client.get("/ResourceTypes")).json()
    assert {r["id"] for r in types["Resources"]} == {"User", "Group"}
    schemas = (await pushed.client.get("/Schemas")).json()
    assert "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User" in {
        s["id"] for s in schemas["Resources"]
    }
    assert (await pushed.client.get("/ResourceTypes/User")).json()["endpoint"] == "/Users"
    assert (await pushed.client.get("/Nope")).status_code == 404


async def test_a_bad_patch_names_the_request_and_the_operation_and_changes_nothing(pushed: Pushed) -> None:
    created = (await pushed.client.post("/Users", json=okta_user("a@contoso.com", title="Engineer"))).json()
    operations = [
        {"op": "replace", "path": "title", "value": "Lead"},
        {"op": "frobnicate", "path": "displayName", "value": "x"},
    ]
    answer = await pushed.client.patch(
        f"/Users/{created['id']}",
        json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations},
    )
    assert answer.status_code == 400
    detail = answer.json()["detail"]
    assert detail.startswith(f"PATCH /Users/{created['id']}: ")
    assert "Operations[1]" in detail
    assert (await pushed.client.get(f"/Users/{created['id']}")).json()["title"] == "Engineer"


async def test_a_paused_source_refuses_writes_and_still_answers_reads(pushed: Pushed) -> None:
    await source_operations.change_state(pushed.service, "hr", "pause")
    refused = await pushed.client.post("/Users", json=okta_user("a@contoso.com"))
    assert refused.status_code == 403
    assert "paused" in refused.json()["detail"]
    assert (await pushed.client.get("/Users")).status_code == 200
    assert await user_count(pushed) == 0
