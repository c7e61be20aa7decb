"""What the directory-source-to-portal end-to-end tests share (tests/e2e/test_ldap_to_portal.py,
tests/e2e/test_ad_to_portal.py): a read of the source `corp` then an application cycle, and the
portal's state in the shape the tests compare with the source."""

from __future__ import annotations

from typing import Any

from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from tests.e2e.engine_harness import Harness

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


async def portal_state(h: Harness) -> tuple[dict[str, str | None], dict[str, set[str]]]:
    users = await h.portal_users()
    name_of = {u["id"]: name for name, u in users.items()}
    active: dict[str, str | None] = {}
    for name, user in users.items():
        if user["active"]:
            manager = user.get(ENTERPRISE, {}).get("manager", {}).get("value")
            active[name] = name_of.get(manager) if manager else None
    return active, await h.portal_groups()


async def read_and_cycle(service: Service, h: Harness | None, dialect: str) -> dict[str, Any]:
    result = (await operations.sync(service, "corp", full=False)).to_json()
    if h is not None:
        summary, _ = await h.sync(dialect)
        assert summary.status == "succeeded", summary
        assert summary.counts["failed"] == 0
    return result
