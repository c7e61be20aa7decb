"""A real HTTP server on loopback standing in for a SCIM application, or for an attacker's host:
it answers every request with one fixed reply and records what it was sent (method, path, the
Authorization header), so a test can count the requests that carried a stored Secret token."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

import orjson

EMPTY_LIST = orjson.dumps(
    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0, "Resources": []}
)


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    authorization: str


@dataclass
class LoopbackTarget:
    """Answers `status` with `body` as `content_type` to everything; use as a context manager."""

    status: int = 200
    body: bytes = EMPTY_LIST
    content_type: str = "application/scim+json"
    host: str = "127.0.0.1"
    seen: list[Seen] = field(default_factory=list)

    def __enter__(self) -> Self:
        target = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                target.seen.append(Seen(self.command, self.path, self.headers.get("authorization", "")))
                self.send_response(target.status)
                self.send_header("Content-Type", target.content_type)
                self.send_header("Content-Length", str(len(target.body)))
                self.end_headers()
                self.wfile.write(target.body)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            address_family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            daemon_threads = True

        self._server = Server((self.host, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/scim/v2", host: str | None = None) -> str:
        name = host or self.host
        name = f"[{name}]" if ":" in name else name
        return f"http://{name}:{self.port}{path}"

    def bearing(self, token: str) -> int:
        """How many requests carried `token` as their Bearer token."""
        return sum(1 for s in self.seen if s.authorization == f"Bearer {token}")
