"""What the Graph-to-portal suites share: the fake Graph on loopback, the tenant they seed, what
the portal must hold for a tenant (computed from the fake's own state), the portal's state as
its SCIM view shows it, a cycle over real HTTP, and a snapshot of the directory."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa

from enlist.lms.api.runtime import Portal
from enlist.provisioning.directory.tables import dir_changes, dir_group_members, dir_groups, dir_users
from enlist.provisioning.engine.runner import run_cycle
from enlist.provisioning.engine.summary import CycleSummary
from enlist.provisioning.service import Service
from enlist.provisioning.sources import store as source_store
from enlist.provisioning.target.client import ScimTarget
from tests.e2e.engine_harness import Harness
from tests.fakes.graph.app import FakeGraph
from tests.fakes.graph.server import serve
from tests.fakes.graph.tenant import Tenant
from tests.integration.sources.graph_helpers import CLIENT_ID, SECRET
from tests.live import portal_on_loopback

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ASSIGNED = ("Engineering", "Sales")
PortalState = tuple[dict[str, str | None], dict[str, set[str]]]


@contextlib.asynccontextmanager
async def fake_graph() -> AsyncIterator[FakeGraph]:
    """The fake Graph on loopback with the app `graph_helpers.reader_for` signs in as."""
    graph = FakeGraph()
    graph.tenant.register_app(CLIENT_ID, secret=SECRET)
    async with serve(graph):
        yield graph


def seed(t: Tenant) -> dict[str, str]:
    """Five people, Cleo managing three, in Engineering, Sales (both assigned) and Auditors
    (not); their ids by short name."""
    ids = {
        "ceo": t.create_user("ceo@contoso.com", displayName="Cleo Ortiz", jobTitle="CEO"),
        "ada": t.create_user("ada@contoso.com", displayName="Ada Lovelace", jobTitle="Engineer"),
        "bob": t.create_user("bob@contoso.com", displayName="Bob Stone"),
        "dan": t.create_user("dan@contoso.com", displayName="Dan Reed"),
        "eve": t.create_user("eve@contoso.com", displayName="Eve Moss"),
    }
    groups = {name.lower(): t.create_group(name) for name in ("Engineering", "Sales", "Auditors")}
    for group, member in (
        ("engineering", "ada"),
        ("engineering", "ceo"),
        ("sales", "bob"),
        ("sales", "dan"),
        ("auditors", "eve"),
    ):
        t.add_member(groups[group], ids[member])
    for report in ("ada", "bob", "dan"):
        t.set_manager(ids[report], ids["ceo"])
    return ids | groups


def expected(tenant: Tenant) -> PortalState:
    """What the portal must hold: `{userName: manager's userName}` of the active users, and
    `{group: member userNames}` of the assigned groups, computed from the fake's own state. A
    disabled or deleted user is out of scope (engine/scope.py), so no group lists it."""
    live = {uid: tenant.live_user(uid) for uid in tenant.users}
    in_scope = {uid: u for uid, u in live.items() if u and u["accountEnabled"]}
    groups = {
        g["displayName"]: {in_scope[m]["userPrincipalName"] for m in tenant.members[gid] if m in in_scope}
        for gid, g in tenant.groups.items()
        if g["displayName"] in ASSIGNED and tenant.live_group(gid)
    }
    assigned = {
        uid for gid, g in tenant.groups.items() if g["displayName"] in ASSIGNED for uid in tenant.members[gid]
    }
    upn = {uid: u["userPrincipalName"] for uid, u in live.items() if u}
    active = {
        upn[uid]: upn.get(tenant.managers.get(uid, ""))
        for uid in assigned
        if live.get(uid) and live[uid]["accountEnabled"]  # type: ignore[index]
    }
    return active, groups


async def portal_state(h: Harness) -> PortalState:
    users = await h.portal_users()
    name_of = {u["id"]: name for name, u in users.items()}
    active: dict[str, str | None] = {}
    for name, user in users.items():
        if user["active"]:
            manager = user.get(ENTERPRISE, {}).get("manager", {}).get("value")
            active[name] = name_of.get(manager) if manager else None
    return active, await h.portal_groups()


async def cycle(h: Harness, dialect: str) -> CycleSummary:
    """A cycle into the portal through the harness's in-process transport."""
    summary, _target = await h.sync(dialect)
    assert summary.status == "succeeded", summary
    assert summary.counts["failed"] == 0
    return summary


@contextlib.asynccontextmanager
async def portal_over_http(portal: Portal) -> AsyncIterator[str]:
    """The portal served on loopback; its Tenant URL for the harness's tenant."""
    async with portal_on_loopback(portal) as base:
        yield f"{base}/scim/v2/acme"


async def cycle_over_http(h: Harness, tenant_url: str, dialect: str) -> CycleSummary:
    """A cycle into the portal over real HTTP: every request crosses a socket."""
    async with ScimTarget(tenant_url, h.token, dialect=dialect) as target:  # type: ignore[arg-type]
        summary = await run_cycle(h.service, await h.app(), target=target)
    assert summary.status == "succeeded", summary
    assert summary.counts["failed"] == 0
    return summary


async def directory_snapshot(service: Service, source: str) -> dict[str, Any]:
    """Every row of the directory (users, groups, memberships, the change feed) and the
    source's cursor: equal snapshots are the same directory."""
    async with service.db.read() as conn:
        tables = {
            table.name: [
                tuple(row)
                for row in await conn.execute(
                    sa.select(table).order_by(*(c for c in table.primary_key.columns))
                )
            ]
            for table in (dir_users, dir_groups, dir_group_members, dir_changes)
        }
        tables["cursor"] = [((await source_store.get_source(conn, source)).cursor,)]
    return tables
