"""The engine provisions into the portal over its real SCIM endpoint, in both dialects, through an
initial cycle and incremental cycles; after each, the portal's state matches the directory."""

from __future__ import annotations

from typing import Any

import pytest

from enlist.lms.api.runtime import Portal
from enlist.provisioning.service import Service
from tests.e2e.engine_harness import assign_groups, harness

DIRECTORY: dict[str, Any] = {
    "users": [
        {"userPrincipalName": "ceo@contoso.com", "givenName": "Cleo", "surname": "Ortiz", "displayName": "Cleo Ortiz",
         "mail": "ceo@contoso.com", "jobTitle": "CEO", "department": "Board", "employeeId": "1", "accountEnabled": True},
        {"userPrincipalName": "ada@contoso.com", "givenName": "Ada", "surname": "Lovelace", "displayName": "Ada Lovelace",
         "mail": "ada@contoso.com", "jobTitle": "Engineer", "department": "R&D", "employeeId": "2", "manager": "ceo@contoso.com",
         "accountEnabled": True},
        {"userPrincipalName": "bob@contoso.com", "givenName": "Bob", "surname": "Stone", "displayName": "Bob Stone",
         "mail": "bob@contoso.com", "jobTitle": "Sales rep", "department": "Sales", "employeeId": "3", "manager": "ceo@contoso.com",
         "accountEnabled": True},
        {"userPrincipalName": "eve@contoso.com", "givenName": "Eve", "surname": "Moss", "displayName": "Eve Moss",
         "mail": "eve@contoso.com", "jobTitle": "Auditor", "accountEnabled": True},
    ],
    "groups": [
        {"displayName": "Engineering", "members": ["ada@contoso.com", "ceo@contoso.com"]},
        {"displayName": "Sales", "members": ["bob@contoso.com"]},
        {"displayName": "Auditors", "members": ["eve@contoso.com"]},
    ],
}  # fmt: skip


@pytest.mark.parametrize("dialect", ["rfc", "entra"])
async def test_initial_cycle_provisions_assigned_groups_exactly(
    portal: Portal, service: Service, dialect: str
) -> None:
    h = await harness(portal, service, dialect=dialect)
    await h.load(DIRECTORY)
    await assign_groups(h, "Engineering", "Sales")
    summary, _target = await h.sync(dialect)
    assert summary.status == "succeeded", summary
    assert summary.kind == "initial"
    assert summary.counts["created"] == 5  # 3 users, 2 groups
    assert summary.counts["failed"] == 0
    users = await h.portal_users()
    assert set(users) == {"ceo@contoso.com", "ada@contoso.com", "bob@contoso.com"}
    ada = users["ada@contoso.com"]
    assert ada["name"] == {"givenName": "Ada", "familyName": "Lovelace", "formatted": "Ada Lovelace"}
    assert ada["title"] == "Engineer"
    assert ada["active"] is True
    assert ada["emails"][0]["value"] == "ada@contoso.com"
    enterprise = ada["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
    assert enterprise["manager"]["value"] == users["ceo@contoso.com"]["id"]
    assert enterprise["employeeNumber"] == "2"
    assert await h.portal_groups() == {
        "Engineering": {"ada@contoso.com", "ceo@contoso.com"},
        "Sales": {"bob@contoso.com"},
    }
    second, _ = await h.sync(dialect)
    assert second.kind == "incremental"
    assert second.counts == dict.fromkeys(second.counts, 0), "a cycle with no change sends nothing"


@pytest.mark.parametrize("dialect", ["rfc", "entra"])
async def test_incremental_cycles_follow_changes(portal: Portal, service: Service, dialect: str) -> None:
    h = await harness(portal, service, dialect=dialect)
    await h.load(DIRECTORY)
    await assign_groups(h, "Engineering", "Sales")
    await h.sync(dialect)

    changed = {
        **DIRECTORY,
        "users": [dict(u) for u in DIRECTORY["users"]],
        "groups": [dict(g) for g in DIRECTORY["groups"]],
    }
    changed["users"][1]["jobTitle"] = "Principal engineer"  # ada: an update
    changed["users"][2]["accountEnabled"] = False  # bob: blocked sign-in → disabled
    changed["groups"][0]["displayName"] = "Engineering"
    changed["groups"][0]["members"] = ["ada@contoso.com"]  # ceo leaves Engineering
    await h.load(changed)
    summary, _target = await h.sync(dialect)
    assert summary.status == "succeeded", summary
    assert summary.counts["updated"] >= 2
    assert summary.counts["disabled"] == 2  # bob (blocked) and the ceo (no longer assigned)
    users = await h.portal_users()
    assert users["ada@contoso.com"]["title"] == "Principal engineer"
    assert users["bob@contoso.com"]["active"] is False
    groups = await h.portal_groups()
    assert groups["Engineering"] == {"ada@contoso.com"}
    # The ceo is no longer assigned through any group: disabled, kept.
    assert users["ceo@contoso.com"]["active"] is False
