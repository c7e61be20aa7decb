"""The load client: HTTP/1.1 keep-alive over raw asyncio streams, far faster than the servers.

One `Connection` is one TCP connection that sends a request and reads its response, then the
next (no pipelining, as Entra and every ordinary client do). It reads `Content-Length` and
`chunked` bodies. No TLS, no redirects, no cookies: it talks to servers on loopback only.

httpx's async client tops out near 650 requests/s on a 2-core machine, which would make a bare
endpoint look no faster than the servers it is a yardstick for; this client does several
thousand (`python -m bench C0` measures it against a static responder).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


class HttpError(Exception):
    """A malformed response, or a connection the server closed mid-response."""


@dataclass(slots=True)
class Response:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """One keep-alive connection to `base` (an `http://host:port/prefix` URL)."""

    def __init__(self, base: str, token: str | None = None) -> None:
        parts = urlsplit(base)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"the load client speaks plain http to a host, not {base!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.prefix = parts.path.rstrip("/")
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self._fixed = f"Host: {self.host}:{self.port}\r\n{auth}".encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self._reader, self._writer

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None

    async def request(self, method: str, path: str, body: Any = None) -> Response:
        """Send one request (`body` JSON-encoded when given) and read its whole response.

        `path` is appended to the base URL's path. A connection the server closed while idle
        is reopened once; any other failure raises `HttpError`.
        """
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        head = f"{method} {self.prefix}{path} HTTP/1.1\r\n".encode() + self._fixed
        if body is not None:
            head += b"Content-Type: application/scim+json\r\n"
        if body is not None or method in {"POST", "PUT", "PATCH"}:
            head += f"Content-Length: {len(payload)}\r\n".encode()
        message = head + b"\r\n" + payload
        for attempt in (1, 2):
            reader, writer = await self._open()
            try:
                writer.write(message)
                return await self._read(reader)
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                await self.close()
                if attempt == 2:
                    raise HttpError(f"{method} {path}: {exc!r}") from exc
        raise AssertionError("unreachable")

    async def _read(self, reader: asyncio.StreamReader) -> Response:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        try:
            status = int(lines[0].split(" ", 2)[1])
        except (IndexError, ValueError) as exc:
            raise HttpError(f"bad status line {lines[0]!r}") from exc
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
            body = b"".join(chunks)
        elif status in {204, 304} or 100 <= status < 200:
            body = b""
        else:
            body = await reader.read()
            await self.close()
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return Response(status, body, headers)


@dataclass
class Tally:
    """What a load run did: requests by status, failures kept for the report, latencies."""

    requests: int = 0
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    first_errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    keep_latencies: bool = False

    def count(self, what: str, response: Response, started: float, ok: Sequence[int]) -> None:
        self.requests += 1
        self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
        if self.keep_latencies:
            self.latencies.append(time.perf_counter() - started)
        if response.status not in ok:
            self.errors += 1
            if len(self.first_errors) < 5:
                self.first_errors.append(f"{what} -> {response.status} {response.body[:200]!r}")


async def run_workers(count: int, work: Callable[[int], Awaitable[None]]) -> float:
    """Run `work(i)` for i in range(count) concurrently; the wall time in seconds."""
    started = time.perf_counter()
    await asyncio.gather(*(work(i) for i in range(count)))
    return time.perf_counter() - started


async def hammer(
    connections: Sequence[Connection],
    paths: Callable[[int], str],
    seconds: float,
    ok: Sequence[int] = (200,),
) -> tuple[float, Tally]:
    """GET `paths(n)` in a loop on every connection for about `seconds`; (requests/s, tally)."""
    tally = Tally()
    deadline = time.perf_counter() + seconds
    counter = iter(range(1 << 62))

    async def loop(i: int) -> None:
        conn = connections[i]
        while time.perf_counter() < deadline:
            path = paths(next(counter))
            started = time.perf_counter()
            tally.count(path, await conn.request("GET", path), started, ok)

    elapsed = await run_workers(len(connections), loop)
    return tally.requests / elapsed, tally
