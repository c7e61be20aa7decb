"""What every `enlist provisioning` command shares: opening the service, reading secrets."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from enlist.cli.output import fail
from enlist.provisioning.operations import EXPECTED
from enlist.provisioning.service import Service, open_service
from enlist.settings import load_settings

T = TypeVar("T")


def run(work: Callable[[Service], Awaitable[T]]) -> T:
    """Open the provisioning database (migrating it), run `work`, close it; expected errors are
    printed as one line on stderr with exit code 1."""

    async def main() -> T:
        service = await open_service(load_settings())
        try:
            return await work(service)
        finally:
            await service.db.dispose()

    try:
        return asyncio.run(main())
    except EXPECTED as exc:
        fail(str(exc))


def read_secret(value: str) -> str:
    """`-` reads the Secret token from stdin, so it does not show in the process list."""
    if value == "-":
        return sys.stdin.readline().strip()
    return value
