"""The Source contract suite: the same scenarios against every kind of source.

Each kind plugs in with a fixture that builds a `World`: something that can make the source hold
a given `Tenant` (users with managers, groups with user and nested-group members), and the
configured source that reads it. After every step the directory must equal the source: every
user and group of the tenant present (not soft-deleted) with its attributes, manager and
members; every one the tenant lost soft-deleted (restorable), never hard-deleted. A read cut
half-way applies nothing and keeps the cursor; a replayed page applies idempotently. The suite
runs on SQLite and on PostgreSQL (the `service` fixture).

To add a kind: an async context manager like `graph_world` giving the same `World`
interface for one test, and its name in `KINDS`. Graph runs against the fake Graph on loopback;
every scenario expresses itself there. Push holds a tenant by SCIM calls over loopback; it is
never read, so the two read scenarios (a cut read, a replayed page) do not apply to it (`reads`).
OpenLDAP against a real slapd (tests/ldap_servers), with syncrepl deltas and with entryCSN
polling. A world whose delta mechanism cannot see a deletion says `next_read_full` after one,
and its next read is the full read the source runs on its schedule.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import httpx2
import pytest
import sqlalchemy as sa

from enlist.provisioning.directory.tables import dir_group_members, dir_groups, dir_users
from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from enlist.provisioning.sources.apply import COUNT_KEYS
from enlist.provisioning.sources.model import Page, Round, SourceReader, SourceUnavailableError
from enlist.provisioning.sources.push import operations as push_operations
from enlist.provisioning.sources.read import open_reader, read_source
from enlist.provisioning.sources.store import Source
from tests.fakes.graph.app import FakeGraph
from tests.fakes.graph.server import serve
from tests.integration.push.server import serve as serve_provisioning
from tests.ldap_servers.samba_world import ad_dirsync_world, ad_world
from tests.ldap_servers.slapd_world import openldap_timestamp_world, openldap_world

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@dataclass(frozen=True)
class User:
    id: str
    upn: str
    display_name: str
    job_title: str | None = "Staff"
    enabled: bool = True
    manager: str | None = None  # the manager's id


@dataclass(frozen=True)
class Group:
    id: str
    name: str
    users: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()


@dataclass
class Tenant:
    users: dict[str, User] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)


class World(Protocol):
    reads_deltas: bool  # capability: a read after the first is a delta round (not a whole file)
    reads: bool  # capability: the source is read (a push source is written into instead)
    tenant_ids: dict[str, str]  # source id -> the tenant's id, where the source chose its own ids

    async def hold(self, tenant: Tenant) -> None:
        """Make the source hold exactly `tenant`."""

    async def source(self) -> Source: ...


def _guid() -> str:
    return str(uuid.uuid4())


# The file kind ----------------------------------------------------------------------------------


class FileWorld:
    reads_deltas = False  # each new file is read whole
    reads = True
    tenant_ids: dict[str, str] = {}  # noqa: RUF012 (never written)

    def __init__(self, service: Service, folder: Path, name: str) -> None:
        self.service, self.folder, self.name = service, folder, name
        self.files = 0

    async def hold(self, tenant: Tenant) -> None:
        upn = {u.id: u.upn for u in tenant.users.values()}
        names = {g.id: g.name for g in tenant.groups.values()}
        document: dict[str, Any] = {
            "users": [
                {
                    "id": u.id,
                    "userPrincipalName": u.upn,
                    "displayName": u.display_name,
                    "jobTitle": u.job_title,
                    "accountEnabled": u.enabled,
                    **({"manager": upn[u.manager]} if u.manager else {}),
                }
                for u in tenant.users.values()
            ],
            "groups": [
                {
                    "id": g.id,
                    "displayName": g.name,
                    "members": sorted(upn[m] for m in g.users),
                    "groupMembers": sorted(names[m] for m in g.groups),
                }
                for g in tenant.groups.values()
            ],
        }
        self.files += 1
        path = self.folder / f"hr-{self.files:04d}.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        os.utime(path, ns=(self.files * 10**9, self.files * 10**9))

    async def source(self) -> Source:
        return await operations.get(self.service, self.name)


async def file_world(service: Service, tmp_path: Path) -> FileWorld:
    folder = tmp_path / "drop"
    folder.mkdir()
    await operations.add(service, "hr", "file", {"path": str(folder)}, {})
    return FileWorld(service, folder, "hr")


# The Graph kind: the fake Graph on loopback, changed only through its test API -----------------

GRAPH_CLIENT_ID = "11111111-2222-3333-4444-555555555555"
GRAPH_SECRET = "contract-secret~1"


class GraphWorld:
    """Holds a `Tenant` by sending the fake Graph the changes from the last one held, as an
    admin's edits in Entra would be: so every read after the first is a real delta round."""

    reads_deltas = True
    reads = True
    tenant_ids: dict[str, str] = {}  # noqa: RUF012 (never written)

    def __init__(self, service: Service, fake: FakeGraph, name: str) -> None:
        self.service, self.fake, self.name = service, fake, name
        self.held = Tenant()

    async def hold(self, tenant: Tenant) -> None:
        graph, was = self.fake.tenant, self.held
        for user in tenant.users.values():
            props = {
                "displayName": user.display_name,
                "jobTitle": user.job_title,
                "accountEnabled": user.enabled,
            }
            before = was.users.get(user.id)
            if before is None and user.id in graph.users:
                graph.restore_user(user.id)  # from the recycle bin, as Entra restores
                graph.update_user(user.id, userPrincipalName=user.upn, mail=user.upn, **props)
            elif before is None:
                graph.create_user(user.upn, id=user.id, **props)
            elif before != replace(user, manager=before.manager):
                graph.update_user(user.id, userPrincipalName=user.upn, mail=user.upn, **props)
        for group in tenant.groups.values():
            if group.id not in was.groups:
                graph.create_group(group.name, id=group.id)
            elif was.groups[group.id].name != group.name:
                graph.update_group(group.id, displayName=group.name)
        for group in tenant.groups.values():
            old = was.groups.get(group.id, Group(group.id, group.name))
            for member in sorted((group.users | group.groups) - (old.users | old.groups)):
                graph.add_member(group.id, member)
            for member in sorted((old.users | old.groups) - (group.users | group.groups)):
                graph.remove_member(group.id, member)
        for user in tenant.users.values():
            if graph.managers.get(user.id) != user.manager:
                graph.set_manager(user.id, user.manager)
        for group_id in set(was.groups) - set(tenant.groups):
            for member in sorted(graph.members[group_id]):
                graph.remove_member(group_id, member)
            graph.delete_group(group_id)
        for user_id in set(was.users) - set(tenant.users):
            graph.delete_user(user_id)
        self.held = Tenant(dict(tenant.users), dict(tenant.groups))

    async def source(self) -> Source:
        return await operations.get(self.service, self.name)


