"""The provisioning service over real HTTP on loopback, for push clients (one uvicorn server in
the test's event loop, with its lifespan: the bulk-upload worker runs as under `serve`)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
from collections.abc import AsyncIterator

import uvicorn

from enlist.provisioning.api.app import create_app
from enlist.provisioning.service import Service


@contextlib.asynccontextmanager
async def serve(service: Service) -> AsyncIterator[Service]:
    """Serve `service`; yields it with `provisioning_public_url` set to the loopback address."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = service.settings.model_copy(
        update={"provisioning_public_url": url, "scheduler_poll_seconds": 0.2}
    )
    served = dataclasses.replace(service, settings=settings)
    app = create_app(settings, scheduler=False, service=served)
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", lifespan="on", access_log=False))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(250):
            if server.started or serving.done():
                break
            await asyncio.sleep(0.02)
        assert server.started, "the provisioning service did not start"
        yield served
    finally:
        server.should_exit = True
        await serving
