# ruff: noqa: T201, INP001 (a command-line script: it prints its report; scripts/ is no package)
"""What `PRAGMA synchronous=FULL` costs a SCIM write on SQLite, against NORMAL, in one run.

    .venv/bin/python scripts/measure_synchronous.py [N]

Creates N users with sequential SCIM POSTs through the portal app in process, once per setting
and alternating (NORMAL, FULL, NORMAL, FULL) on fresh databases in one directory, and prints the
POSTs per second of each and the ratio. The figure is in docs/performance.md and ADR 0012.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

import httpx2

from enlist.db import database
from enlist.lms.api.app import create_app
from enlist.lms.api.runtime import open_portal
from enlist.lms.store import tenants
from enlist.settings import Settings

USER = "urn:ietf:params:scim:schemas:core:2.0:User"


async def posts_per_second(synchronous: str, folder: Path, count: int) -> float:
    database.SQLITE_PRAGMAS = tuple(
        f"PRAGMA synchronous={synchronous}" if p.startswith("PRAGMA synchronous") else p
        for p in database.SQLITE_PRAGMAS
    )
    settings = Settings(
        data_dir=folder,
        lms_public_url="http://portal.test",
        token_pepper="measure-pepper",  # type: ignore[arg-type]  # noqa: S106 - a throwaway database
    )
    portal = await open_portal(settings)
    try:
        async with portal.db.write() as conn:
            tenant = await tenants.create_tenant(conn, "acme")
            token = await tenants.add_token(conn, tenant, portal.peppers.current)
        app = create_app(settings, portal)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
        async with httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url="http://portal.test"
        ) as http:
            started = time.perf_counter()
            for n in range(count):
                body = {"schemas": [USER], "userName": f"u{n}@contoso.com", "active": True}
                answer = await http.post(f"/scim/v2/{tenant.slug}/Users", json=body, headers=headers)
                assert answer.status_code == 201, answer.text
            return count / (time.perf_counter() - started)
    finally:
        await portal.db.dispose()


async def main(count: int) -> None:
    rates: dict[str, list[float]] = {"NORMAL": [], "FULL": []}
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as root:
        for run, synchronous in enumerate(["NORMAL", "FULL", "NORMAL", "FULL"]):
            rates[synchronous].append(await posts_per_second(synchronous, Path(root) / str(run), count))
    normal, full = max(rates["NORMAL"]), max(rates["FULL"])
    print(f"NORMAL {normal:.0f} POST/s, FULL {full:.0f} POST/s, FULL/NORMAL {full / normal:.2f}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
