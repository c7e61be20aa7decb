"""Run the bulk-upload worker's `drain` once, in a process of its own (a test kills it).

Settings come from the environment (`ENLIST_PROVISIONING_DATABASE_URL`, `ENLIST_DATA_DIR`), as
for `enlist provisioning serve`."""

from __future__ import annotations

import asyncio

from enlist.provisioning.service import open_service
from enlist.provisioning.sources.push.worker import drain
from enlist.settings import Settings


async def main() -> None:
    service = await open_service(Settings())
    try:
        await drain(service)
    finally:
        await service.db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
