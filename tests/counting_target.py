"""A SCIM application on loopback that counts the requests it gets, for tests that must prove
that nothing was sent (a paused application, a refused token).

Every query finds nothing, every POST creates (with a new `id`), every PATCH and DELETE
succeeds; `requests` lists `METHOD path` of each request in order. It runs in a thread, so
both a test's event loop and `enlist` subprocesses can reach it.
"""

from __future__ import annotations

import http.server
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

__all__ = ["CountingScimTarget", "counting_target"]

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


class CountingScimTarget(http.server.ThreadingHTTPServer):
    """A SCIM application on loopback that counts the requests it gets: every query finds
    nothing, every POST creates, every PATCH and DELETE succeeds."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), CountingScimHandler)
        self.requests: list[str] = []

    @property
    def tenant_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/scim"


class CountingScimHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: CountingScimTarget

    def _answer(self, status: int, body: dict[str, Any] | None = None) -> None:
        self.server.requests.append(f"{self.command} {self.path}")
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/scim+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        return dict(json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}"))

    def do_GET(self) -> None:
        self._answer(200, {"schemas": [LIST_RESPONSE], "totalResults": 0, "Resources": []})

    def do_POST(self) -> None:
        self._answer(201, {**self._body(), "id": uuid.uuid4().hex})

    def do_PATCH(self) -> None:
        self._body()
        self._answer(204)

    def do_DELETE(self) -> None:
        self._answer(204)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        pass


@pytest.fixture
def counting_target() -> Iterator[CountingScimTarget]:
    server = CountingScimTarget()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
