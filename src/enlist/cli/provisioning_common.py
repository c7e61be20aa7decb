"""What every `enlist provisioning` command shares: opening the service, reading secrets."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from enlist.cli.output import fail

if TYPE_CHECKING:
    from enlist.provisioning.service import Service

T = TypeVar("T")


def run(work: Callable[[Service], Awaitable[T]]) -> T:
    """Open the provisioning database (migrating it), run `work`, close it; expected errors are
    printed as one line on stderr with exit code 1."""

    from enlist.provisioning.service import open_service  # noqa: PLC0415 (not for `--help`)
    from enlist.settings import load_settings  # noqa: PLC0415

    async def main() -> T:
        service = await open_service(load_settings())
        try:
            return await work(service)
        finally:
            await service.db.dispose()

    try:
        return asyncio.run(main())
    except Exception as exc:
        # Imported only on failure: the operations module loads the whole engine (HTTP client,
        # metrics), which a command that reads the database does not need.
        from enlist.provisioning.operations import EXPECTED  # noqa: PLC0415

        if isinstance(exc, EXPECTED):
            fail(str(exc))
        raise


def read_secret(value: str) -> str:
    """`-` reads the Secret token from stdin, so it does not show in the process list."""
    if value == "-":
        return sys.stdin.readline().strip()
    return value
