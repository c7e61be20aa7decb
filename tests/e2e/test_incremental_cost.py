"""An incremental cycle costs in proportion to the changes, not to the directory's size.

The same ten changes are made in a directory of 1,000 and of 50,000 users that were synced
before; the cycle sends the same requests and runs the same number of SQL statements on both,
and none of its statements reads the directory or the links without a key.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from enlist.db.rows import now
from enlist.lms.api.runtime import Portal
from enlist.provisioning.directory import store as directory
from enlist.provisioning.directory.tables import dir_changes, dir_users
from enlist.provisioning.engine.mapped import Mappings
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store.tables import links
from tests.e2e.engine_harness import Harness, harness, statements

CHANGED = 10


def graph_user(i: int) -> dict[str, Any]:
    return {
        "userPrincipalName": f"user{i}@contoso.com",
        "givenName": f"Given{i}",
        "surname": f"Sur{i}",
        "displayName": f"Given{i} Sur{i}",
        "mail": f"user{i}@contoso.com",
        "accountEnabled": True,
    }


async def synced_directory(h: Harness, size: int) -> list[str]:
    """`size` users, already provisioned: the first CHANGED really exist in the portal, the rest
    are linked only (an incremental cycle must never look at them)."""
    moment = now()
    ids = [str(uuid.UUID(int=i + 1)) for i in range(size)]
    rows = [
        {
            "id": uid,
            "upn": graph_user(i)["userPrincipalName"],
            "upn_ci": graph_user(i)["userPrincipalName"],
            "attributes": graph_user(i),
            "account_enabled": True,
            "updated_at": moment,
            "seq": 0,
        }
        for i, uid in enumerate(ids)
    ]
    app = await h.app()
    mappings = Mappings.from_app(app)
    async with h.service.db.write() as conn:
        for start in range(0, size, 5000):
            await conn.execute(dir_users.insert(), rows[start : start + 5000])
    states = {}
    async with h.target("rfc") as target:
        for i in range(CHANGED):
            user = (await directory_users(h, [ids[i]]))[ids[i]]
            desired = mappings.user_values(user, creating=True)
            created = await target.create("User", mappings.user_document(desired))
            states[ids[i]] = (str(created["id"]), desired)
    link_rows = [
        {
            "app_id": app.id,
            "kind": "user",
            "source_id": uid,
            "target_id": states.get(uid, (f"elsewhere-{uid}", {}))[0],
            "state": states.get(uid, ("", {}))[1],
            "state_hash": "",
            "disabled": False,
            "updated_at": moment,
        }
        for uid in ids
    ]
    async with h.service.db.write() as conn:
        for start in range(0, size, 5000):
            await conn.execute(links.insert(), link_rows[start : start + 5000])
        seq = await directory.current_seq(conn)
        await app_store.update_app(
            conn, app.id, watermark=seq, settings={**app.settings.to_json(), "scope": "all"}
        )
    return ids


async def directory_users(h: Harness, ids: list[str]) -> dict[str, Any]:
    async with h.service.db.read() as conn:
        return await directory.get_users(conn, ids)


async def change_ten(h: Harness, ids: list[str]) -> None:
    async with h.service.db.write() as conn:
        for i, uid in enumerate(ids[:CHANGED]):
            attributes = {**graph_user(i), "jobTitle": "Changed"}
            await conn.execute(dir_users.update().where(dir_users.c.id == uid).values(attributes=attributes))
            await conn.execute(dir_changes.insert().values(kind="user", object_id=uid, at=now()))


@pytest.mark.slow
async def test_ten_changes_cost_the_same_in_1000_and_50000_users(
    portal: Portal, service: Service, request: pytest.FixtureRequest
) -> None:
    costs = {}
    h = await harness(portal, service)
    for size, prefix in ((1_000, "small"), (50_000, "big")):
        async with service.db.write() as conn:
            await conn.execute(links.delete())
            await conn.execute(dir_changes.delete())
            await conn.execute(dir_users.delete())
        async with portal.db.write() as conn:
            await conn.execute(sa.text("DELETE FROM user_emails"))
            await conn.execute(sa.text("DELETE FROM users"))
        ids = await synced_directory(h, size)
        await change_ten(h, ids)
        with statements(service) as sql:
            summary, target = await h.sync("rfc")
        assert summary.kind == "incremental"
        assert summary.counts["updated"] == CHANGED, (prefix, summary)
        unkeyed = [
            s
            for s in sql
            if s.startswith("select") and ("from dir_users" in s or "from links" in s) and " where " not in s
        ]
        assert unkeyed == [], unkeyed
        # The Pause check and the progress report run once a second of wall clock (CycleState
        # ._checkpoint), not once per object: a slow machine adds one of each, so they are not counted.
        timed = [
            s
            for s in sql
            if s.startswith(
                ("update cycles set progress_done", "select applications.state from applications")
            )
        ]
        assert len(timed) <= 2 * 10, timed  # bounded by seconds, never by the directory's size
        costs[prefix] = (target.requests_sent, len(sql) - len(timed))
    assert costs["small"] == costs["big"]
    assert costs["small"][0] == 1 + CHANGED  # the Test connection probe, then one PATCH per changed user
