"""Tests of the `enlist` command as an admin runs it: a real process, its exit code and output.

Each module starts one portal (`enlist lms serve`, SQLite in a data directory of its own) and
gives each test tenants of its own, so the tests share the server but not their data.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from dataclasses import dataclass
from typing import Any

import httpx2

from tests.helpers import GROUP, SCIM, USER
from tests.live import ENLIST, LivePortal


def enlist(portal: LivePortal, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `enlist ARGS…` against the portal's data directory; never raises on a failure."""
    return subprocess.run(
        [ENLIST, *args], env=portal.env(), capture_output=True, text=True, check=False, timeout=120
    )


def enlist_json(portal: LivePortal, *args: str) -> Any:
    """Run a command that must succeed and print JSON; the parsed JSON."""
    done = enlist(portal, *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@dataclass(frozen=True)
class CreatedTenant:
    """What `enlist lms tenant create NAME --json` printed."""

    slug: str
    tenant_url: str
    token: str


def new_tenant(portal: LivePortal) -> CreatedTenant:
    """A tenant of the test's own, created through the CLI as an admin would."""
    created = enlist_json(portal, "lms", "tenant", "create", f"t-{uuid.uuid4().hex[:10]}", "--json")
    return CreatedTenant(created["tenant"], created["tenant_url"], created["secret_token"])


def scim(tenant_url: str, token: str) -> httpx2.Client:
    """An HTTP client on the tenant's SCIM root, presenting `token`."""
    return httpx2.Client(
        base_url=tenant_url,
        headers={"Authorization": f"Bearer {token}", "Content-Type": SCIM},
        timeout=30,
    )


def scim_status(tenant_url: str, token: str) -> int:
    """The HTTP status the portal answers `GET /Users` with, for this token."""
    with scim(tenant_url, token) as client:
        return client.get("/Users").status_code


def create_user(client: httpx2.Client, user_name: str) -> str:
    response = client.post("/Users", json={"schemas": [USER], "userName": user_name})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def create_group(client: httpx2.Client, name: str, members: list[str]) -> str:
    body = {"schemas": [GROUP], "displayName": name, "members": [{"value": m} for m in members]}
    response = client.post("/Groups", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])
