"""The Target contract suite's two sides: SCIM targets reached over real loopback HTTP, and the
provisioning engine driving one application connected to such a target.

A `ContractTarget` is a Tenant URL, its bearer token and the target's `Capabilities`: what the
SCIM service does where RFC 7643/7644 leave a choice. The scenarios expect each flag's
behaviour exactly, both ways, so a flag cannot hide a regression of ours, nor stay wrong once
the target changes.

`Provisioning` is the engine's side: one application with the default mappings (Entra's), its
directory, assignments and cycles, on the service's database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx2
import orjson

from enlist.provisioning.directory import lifecycle
from enlist.provisioning.directory import store as directory
from enlist.provisioning.directory.importer import import_directory, parse_directory_json
from enlist.provisioning.engine.runner import run_cycle
from enlist.provisioning.engine.summary import CycleSummary
from enlist.provisioning.logs import store as log_store
from enlist.provisioning.mapping.mappings import (
    ObjectMapping,
    default_group_mapping,
    default_user_mapping,
    mapping_to_json,
)
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from tests.e2e.scenario_helpers import TargetState, assert_clean, read_target


@dataclass(frozen=True)
class Capabilities:
    """What a target does beyond creating, reading, patching and deleting users and groups.

    `defaults_active`: a user created without `active` reads back `active: true` (the portal);
    without it the target returns no `active` at all (scim2-server: RFC 7643 gives no default).
    `revives_deleted_users`: a user created with the userName of one it deleted is that user
    again, with its old id (the portal's default delete policy terminates and keeps the person;
    RFC 7644 leaves it to the service), instead of a new resource with a new id.
    """

    defaults_active: bool = False
    revives_deleted_users: bool = False


@dataclass(frozen=True)
class ContractTarget:
    name: str
    tenant_url: str
    token: str
    capabilities: Capabilities

    def client(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(headers={"Authorization": f"Bearer {self.token}"}, timeout=30)

    async def state(self) -> TargetState:
        """Every user and group the target holds, read through its own SCIM API."""
        async with self.client() as http:
            return await read_target(http, self.tenant_url)

    async def status(self, path: str) -> int:
        """The status of `GET {Tenant URL}{path}` (200, 404…)."""
        async with self.client() as http:
            return (await http.get(f"{self.tenant_url}{path}")).status_code


def without_active(mapping: ObjectMapping) -> ObjectMapping:
    """`mapping` without its `active` row: the engine then deletes a user that leaves scope."""
    rows = tuple(m for m in mapping.attributes if m.target != "active")
    return ObjectMapping(mapping.object_kind, mapping.enabled, rows)


@dataclass
class Provisioning:
    """One application of the provisioning service, connected to a target."""

    service: Service
    app_name: str = "Contract target"

    async def connect(self, target: ContractTarget, *, user_mapping: ObjectMapping | None = None) -> None:
        """Create the app (default mappings unless given), connect it to `target` and start it."""
        users = user_mapping or default_user_mapping()
        async with self.service.db.write() as conn:
            app = await app_store.create_app(
                conn, self.app_name, mapping_to_json(users), mapping_to_json(default_group_mapping())
            )
            await app_store.connect(conn, app, target.tenant_url, self.service.secrets.seal(target.token))
            await app_store.start(conn, await app_store.get_app(conn, self.app_name))

    async def load(self, data: dict[str, Any]) -> None:
        """Import `data` (a directory file's dict) as `enlist provisioning directory import` does."""
        parsed = parse_directory_json(orjson.dumps(data).decode())
        async with self.service.db.write() as conn:
            await import_directory(conn, parsed, replace=False)

    async def user_id(self, upn: str) -> str:
        async with self.service.db.read() as conn:
            user = await directory.get_user_by_upn(conn, upn)
        assert user is not None, upn
        return user.id

    async def group_id(self, name: str) -> str:
        async with self.service.db.read() as conn:
            group = await directory.get_group_by_name(conn, name)
        assert group is not None, name
        return group.id

    async def _ids(self, kind: str, names: tuple[str, ...]) -> list[str]:
        return [await (self.user_id(n) if kind == "user" else self.group_id(n)) for n in names]

    async def assign(self, kind: str, *names: str) -> None:
        ids = await self._ids(kind, names)
        async with self.service.db.write() as conn:
            await app_store.assign(conn, await app_store.get_app(conn, self.app_name), kind, ids)

    async def unassign(self, kind: str, *names: str) -> None:
        ids = await self._ids(kind, names)
        async with self.service.db.write() as conn:
            await app_store.unassign(conn, await app_store.get_app(conn, self.app_name), kind, ids)

    async def soft_delete_user(self, upn: str) -> None:
        user = await self.user_id(upn)
        async with self.service.db.write() as conn:
            assert await lifecycle.soft_delete_user(conn, user)

    async def restore_user(self, upn: str) -> None:
        user = await self.user_id(upn)  # soft-deleted users are found by UPN too
        async with self.service.db.write() as conn:
            assert await lifecycle.restore_user(conn, user)

    async def hard_delete_user(self, upn: str) -> None:
        user = await self.user_id(upn)
        async with self.service.db.write() as conn:
            await lifecycle.hard_delete_user(conn, user)

    async def soft_delete_group(self, name: str) -> None:
        group = await self.group_id(name)
        async with self.service.db.write() as conn:
            assert await lifecycle.soft_delete_group(conn, group)

    async def restore_group(self, name: str) -> None:
        group = await self.group_id(name)  # soft-deleted groups are found by name too
        async with self.service.db.write() as conn:
            assert await lifecycle.restore_group(conn, group)

    async def cycle(self) -> CycleSummary:
        """One cycle over real HTTP; every object succeeded (the failures' reasons shown if not)."""
        async with self.service.db.read() as conn:
            app = await app_store.get_app(conn, self.app_name)
        summary = await run_cycle(self.service, app)
        async with self.service.db.read() as conn:
            failed = await log_store.read(
                conn, app.id, log_store.LogFilter(cycle_id=summary.cycle_id, status="failure", limit=1000)
            )
        assert [(r["source_name"], r["reason"]) for r in failed] == []
        assert_clean(summary)
        return summary
