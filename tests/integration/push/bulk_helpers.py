"""Building Entra-shaped bulk uploads (an HR system's users) and waiting for them to be done."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2

BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CUSTOM = "urn:ietf:params:scim:schemas:extension:csv:1.0:User"


def hr_user(number: int, manager: int | None = None, **extra: Any) -> dict[str, Any]:
    """One operation as Entra's API-driven provisioning documents it: a POST of a user with the
    Enterprise extension and a custom extension, matched on externalId (the employee id)."""
    enterprise: dict[str, Any] = {"employeeNumber": str(number), "department": f"Dept {number % 7}"}
    if manager is not None:
        enterprise["manager"] = {"value": str(manager)}
    data = {
        "schemas": [USER, ENTERPRISE, CUSTOM],
        "externalId": str(number),
        "userName": f"e{number}@contoso.com",
        "name": {"givenName": "Em", "familyName": f"Ployee{number}"},
        "displayName": f"Em Ployee{number}",
        "emails": [{"value": f"e{number}@contoso.com", "type": "work", "primary": True}],
        "title": "Staff",
        "active": True,
        ENTERPRISE: enterprise,
        CUSTOM: {"HireDate": "2026-01-01", "JobCode": f"J{number % 11}"},
        **extra,
    }
    return {"method": "POST", "bulkId": f"b{number}", "path": "/Users", "data": data}


def bulk(operations: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"schemas": [BULK], "Operations": operations, **extra}


async def done(client: httpx2.AsyncClient, location: str, polls: int = 3000) -> dict[str, Any]:
    """The upload's status once its state is `done` (polling; fails after `polls` reads)."""
    for _ in range(polls):
        status = (await client.get(location)).json()
        if status["state"] == "done":
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"the bulk upload is not done: {status['counts']}")
