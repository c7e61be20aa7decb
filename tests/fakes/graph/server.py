"""Serve the fake Graph over real HTTP on loopback: one uvicorn server, two ports (the login
host and the Graph host are different origins, so a test can see a bearer token never goes
to the login host)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn

from tests.fakes.graph.app import FakeGraph


def _listening(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


@contextlib.asynccontextmanager
async def serve(
    fake: FakeGraph, *, auth_port: int = 0, graph_port: int = 0, app: Any = None
) -> AsyncIterator[FakeGraph]:
    """Start `fake` in this event loop; `fake.auth_base` and `fake.graph_base` are then set.
    Ports default to free ones; `app` is an ASGI app in front of the fake (`__main__`'s
    control routes), which hands it every other request."""
    auth_sock, graph_sock = _listening(auth_port), _listening(graph_port)
    fake.auth_port = auth_sock.getsockname()[1]
    fake.auth_base = f"http://127.0.0.1:{fake.auth_port}"
    fake.graph_base = f"http://127.0.0.1:{graph_sock.getsockname()[1]}"
    config = uvicorn.Config(app or fake, log_level="critical", lifespan="off", access_log=False)
    server = uvicorn.Server(config)

    def reset(client: Any) -> None:
        # Drop the connection before any header, as a load balancer does (§6.4).
        for protocol in list(server.server_state.connections):
            if tuple(getattr(protocol, "client", ()) or ()) == tuple(client or ()):
                protocol.transport.abort()

    fake.reset_connection = reset
    serving = asyncio.create_task(server.serve(sockets=[auth_sock, graph_sock]))
    try:
        for _ in range(200):
            if server.started or serving.done():
                break
            await asyncio.sleep(0.02)
        assert server.started, "the fake Graph did not start"
        yield fake
    finally:
        server.should_exit = True
        await serving
