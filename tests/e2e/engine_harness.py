"""The engine wired to the portal in one process: a directory, an application, cycles.

The provisioning service talks to the portal's real SCIM endpoint through an in-process ASGI
transport (no socket), so a test can run cycles and then compare the portal's state with the
directory's.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import httpx2
import sqlalchemy as sa

from enlist.lms.api.app import create_app
from enlist.lms.api.runtime import Portal
from enlist.lms.store import tenants as tenant_store
from enlist.provisioning.directory.importer import import_directory, parse_directory_json
from enlist.provisioning.engine.runner import run_cycle
from enlist.provisioning.engine.summary import CycleSummary
from enlist.provisioning.mapping.mappings import default_group_mapping, default_user_mapping, mapping_to_json
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store.apps import App
from enlist.provisioning.target.client import ScimTarget
from tests.databases import recorded_statements

TENANT_URL = "http://portal.test/scim/v2/acme"


@dataclass
class Harness:
    portal: Portal
    service: Service
    token: str
    app_name: str = "Learning portal"

    def transport(self) -> httpx2.ASGITransport:
        return httpx2.ASGITransport(app=create_app(self.portal.settings, self.portal))

    def target(self, dialect: str, **options: Any) -> ScimTarget:
        return ScimTarget(TENANT_URL, self.token, dialect=dialect, transport=self.transport(), **options)  # type: ignore[arg-type]

    async def app(self) -> App:
        async with self.service.db.read() as conn:
            return await app_store.get_app(conn, self.app_name)

    async def load(self, directory: dict[str, Any], *, replace: bool = False) -> None:
        import orjson  # noqa: PLC0415

        data = parse_directory_json(orjson.dumps(directory).decode())
        async with self.service.db.write() as conn:
            await import_directory(conn, data, replace=replace)

    async def sync(self, dialect: str = "rfc", **options: Any) -> tuple[CycleSummary, ScimTarget]:
        app = await self.app()
        async with self.target(dialect, **options) as target:
            summary = await run_cycle(self.service, app, target=target)
        return summary, target

    async def scim(self, path: str, **params: Any) -> Any:
        async with httpx2.AsyncClient(transport=self.transport(), base_url="http://portal.test") as http:
            response = await http.get(
                f"/scim/v2/acme{path}",
                params=params or None,
                headers={"Authorization": f"Bearer {self.token}"},
            )
        assert response.status_code == 200, response.text
        return response.json()

    async def portal_users(self) -> dict[str, dict[str, Any]]:
        listing = await self.scim("/Users", count=1000)
        return {u["userName"]: u for u in listing["Resources"]}

    async def portal_groups(self) -> dict[str, set[str]]:
        """`{group name: {member userNames}}` as the portal's SCIM view shows them."""
        users = {u["id"]: name for name, u in (await self.portal_users()).items()}
        listing = await self.scim("/Groups", count=1000)
        return {
            g["displayName"]: {users[m["value"]] for m in g.get("members", [])} for g in listing["Resources"]
        }


async def harness(portal: Portal, service: Service, *, dialect: str = "rfc") -> Harness:
    async with portal.db.write() as conn:
        tenant = await tenant_store.create_tenant(conn, "acme")
        token = await tenant_store.add_token(conn, tenant, portal.peppers.current)
    h = Harness(portal, service, token)
    async with service.db.write() as conn:
        app = await app_store.create_app(
            conn,
            h.app_name,
            mapping_to_json(default_user_mapping()),
            mapping_to_json(default_group_mapping()),
        )
        await app_store.connect(conn, app, TENANT_URL, service.secrets.seal(token))
        await app_store.update_app(conn, app.id, settings={**app.settings.to_json(), "dialect": dialect})
        await app_store.start(conn, await app_store.get_app(conn, h.app_name))
    return h


async def assign_groups(h: Harness, *names: str) -> None:
    from enlist.provisioning.directory import store as directory  # noqa: PLC0415

    async with h.service.db.write() as conn:
        app = await app_store.get_app(conn, h.app_name)
        ids = [(await directory.get_group_by_name(conn, n)).id for n in names]  # type: ignore[union-attr]
        await app_store.assign(conn, app, "group", ids)


async def count_rows(h: Harness, table: sa.Table) -> int:
    async with h.service.db.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())


def statements(service: Service) -> AbstractContextManager[list[str]]:
    """Every SQL statement the service's engines run inside the block, normalised and lower-cased."""
    return recorded_statements(service.db, lambda sql, _parameters: " ".join(sql.split()).lower())
