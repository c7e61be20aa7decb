"""Two processes asked to read one source at the same moment (two `serve` schedulers over one
database): exactly one reads it, the other is refused with `SourceBusyError`, and the round is
applied once."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from enlist.provisioning.directory.tables import dir_users
from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations

CHILD = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from enlist.db.database import Database
    from enlist.secretbox import load_secret_box
    from enlist.provisioning.service import Service
    from enlist.provisioning.sources import operations
    from enlist.provisioning.sources.model import CheckResult, Page, UserRecord
    from enlist.provisioning.sources.read import SourceBusyError, read_source
    from enlist.settings import load_settings

    class SlowRound:
        kind = "full"
        cursor = "c1"
        async def pages(self):
            for i in range(3):
                await asyncio.sleep(0.5)  # a slow source: the two claims overlap
                yield Page(users=(UserRecord(f"u{i}", {"userPrincipalName": f"u{i}@x.com"}),))

    class Slow:
        async def check(self):
            return CheckResult(True, "slow")
        async def start_round(self, cursor, *, full=False):
            return SlowRound()

    async def main(url, start_at):
        settings = load_settings()
        db = Database(url)
        service = Service(settings, db, load_secret_box(settings))
        source = await operations.get(service, "shared")
        while time.time() < start_at:
            await asyncio.sleep(0.005)
        try:
            result = await read_source(service, source, reader=Slow())
            print(json.dumps({"read": result.report.counts["users_created"]}))
        except SourceBusyError:
            print(json.dumps({"busy": True}))
        finally:
            await db.dispose()

    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
    """
)


@pytest.mark.parametrize(
    "database_kind", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_two_processes_never_read_one_source_at_once(
    service: Service, provisioning_database_url: str, tmp_path: Path
) -> None:
    import time  # noqa: PLC0415

    await operations.add(service, "shared", "file", {}, {})
    env = {**os.environ, "ENLIST_DATA_DIR": str(tmp_path)}
    start_at = f"{time.time() + 3:.3f}"
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CHILD,
            provisioning_database_url,
            start_at,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outcomes = []
    for child in children:
        out, err = await asyncio.wait_for(child.communicate(), timeout=120)
        assert child.returncode == 0, err.decode()
        outcomes.append(json.loads(out.decode().strip().splitlines()[-1]))
    assert sorted(outcomes, key=str) == [{"busy": True}, {"read": 3}]
    async with service.db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(dir_users))).scalar_one() == 3
