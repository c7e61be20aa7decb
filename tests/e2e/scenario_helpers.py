"""Helpers for the engine's end-to-end scenarios: the directory they start from, what a SCIM
target should hold for it, a view of what it does hold, and the requests a cycle sent.

The expected state is derived from the directory dict a test loaded, with one rule for each
thing a target holds:

- a user that is in scope is there, active, with its directory attributes; a user that was
  provisioned and left scope (unassigned, filtered, disabled, soft-deleted) is there with
  `active` false; a hard-deleted or never-in-scope user is not there;
- a user's manager is the target twin of its directory manager, when that manager is there;
- a provisioned group's members are its directory members (flattened when asked) that are
  active in the target.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2
import orjson

from enlist.provisioning.directory import store as directory
from enlist.provisioning.engine.runner import run_cycle
from enlist.provisioning.engine.summary import CycleSummary
from enlist.provisioning.logs import store as log_store
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.target.client import ScimTarget
from tests.e2e.engine_harness import TENANT_URL, Harness

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def _user(
    alias: str, given: str, surname: str, title: str, department: str, manager: str | None
) -> dict[str, Any]:
    upn = f"{alias}@contoso.com"
    user: dict[str, Any] = {
        "userPrincipalName": upn,
        "givenName": given,
        "surname": surname,
        "displayName": f"{given} {surname}",
        "mail": upn,
        "jobTitle": title,
        "department": department,
        "accountEnabled": True,
    }
    if manager:
        user["manager"] = f"{manager}@contoso.com"
    return user


CEO = "ceo@contoso.com"
ADA = "ada@contoso.com"
BOB = "bob@contoso.com"
EVE = "eve@contoso.com"
DAN = "dan@contoso.com"

BASE: dict[str, Any] = {
    "users": [
        _user("ceo", "Cleo", "Ortiz", "CEO", "Board", None),
        _user("ada", "Ada", "Lovelace", "Engineer", "R&D", "ceo"),
        _user("bob", "Bob", "Stone", "Sales rep", "Sales", "ceo"),
        _user("eve", "Eve", "Moss", "Auditor", "Audit", "ceo"),
        _user("dan", "Dan", "Brook", "Designer", "R&D", "ada"),
    ],
    "groups": [
        {"displayName": "Leadership", "members": [CEO]},
        {"displayName": "Engineering", "members": [ADA], "groupMembers": ["Design"]},
        {"displayName": "Sales", "members": [BOB]},
        {"displayName": "Auditors", "members": [EVE]},
        {"displayName": "Design", "members": [DAN]},
    ],
}
"""Design is nested in Engineering; Auditors is never assigned unless a test says so."""


def base() -> dict[str, Any]:
    """A deep copy of `BASE`, for a test to change and load."""
    return copy.deepcopy(BASE)


def user_of(data: dict[str, Any], upn: str) -> dict[str, Any]:
    return next(u for u in data["users"] if u["userPrincipalName"] == upn)


def group_of(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(g for g in data["groups"] if g["displayName"] == name)


# What the target should hold -------------------------------------------------------------------


def user_view(user: Mapping[str, Any], *, active: bool, manager: str | None) -> dict[str, Any]:
    """A directory user as the target should show it (the attributes the scenarios compare)."""
    return {
        "active": active,
        "displayName": user.get("displayName"),
        "givenName": user.get("givenName"),
        "familyName": user.get("surname"),
        "formatted": " ".join(p for p in (user.get("givenName"), user.get("surname")) if p) or None,
        "title": user.get("jobTitle"),
        "email": user.get("mail"),
        "department": user.get("department"),
        "manager": manager,
    }


def expected_users(
    data: dict[str, Any], active: Iterable[str], disabled: Iterable[str] = ()
) -> dict[str, dict[str, Any]]:
    """`{userName: view}` for the `active` and `disabled` UPNs, with the directory's values."""
    active, disabled = set(active), set(disabled)
    assert not active & disabled
    present = active | disabled
    views = {}
    for upn in sorted(present):
        user = user_of(data, upn)
        manager = user.get("manager")
        views[upn] = user_view(user, active=upn in active, manager=manager if manager in present else None)
    return views


def directory_members(data: dict[str, Any], name: str, *, flatten: bool = False) -> set[str]:
    group = group_of(data, name)
    members = set(group.get("members", []))
    if flatten:
        seen = {name}
        frontier = list(group.get("groupMembers", []))
        while frontier:
            child = frontier.pop()
            if child in seen:
                continue
            seen.add(child)
            members |= set(group_of(data, child).get("members", []))
            frontier.extend(group_of(data, child).get("groupMembers", []))
    return members


def expected_groups(
    data: dict[str, Any], names: Iterable[str], active: Iterable[str], *, flatten: bool = False
) -> dict[str, set[str]]:
    """`{group name: member userNames}`: each group's directory members that are active."""
    active = set(active)
    return {name: directory_members(data, name, flatten=flatten) & active for name in names}


# What the target holds ---------------------------------------------------------------------------


def scim_user_view(resource: Mapping[str, Any], names_by_id: Mapping[str, str]) -> dict[str, Any]:
    name = resource.get("name") or {}
    emails = resource.get("emails") or []
    work = [e.get("value") for e in emails if e.get("type") == "work"]
    enterprise = resource.get(ENTERPRISE) or {}
    manager = enterprise.get("manager")
    manager_id = manager.get("value") if isinstance(manager, Mapping) else manager
    return {
        "active": resource.get("active"),
        "displayName": resource.get("displayName"),
        "givenName": name.get("givenName"),
        "familyName": name.get("familyName"),
        "formatted": name.get("formatted"),
        "title": resource.get("title"),
        "email": work[0] if work else None,
        "department": enterprise.get("department"),
        "manager": names_by_id.get(manager_id, manager_id) if manager_id else None,
    }


