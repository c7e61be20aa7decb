"""The provisioning service over real HTTP on loopback, API tokens made by its CLI, and the
API's one error shape, for the provisioning API's tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import httpx2
import uvicorn

from enlist.provisioning.api.app import create_app
from enlist.provisioning.service import Service
from tests.integration.api.conftest import enlist
from tests.live import free_port

ERROR_KEYS = {"code", "message", "hint"}


@contextlib.asynccontextmanager
async def served(service: Service) -> AsyncIterator[str]:
    """The provisioning service over real HTTP on a free loopback port, in this event loop."""
    port = free_port()
    app = create_app(service.settings, scheduler=False, service=service)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started or serving.done():
                break
            await asyncio.sleep(0.05)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def token(service: Service, name: str, scope: str) -> dict[str, str]:
    code, out, err = await enlist(
        service, "provisioning", "api-token", "create", name, "--scope", scope, "--json"
    )
    assert code == 0, err
    return {"Authorization": f"Bearer {json.loads(out)['token']}"}


def assert_error_shape(response: httpx2.Response, status: int) -> dict[str, str]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == ERROR_KEYS, error
    assert all(isinstance(v, str) and v for v in error.values()), error
    return dict(error)
