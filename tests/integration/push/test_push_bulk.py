"""`POST /bulkUpload`: 202 at once, applied in the background, a status per operation; each
operation an upsert on externalId; a bad one fails alone, named, with nothing of it applied."""

from __future__ import annotations

import sqlalchemy as sa

from enlist.provisioning.directory.tables import dir_users
from tests.integration.push.bulk_helpers import CUSTOM, bulk, done, hr_user
from tests.integration.push.conftest import Pushed


async def users_by_upn(p: Pushed) -> dict[str, object]:
    async with p.service.db.read() as conn:
        return {r.upn: r for r in await conn.execute(sa.select(dir_users).where(dir_users.c.source == "hr"))}


async def test_a_bulk_upload_is_accepted_then_applied_with_a_status_per_operation(pushed: Pushed) -> None:
    bad = hr_user(3)
    del bad["data"]["userName"]
    wrong_method = {**hr_user(4), "method": "DELETE"}
    operations = [
        hr_user(1),
        hr_user(2, manager=5),
        bad,
        wrong_method,
        hr_user(5),
    ]  # 5 manages 2, comes later
    accepted = await pushed.client.post("/bulkUpload", json=bulk(operations))
    assert accepted.status_code == 202, accepted.text
    assert accepted.content == b""
    status = await done(pushed.client, accepted.headers["location"])
    assert status["counts"] == {"pending": 0, "applied": 3, "failed": 2, "skipped": 0}
    by_bulk_id = {o["bulkId"]: o for o in status["Operations"]}
    assert [by_bulk_id[b]["status"] for b in ("b1", "b2", "b3", "b4", "b5")] == [
        "201",
        "201",
        "400",
        "400",
        "201",
    ]
    assert by_bulk_id["b3"]["response"]["detail"].startswith("Operations[2] (bulkId b3)")
    assert "userName" in by_bulk_id["b3"]["response"]["detail"]
    assert "method" in by_bulk_id["b4"]["response"]["detail"]
    users = await users_by_upn(pushed)
    assert set(users) == {"e1@contoso.com", "e2@contoso.com", "e5@contoso.com"}
    assert users["e2@contoso.com"].manager_id == users["e5@contoso.com"].id  # type: ignore[attr-defined]
    assert users["e1@contoso.com"].attributes[f"{CUSTOM}:JobCode"] == "J1"  # type: ignore[attr-defined]
    assert users["e1@contoso.com"].attributes["employeeId"] == "1"  # type: ignore[attr-defined]


async def test_a_second_upload_updates_the_users_it_matches_on_external_id(pushed: Pushed) -> None:
    first = await pushed.client.post("/bulkUpload", json=bulk([hr_user(1), hr_user(2)]))
    await done(pushed.client, first.headers["location"])
    before = await users_by_upn(pushed)
    renamed = hr_user(1, userName="emma@contoso.com", active=False)
    second = await pushed.client.post("/bulkUpload", json=bulk([renamed, hr_user(2)]))
    status = await done(pushed.client, second.headers["location"])
    assert [o["status"] for o in status["Operations"]] == ["200", "200"]
    after = await users_by_upn(pushed)
    assert set(after) == {"emma@contoso.com", "e2@contoso.com"}
    assert after["emma@contoso.com"].id == before["e1@contoso.com"].id  # type: ignore[attr-defined]
    assert after["emma@contoso.com"].account_enabled is False  # type: ignore[attr-defined]


async def test_fail_on_errors_stops_the_rest_of_the_upload(pushed: Pushed) -> None:
    bad = hr_user(2)
    del bad["data"]["externalId"]
    accepted = await pushed.client.post(
        "/bulkUpload", json=bulk([hr_user(1), bad, hr_user(3)], failOnErrors=1)
    )
    status = await done(pushed.client, accepted.headers["location"])
    assert status["counts"] == {"pending": 0, "applied": 1, "failed": 1, "skipped": 1}
    assert "externalId" in status["Operations"][1]["response"]["detail"]
    assert set(await users_by_upn(pushed)) == {"e1@contoso.com"}


async def test_a_request_that_is_not_a_bulk_request_is_refused_whole(pushed: Pushed) -> None:
    for body in ({"Operations": [hr_user(1)]}, bulk([]), bulk([hr_user(1)], failOnErrors=0), [1]):
        answer = await pushed.client.post("/bulkUpload", json=body)
        assert answer.status_code == 400, body
    assert (await pushed.client.get("/bulkUpload/not-a-job")).status_code == 404