@dataclass
class TargetState:
    """A SCIM target's users and groups, as views keyed by userName / displayName."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, set[str]] = field(default_factory=dict)
    user_ids: dict[str, str] = field(default_factory=dict)
    group_ids: dict[str, str] = field(default_factory=dict)


def target_state(users: list[dict[str, Any]], groups: list[dict[str, Any]]) -> TargetState:
    """Views of the raw `Resources` of `GET /Users` and `GET /Groups`."""
    names_by_id = {u["id"]: u["userName"] for u in users}
    assert len(names_by_id) == len(users), "two target users share an id"
    assert len({u["userName"].lower() for u in users}) == len(users), "a userName is in the target twice"
    assert len({g["displayName"].lower() for g in groups}) == len(groups), "a group is in the target twice"
    return TargetState(
        users={u["userName"]: scim_user_view(u, names_by_id) for u in users},
        groups={
            g["displayName"]: {names_by_id.get(m["value"], m["value"]) for m in g.get("members") or []}
            for g in groups
        },
        user_ids={u["userName"]: u["id"] for u in users},
        group_ids={g["displayName"]: g["id"] for g in groups},
    )


async def read_target(http: httpx2.AsyncClient, base: str) -> TargetState:
    """Every user and group of the SCIM service at `base` (a Tenant URL), through its API."""
    listings = []
    for endpoint in ("Users", "Groups"):
        response = await http.get(f"{base}/{endpoint}", params={"count": "1000"})
        assert response.status_code == 200, response.text
        body = response.json()
        resources = body.get("Resources", [])
        assert body.get("totalResults", len(resources)) == len(resources), "more than one page"
        listings.append(resources)
    return target_state(*listings)


# The portal in process ---------------------------------------------------------------------------


def portal_client(h: Harness) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(
        transport=h.transport(),
        base_url="http://portal.test",
        headers={"Authorization": f"Bearer {h.token}"},
    )


async def portal_state(h: Harness) -> TargetState:
    async with portal_client(h) as http:
        return await read_target(http, TENANT_URL)


async def portal_status(h: Harness, path: str) -> int:
    """The status of `GET {Tenant URL}{path}` on the portal (200, 404…)."""
    async with portal_client(h) as http:
        return (await http.get(f"{TENANT_URL}{path}")).status_code


# Requests a cycle sent ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    method: str
    path: str
    body: Any


class Recording(httpx2.AsyncBaseTransport):
    """A transport that keeps every request (method, path under the Tenant URL, JSON body)."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, prefix: str) -> None:
        self.inner = inner
        self.prefix = prefix
        self.sent: list[Sent] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        content = await request.aread()
        path = request.url.path.removeprefix(self.prefix)
        self.sent.append(Sent(request.method, path, orjson.loads(content) if content else None))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def writes(self) -> list[Sent]:
        return [s for s in self.sent if s.method != "GET"]


async def sync_recorded(
    h: Harness, dialect: str = "rfc", *, app_name: str | None = None
) -> tuple[CycleSummary, Recording]:
    """One cycle of the app (the harness's by default) into the portal, recording the requests."""
    recording = Recording(h.transport(), "/scim/v2/acme")
    async with h.service.db.read() as conn:
        app = await app_store.get_app(conn, app_name or h.app_name)
    async with ScimTarget(TENANT_URL, h.token, dialect=dialect, transport=recording) as target:  # type: ignore[arg-type]
        summary = await run_cycle(h.service, app, target=target)
    return summary, recording


# The directory and the app -----------------------------------------------------------------------


async def group_id(h: Harness, name: str) -> str:
    async with h.service.db.read() as conn:
        group = await directory.get_group_by_name(conn, name)
    assert group is not None, name
    return group.id


async def user_id(h: Harness, upn: str) -> str:
    async with h.service.db.read() as conn:
        user = await directory.get_user_by_upn(conn, upn)
    assert user is not None, upn
    return user.id


async def assign_users(h: Harness, *upns: str) -> None:
    ids = [await user_id(h, u) for u in upns]
    async with h.service.db.write() as conn:
        await app_store.assign(conn, await app_store.get_app(conn, h.app_name), "user", ids)


async def unassign(h: Harness, kind: str, *names: str) -> None:
    ids = [await (user_id(h, n) if kind == "user" else group_id(h, n)) for n in names]
    async with h.service.db.write() as conn:
        await app_store.unassign(conn, await app_store.get_app(conn, h.app_name), kind, ids)


async def set_settings(h: Harness, **changes: Any) -> None:
    async with h.service.db.write() as conn:
        app = await app_store.get_app(conn, h.app_name)
        await app_store.update_app(conn, app.id, settings={**app.settings.to_json(), **changes})


async def cycle_logs(h: Harness, cycle_id: str) -> list[dict[str, Any]]:
    app = await h.app()
    async with h.service.db.read() as conn:
        return await log_store.read(conn, app.id, log_store.LogFilter(cycle_id=cycle_id, limit=1000))


def assert_clean(summary: CycleSummary) -> None:
    """The cycle completed with no failure and nothing staged."""
    assert summary.status == "succeeded", summary
    assert summary.counts["failed"] == 0, summary
    assert summary.counts["staged"] == 0, summary