@contextlib.asynccontextmanager
async def graph_world(service: Service, _tmp_path: Path) -> AsyncIterator[GraphWorld]:
    fake = FakeGraph()
    fake.tenant.register_app(GRAPH_CLIENT_ID, secret=GRAPH_SECRET)
    async with serve(fake):
        settings = operations.graph_settings(
            fake.tenant.tenant_id, GRAPH_CLIENT_ID, fake.graph_base, fake.auth_base
        )
        settings["requests_per_second"] = 0  # loopback: no pacing needed
        await operations.add(service, "entra", "graph", settings, {"client_secret": GRAPH_SECRET})
        yield GraphWorld(service, fake, "entra")


# The push kind: a SCIM client over real HTTP on loopback -----------------------------------------


class PushWorld:
    """Holds a `Tenant` by sending the push endpoint the SCIM calls that turn the last tenant
    held into this one, as an IdP (Okta, an Entra-like client) would: POST, PUT (whole users and
    whole member lists), DELETE. The endpoint mints its own ids, so `tenant_ids` maps them back.
    A "read" is what the pushes since the last one applied: the counts each push recorded."""

    reads_deltas = True  # every push is a change, never a whole round
    reads = False

    def __init__(self, service: Service, client: httpx2.AsyncClient, name: str) -> None:
        self.service, self.client, self.name = service, client, name
        self.held = Tenant()
        self.push_ids: dict[str, str] = {}  # tenant id -> push id
        self.counts = dict.fromkeys(COUNT_KEYS, 0)

    @property
    def tenant_ids(self) -> dict[str, str]:
        return {v: k for k, v in self.push_ids.items()}

    async def _send(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = await self.client.request(method, path, json=body)
        assert answer.status_code in (200, 201, 204), (method, path, answer.text)
        source = await self.source()
        for key in COUNT_KEYS:
            self.counts[key] += int((source.last_counts or {}).get(key, 0))
        return answer.json() if answer.content else {}

    def _user(self, user: User) -> dict[str, Any]:
        body: dict[str, Any] = {
            "userName": user.upn,
            "displayName": user.display_name,
            "active": user.enabled,
            "emails": [{"value": user.upn, "type": "work", "primary": True}],
        }
        if user.job_title is not None:
            body["title"] = user.job_title
        if user.manager:
            body[ENTERPRISE] = {"manager": {"value": self.push_ids[user.manager]}}
        return body

    def _group(self, group: Group) -> dict[str, Any]:
        members = sorted(group.users | group.groups)
        return {"displayName": group.name, "members": [{"value": self.push_ids[m]} for m in members]}

    async def hold(self, tenant: Tenant) -> None:
        was = self.held
        todo = [u for u in tenant.users.values() if was.users.get(u.id) != u]
        while todo:  # a user whose manager is not live yet (new, or restored now) waits for it
            arriving = {u.id for u in todo if u.id not in was.users}
            ready = [u for u in todo if not u.manager or u.manager not in arriving]
            for user in ready:
                if user.id in was.users:
                    await self._send("PUT", f"/Users/{self.push_ids[user.id]}", self._user(user))
                else:  # new, or restored: a POST of a deleted user's userName restores it
                    self.push_ids[user.id] = (await self._send("POST", "/Users", self._user(user)))["id"]
            todo = [u for u in todo if u not in ready]
        todo_groups = [g for g in tenant.groups.values() if was.groups.get(g.id) != g]
        while todo_groups:  # a group whose nested groups are not pushed yet waits for them
            ready_groups = [g for g in todo_groups if g.groups <= self.push_ids.keys()]
            for group in ready_groups:
                if group.id in was.groups:
                    await self._send("PUT", f"/Groups/{self.push_ids[group.id]}", self._group(group))
                else:
                    self.push_ids[group.id] = (await self._send("POST", "/Groups", self._group(group)))["id"]
            todo_groups = [g for g in todo_groups if g not in ready_groups]
        for group_id in set(was.groups) - set(tenant.groups):
            await self._send("DELETE", f"/Groups/{self.push_ids[group_id]}")
        for user_id in set(was.users) - set(tenant.users):
            await self._send("DELETE", f"/Users/{self.push_ids[user_id]}")
        self.held = Tenant(dict(tenant.users), dict(tenant.groups))

    def collected(self) -> dict[str, Any]:
        """The counts of the pushes since the last call, as a read's result."""
        counts, self.counts = self.counts, dict.fromkeys(COUNT_KEYS, 0)
        return {"source": self.name, "kind": "delta", **counts}

    async def source(self) -> Source:
        return await operations.get(self.service, self.name)


@contextlib.asynccontextmanager
async def push_world(service: Service, _tmp_path: Path) -> AsyncIterator[PushWorld]:
    async with serve_provisioning(service) as served:
        added = await push_operations.add(served, "okta")
        headers = {"Authorization": f"Bearer {added['token']}", "Content-Type": "application/scim+json"}
        async with httpx2.AsyncClient(base_url=added["base_url"], headers=headers, timeout=60) as client:
            yield PushWorld(served, client, "okta")


@contextlib.asynccontextmanager
async def _file_world(service: Service, tmp_path: Path) -> AsyncIterator[FileWorld]:
    yield await file_world(service, tmp_path)


# A kind: an async context manager giving its World for the length of one test.
KINDS: dict[str, Callable[[Service, Path], contextlib.AbstractAsyncContextManager[World]]] = {
    "file": _file_world,
    "graph": graph_world,
    "scim-push": push_world,
    "ad": ad_world,  # real Samba AD DC, uSNChanged deltas, tombstones
    "ad-dirsync": ad_dirsync_world,  # real Samba AD DC, DirSync deltas
    "openldap": openldap_world,  # real slapd, syncrepl refreshOnly deltas
    "openldap-timestamp": openldap_timestamp_world,  # real slapd, entryCSN polling deltas
}


@pytest.fixture(params=sorted(KINDS))
async def world(request: pytest.FixtureRequest, service: Service, tmp_path: Path) -> AsyncIterator[World]:
    async with KINDS[request.param](service, tmp_path) as built:
        yield built


# Checking the directory against the tenant ---------------------------------------------------------


async def directory_of(service: Service, name: str, ids: dict[str, str] | None = None) -> dict[str, Any]:
    """This source's objects by source id (translated by `ids`, the world's `tenant_ids`):
    attributes, manager's source id, members, deleted."""
    async with service.db.read() as conn:
        users = (await conn.execute(sa.select(dir_users).where(dir_users.c.source == name))).all()
        groups = (await conn.execute(sa.select(dir_groups).where(dir_groups.c.source == name))).all()
        members = (await conn.execute(sa.select(dir_group_members))).all()
    ids = ids or {}
    sid = {r.id: ids.get(r.source_id, r.source_id) for r in [*users, *groups]}
    return {
        "users": {
            sid[r.id]: {
                "upn": r.upn,
                "displayName": r.attributes.get("displayName"),
                "jobTitle": r.attributes.get("jobTitle"),
                "enabled": r.account_enabled,
                "manager": sid.get(r.manager_id) if r.manager_id else None,
                "deleted": r.deleted_at is not None,
            }
            for r in users
        },
        "groups": {
            sid[r.id]: {
                "name": r.display_name,
                "users": {
                    sid[m.member_id] for m in members if m.group_id == r.id and m.member_type == "user"
                },
                "groups": {
                    sid[m.member_id] for m in members if m.group_id == r.id and m.member_type == "group"
                },
                "deleted": r.deleted_at is not None,
            }
            for r in groups
        },
    }


async def assert_equals(
    service: Service,
    name: str,
    tenant: Tenant,
    gone: set[str] = frozenset(),  # type: ignore[assignment]
    ids: dict[str, str] | None = None,
) -> None:
    found = await directory_of(service, name, ids)
    want_users = {
        u.id: {
            "upn": u.upn,
            "displayName": u.display_name,
            "jobTitle": u.job_title,
            "enabled": u.enabled,
            "manager": u.manager,
            "deleted": False,
        }
        for u in tenant.users.values()
    }
    live_users = {k: v for k, v in found["users"].items() if not v["deleted"]}
    assert live_users == want_users
    want_groups = {
        g.id: {"name": g.name, "users": set(g.users), "groups": set(g.groups), "deleted": False}
        for g in tenant.groups.values()
    }
    assert {k: v for k, v in found["groups"].items() if not v["deleted"]} == want_groups
    for object_id in gone:
        kind = "users" if object_id in found["users"] else "groups"
        assert found[kind][object_id]["deleted"], f"{object_id} should be soft-deleted"


async def read(world: World) -> dict[str, Any]:
    """A read of the world's source; a full one when the world says its next read must be (a
    delta mechanism that cannot see deletions: the source's full read on its schedule does)."""
    if isinstance(world, PushWorld):
        return world.collected()  # what the pushes since the last "read" applied
    service = world.service  # type: ignore[attr-defined]
    full = bool(getattr(world, "next_read_full", False))
    return (await read_source(service, await world.source(), full=full)).to_json()


def starting_tenant() -> Tenant:
    boss, ann, bob, cy = (_guid() for _ in range(4))
    staff, sales, everyone = (_guid() for _ in range(3))
    users = {
        boss: User(boss, "boss@contoso.com", "The Boss", "CEO"),
        ann: User(ann, "ann@contoso.com", "Ann", manager=boss),
        bob: User(bob, "bob@contoso.com", "Bob", manager=boss),
        cy: User(cy, "cy@contoso.com", "Cy", manager=ann),
    }
    groups = {
        staff: Group(staff, "Staff", frozenset({ann, bob})),
        sales: Group(sales, "Sales", frozenset({cy})),
        everyone: Group(everyone, "Everyone", frozenset({boss}), frozenset({staff, sales})),
    }
    return Tenant(users, groups)


# The scenarios -----------------------------------------------------------------------------------


async def test_every_step_leaves_the_directory_equal_to_the_source(world: World) -> None:
    service: Service = world.service  # type: ignore[attr-defined]
    name = (await world.source()).name
    tenant = starting_tenant()
    ids = list(tenant.users)
    boss, ann, bob, cy = ids
    staff, sales, _everyone = list(tenant.groups)

    change_count: list[int] = []

    async def step(change: Callable[[Tenant], None], gone: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
        change(tenant)
        await world.hold(tenant)
        result = await read(world)
        await assert_equals(service, name, tenant, gone, world.tenant_ids)
        if world.reads_deltas and change_count and not getattr(world, "next_read_full", False):
            assert result["kind"] == "delta"
        change_count.append(1)
        return result

    created = await step(lambda t: None)
    assert (created["users_created"], created["groups_created"]) == (4, 3)
    assert created["memberships_added"] == 6

    changed = await step(lambda t: t.users.update({bob: replace(t.users[bob], job_title="Lead")}))
    assert changed["users_updated"] == 1

    ann_id = {tenant_id: sid for sid, tenant_id in world.tenant_ids.items()}.get(ann, ann)
    async with service.db.read() as conn:
        before = (
            await conn.execute(sa.select(dir_users.c.id).where(dir_users.c.source_id == ann_id))
        ).scalar_one()
    renamed = await step(lambda t: t.users.update({ann: replace(t.users[ann], upn="ann.smith@contoso.com")}))
    assert (renamed["users_updated"], renamed["users_created"], renamed["users_deleted"]) == (1, 0, 0)
    async with service.db.read() as conn:
        after = (
            await conn.execute(sa.select(dir_users.c.id).where(dir_users.c.source_id == ann_id))
        ).scalar_one()
    assert before == after, "a rename keeps the object"

    await step(lambda t: t.users.update({bob: replace(t.users[bob], enabled=False)}))

    removed_user = tenant.users[cy]

    def delete_cy(t: Tenant) -> None:
        del t.users[cy]
        t.groups[sales] = replace(t.groups[sales], users=frozenset())

    deleted = await step(delete_cy, gone={cy})
    assert deleted["users_deleted"] == 1

    def restore_cy(t: Tenant) -> None:
        t.users[cy] = removed_user
        t.groups[sales] = replace(t.groups[sales], users=frozenset({cy}))

    restored = await step(restore_cy)
    assert restored["users_deleted"] == 0

    await step(lambda t: t.groups.update({staff: replace(t.groups[staff], users=frozenset({ann, bob, cy}))}))
    await step(lambda t: t.groups.update({staff: replace(t.groups[staff], users=frozenset({ann}))}))
    await step(
        lambda t: t.groups.update({sales: replace(t.groups[sales], groups=frozenset({staff}))})
    )  # nested
    await step(lambda t: t.users.update({boss: replace(t.users[boss], manager=None)}))
    await step(lambda t: t.users.update({bob: replace(t.users[bob], manager=ann)}))  # changed
    await step(lambda t: t.users.update({cy: replace(t.users[cy], manager=None)}))  # removed
    await step(lambda t: t.users.update({boss: replace(t.users[boss], manager=cy)}))  # set

    def delete_group(t: Tenant) -> None:
        del t.groups[sales]
        t.groups[_everyone] = replace(t.groups[_everyone], groups=frozenset({staff}))

    await step(delete_group, gone={sales})


class CutReader:
    """The kind's reader, whose rounds stop with `SourceUnavailableError` after `pages` pages."""

    def __init__(self, inner: SourceReader, pages: int) -> None:
        self.inner, self.pages_before_cut = inner, pages

    async def check(self) -> Any:
        return await self.inner.check()

    async def start_round(self, cursor: str | None, *, full: bool = False) -> Round:
        inner = await self.inner.start_round(cursor, full=full)
        limit = self.pages_before_cut

        class Cut:
            kind = inner.kind

            async def pages(self) -> AsyncIterator[Page]:
                count = 0
                async for page in inner.pages():
                    if count == limit:
                        raise SourceUnavailableError("cut off half-way (test)")
                    count += 1
                    yield page

            @property
            def cursor(self) -> str | None:
                return inner.cursor

        return Cut()


class ReplayReader(CutReader):
    """The kind's reader, whose rounds give every page twice (a replayed page)."""

    async def start_round(self, cursor: str | None, *, full: bool = False) -> Round:
        inner = await self.inner.start_round(cursor, full=full)

        class Replayed:
            kind = inner.kind

            async def pages(self) -> AsyncIterator[Page]:
                async for page in inner.pages():
                    yield page
                    yield page

            @property
            def cursor(self) -> str | None:
                return inner.cursor

        return Replayed()


NOT_READ = (
    "a push source is never read: each push is applied in its own transaction, all or nothing "
    "(tests/integration/push: a bad request or bulk operation applies nothing, a killed bulk worker "
    "loses and repeats nothing)"
)


async def test_a_read_cut_half_way_applies_nothing_and_keeps_the_cursor(world: World) -> None:
    if not world.reads:
        pytest.skip(NOT_READ)
    service: Service = world.service  # type: ignore[attr-defined]
    tenant = starting_tenant()
    await world.hold(tenant)
    await read(world)
    source = await world.source()
    before = await directory_of(service, source.name)
    boss = next(iter(tenant.users))
    tenant.users[boss] = replace(tenant.users[boss], job_title="Chair")
    for user_id in list(tenant.users)[1:]:
        del tenant.users[user_id]  # removals too: a cut read must not apply them
    for group in list(tenant.groups):
        tenant.groups[group] = replace(tenant.groups[group], users=frozenset({boss}), groups=frozenset())
    await world.hold(tenant)
    cut = CutReader(open_reader(source, service.secrets), pages=1)
    with pytest.raises(SourceUnavailableError):
        await read_source(service, source, reader=cut)
    assert await directory_of(service, source.name) == before
    after = await world.source()
    assert after.cursor == source.cursor
    assert after.last_status == "failed"
    await read(world)  # the next read converges
    await assert_equals(service, source.name, tenant, ids=world.tenant_ids)


async def test_a_replayed_page_applies_idempotently(world: World) -> None:
    if not world.reads:
        pytest.skip(NOT_READ)
    service: Service = world.service  # type: ignore[attr-defined]
    tenant = starting_tenant()
    await world.hold(tenant)
    source = await world.source()
    replayed = ReplayReader(open_reader(source, service.secrets), pages=0)
    result = (await read_source(service, source, reader=replayed)).to_json()
    await assert_equals(service, source.name, tenant, ids=world.tenant_ids)
    assert (result["users_created"], result["groups_created"], result["memberships_added"]) == (4, 3, 6)
