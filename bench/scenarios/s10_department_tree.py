"""S10, the department tree rule: switching a tenant to it (`department_source=attribute`), which
places every user at once, at `s10_users[1]` users (100,000 at full size) against the same
change at `s10_users[0]` (10,000) in the same run, on SQLite and on PostgreSQL.

In process, on the portal's store (no server: the change is an admin operation, not a request).
The users are written straight to the store, each with an Enterprise `department` path taken in
turn from `PATHS` (5 paths, 8 departments to create), all in the root department; then
`operations.set_policy` runs in one write transaction, timed, with every statement counted
(`tests.databases.recorded_statements`). The row's ratio is the large change's time over the
small one's; the target: linear or better (<= 15x for 10x the users) and the same number of
statements at both sizes (ADR 0034).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.databases import recorded_statements

from bench.context import Context
from bench.report import Row
from enlist.db.database import Database
from enlist.db.migrate import upgrade
from enlist.db.rows import new_id, now
from enlist.lms import operations
from enlist.lms.api.runtime import MIGRATIONS, VERSION_TABLE
from enlist.lms.domain.tenants import Tenant
from enlist.lms.store import tenants as tenant_store
from enlist.lms.store.tables import users
from enlist.scim.schema import ENTERPRISE_USER_SCHEMA_ID

PATHS = ("Sales/EMEA/North", "Sales/EMEA/South", "Sales/North America", "Engineering/Tools", "Finance")
CHUNK = 5_000
TARGET = 15.0  # 10x the users: linear would be 10x; a little slack for a shared machine


async def _seeded(db: Database, count: int) -> Tenant:
    async with db.write() as conn:
        tenant = await tenant_store.create_tenant(conn, f"S10 {count}")
    moment = now()
    for start in range(0, count, CHUNK):
        rows = [
            {
                "id": new_id(),
                "tenant_id": tenant.id,
                "user_name": f"s10user{i}@bench.example.com",
                "user_name_ci": f"s10user{i}@bench.example.com",
                "status": "active",
                "doc": {
                    "userName": f"s10user{i}@bench.example.com",
                    ENTERPRISE_USER_SCHEMA_ID: {"department": PATHS[i % len(PATHS)]},
                },
                "version": 1,
                "created_at": moment,
                "updated_at": moment,
                "status_changed_at": moment,
                "department_id": tenant.root_department_id,
            }
            for i in range(start, min(start + CHUNK, count))
        ]
        async with db.write() as conn:
            await conn.execute(users.insert(), rows)
    return tenant


async def _change(db: Database, tenant: Tenant) -> dict[str, Any]:
    """The rule switched on: seconds, statements, users moved."""
    with recorded_statements(db, lambda sql, _parameters: sql) as seen:
        started = time.perf_counter()
        async with db.write() as conn:
            saved = await operations.set_policy(conn, tenant, {"department_source": "attribute"})
        took = time.perf_counter() - started
    return {"seconds": took, "statements": len(seen), "moved": saved.replaced}


async def _measure(url: str, sizes: tuple[int, int]) -> dict[str, dict[str, Any]]:
    db = Database(url)
    try:
        await upgrade(db, MIGRATIONS, VERSION_TABLE)
        out = {}
        for name, count in zip(("small", "large"), sizes, strict=True):
            tenant = await _seeded(db, count)
            out[name] = {"users": count, **await _change(db, tenant)}
            if out[name]["moved"] != count:
                raise RuntimeError(f"the rule moved {out[name]['moved']} of {count} users")
        return out
    finally:
        await db.dispose()


def _row(kind: str, figures: dict[str, dict[str, Any]]) -> Row:
    small, large = figures["small"], figures["large"]
    ratio = large["seconds"] / small["seconds"]
    same = small["statements"] == large["statements"]
    return Row(
        f"S10 {kind}",
        f"department tree rule change, {large['users']:,} vs {small['users']:,} users",
        large["seconds"],
        small["seconds"],
        "s",
        ratio,
        f"<= {TARGET:g}x, the same statements",
        ratio <= TARGET and same,
        f"{large['statements']} statements at {large['users']:,} users, "
        f"{small['statements']} at {small['users']:,}",
        figures,
    )


async def run(ctx: Context) -> list[Row]:
    sizes = ctx.sizes.s10_users
    folder: Path = ctx.ws.dir("s10")
    rows = [_row("SQLite", await _measure(f"sqlite+aiosqlite:///{folder / 'lms.sqlite3'}", sizes))]
    url = await (await ctx.pg()).database("s10")
    rows.append(_row("PostgreSQL", await _measure(url, sizes)))
    return rows
