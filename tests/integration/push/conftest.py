"""A push source on the provisioning service, served on loopback, and a client with its token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx2
import pytest

from enlist.provisioning.service import Service
from enlist.provisioning.sources.push import operations
from tests.integration.push.server import serve


@dataclass
class Pushed:
    service: Service
    base_url: str
    token: str
    client: httpx2.AsyncClient


@pytest.fixture
async def pushed(service: Service) -> AsyncIterator[Pushed]:
    async with serve(service) as served:
        added = await operations.add(served, "hr")
        headers = {"Authorization": f"Bearer {added['token']}", "Content-Type": "application/scim+json"}
        async with httpx2.AsyncClient(base_url=added["base_url"], headers=headers, timeout=60) as client:
            yield Pushed(served, added["base_url"], added["token"], client)
