"""`WireTransport`: HTTP/1.1 with keep-alive over asyncio streams, the engine's default transport.

Why not httpx's own: a provisioning cycle is tens of thousands of small requests, one after
another on a few connections, and httpx2's client and connection pool cost about 1.5 ms of CPU
each on a 2-core machine, more than the engine's own work per user (docs/performance.md, S4).
This transport does the same exchange for a tenth of that. It is an `httpx2.AsyncBaseTransport`,
so `ScimTarget` uses it exactly as it uses the ASGI and mock transports of the tests, and the
errors it raises are httpx2's: `ConnectError` when no connection could be made (nothing was
sent), `ReadError` / `WriteError` when the connection failed during the exchange,
`RemoteProtocolError` for an answer that is not HTTP/1.1 or is too large.

What it does and does not do:

- `http` and `https` (TLS verified with httpx2's default context: same CAs, `SSL_CERT_FILE`);
- one request at a time per connection, no pipelining; `Content-Length`, `chunked`, and
  read-until-close bodies; `Connection: close` honoured;
- an idle connection is reused only while the server has not closed it and for at most
  `keepalive_s`, so a request is never written to a connection already known to be dead: a
  failure after writing is reported, and whether to send again is `ScimTarget`'s decision;
- no proxies, redirects, cookies or compression: `default_transport` picks httpx2's transport
  when an `HTTP(S)_PROXY` variable applies to the Tenant URL;
- every header value is checked before anything is written (`headers.check_headers`: no CR, LF
  or NUL, so no value can add header lines of its own), whoever built the headers;
- the target-network policy (`network.GuardedWireTransport`) overrides `_connect`: it
  resolves the name, checks each address and connects to the address it checked.

Why this transport and not aiohttp's client, measured against it: ADR 0009.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
import urllib.request
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

import httpx2

from enlist.provisioning.target.headers import check_headers

__all__ = [
    "MAX_BODY_BYTES",
    "Answer",
    "Origin",
    "WireTransport",
    "default_transport",
    "origin_of",
]

MAX_HEAD_BYTES = 65_536
MAX_BODY_BYTES = 64 * 1024 * 1024
KEEPALIVE_S = 5.0
MAX_IDLE_PER_ORIGIN = 32
_NO_BODY = frozenset({204, 304})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HEX_DIGITS = b"0123456789abcdefABCDEF"

Origin = tuple[str, str, int]


def origin_of(url: httpx2.URL) -> Origin:
    """(scheme, host, port) of `url`, the port filled in from the scheme."""
    return (url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme, 80))


def default_transport(url: httpx2.URL) -> httpx2.AsyncBaseTransport:
    """`WireTransport`, or httpx2's transport through the proxy the
    environment names for `url` (the proxy, not enlist, then decides where a request may go)."""
    proxies = urllib.request.getproxies()  # HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, in either case
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if proxy and not urllib.request.proxy_bypass(url.host):
        return httpx2.AsyncHTTPTransport(proxy=proxy)
    return WireTransport()


@dataclass(slots=True)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

    def usable(self, now: float, keepalive_s: float) -> bool:
        return (
            not self.reader.at_eof() and not self.writer.is_closing() and now - self.idle_since < keepalive_s
        )

    def close(self) -> None:
        self.writer.close()


class WireTransport(httpx2.AsyncBaseTransport):
    """A pool of keep-alive HTTP/1.1 connections per origin; see the module's text."""

    def __init__(
        self,
        *,
        keepalive_s: float = KEEPALIVE_S,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.keepalive_s = keepalive_s
        self._ssl_context = ssl_context
        self._idle: dict[Origin, deque[_Connection]] = {}
        self.connections_opened = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx2.UnsupportedProtocol(f"{url.scheme!r} is not http or https", request=request)
        origin = origin_of(url)
        # Host and the body's framing are the message's own: the body is read whole, so it goes
        # with a Content-Length, never also chunked (RFC 9112 §6.3).
        framing = ("host", "content-length", "transfer-encoding")
        fields = {name: value for name, value in request.headers.items() if name.lower() not in framing}
        target = url.raw_path.decode("ascii")
        message = _message(origin, request.method, target, fields, await request.aread() or None)
        status, headers, body = await self._round_trip(origin, request.method, message, request)
        return httpx2.Response(
            status,
            headers=headers,
            content=body,
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def exchange(
        self, origin: Origin, method: str, target: str, headers: Mapping[str, str], body: bytes | None
    ) -> Answer:
        """`method target` to `origin` with `headers` (Host and Content-Length are added) and
        `body`: what `ScimTarget` sends, without building httpx2's Request and Response, which
        cost as much as the exchange itself. Raises the same httpx2 errors."""
        message = _message(origin, method, target, headers, body)
        status, raw, content = await self._round_trip(origin, method, message, None)
        fields: dict[str, str] = {}
        for name, value in raw:
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            fields[key] = f"{fields[key]}, {text}" if key in fields else text
        return Answer(status, fields, content)

    async def _round_trip(
        self, origin: Origin, method: str, message: bytes, request: httpx2.Request | None
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        connection = self._reuse(origin) or await self._connect(origin, request)
        try:
            try:
                connection.writer.write(message)
                await connection.writer.drain()
            except OSError as exc:
                raise httpx2.WriteError(_describe(exc), request=request) from exc
            status, headers, body, keep = await _read_response(connection.reader, method, request)
        except BaseException:
            # Cancelled, timed out or failed part-way: the connection's state is unknown.
            connection.close()
            raise
        if keep and method != "HEAD":
            connection.idle_since = time.monotonic()
            idle = self._idle.setdefault(origin, deque())
            if len(idle) < MAX_IDLE_PER_ORIGIN:
                idle.append(connection)
            else:
                connection.close()
        else:
            connection.close()
        return status, headers, body

    async def aclose(self) -> None:
        for idle in self._idle.values():
            while idle:
                idle.pop().close()
        self._idle.clear()

    def _reuse(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.usable(now, self.keepalive_s):
                return connection
            connection.close()
        return None

    async def _connect(self, origin: Origin, request: httpx2.Request | None) -> _Connection:
        scheme, host, port = origin
        context = None
        if scheme == "https":
            context = self._ssl_context = self._ssl_context or httpx2.create_ssl_context()
        try:
            found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpx2.ConnectError(_describe(exc), request=request) from exc
        failure: BaseException | None = None
        for *_, sockaddr in found:
            address = str(sockaddr[0])
            try:
                reader, writer = await asyncio.open_connection(
                    address,
                    port,
                    ssl=context,
                    server_hostname=host if context else None,  # the name, for SNI and the certificate
                    limit=MAX_HEAD_BYTES,
                )
            except (OSError, ssl.SSLError) as exc:
                failure = exc
                continue
            self.connections_opened += 1
            return _Connection(reader, writer)
        what = _describe(failure) if failure else f"{host} has no address"
        raise httpx2.ConnectError(what, request=request) from failure


def _message(
    origin: Origin, method: str, target: str, headers: Mapping[str, str], body: bytes | None
) -> bytes:
    """The request's bytes: request line, Host, `headers`, Content-Length when a body goes or the
    method expects one, the body."""
    check_headers(headers)
    scheme, host, port = origin
    default = _DEFAULT_PORTS.get(scheme, 80)
    name = f"[{host}]" if ":" in host else host  # an IPv6 address
    authority = name if port == default else f"{name}:{port}"
    lines = [f"{method} {target} HTTP/1.1", f"Host: {authority}"]
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body or b'')}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole answer from `exchange`; `headers` by lower-case name. Read as httpx2's Response
    is (`status_code`, `is_success`, `headers.get`, `content`, `text`)."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


async def _read_response(
    reader: asyncio.StreamReader, method: str, request: httpx2.Request | None
) -> tuple[int, list[tuple[bytes, bytes]], bytes, bool]:
    """(status, headers, body, whether the connection may be reused) of one answer."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        while head.startswith(b"HTTP/1.1 1") and not head.startswith(b"HTTP/1.1 101"):
            head = await reader.readuntil(b"\r\n\r\n")  # 100 Continue and other interim answers
        status, headers, version = _parse_head(head, request)
        fields = {name.lower(): value for name, value in headers}
        options = {option.strip() for option in fields.get(b"connection", b"").lower().split(b",")}
        keep = version == b"HTTP/1.1" and b"close" not in options and status != 101
        if status in _NO_BODY or 100 <= status < 200 or method == "HEAD":
            body = b""
        elif b"chunked" in fields.get(b"transfer-encoding", b"").lower():
            body = await _read_chunked(reader, request)
        elif b"content-length" in fields:
            body = await reader.readexactly(_length(fields[b"content-length"], request))
        else:
            body = await reader.read(MAX_BODY_BYTES + 1)
            while chunk := await reader.read(MAX_BODY_BYTES + 1 - len(body)):
                body += chunk
            keep = False
    except asyncio.IncompleteReadError as exc:
        closed = "the server closed the connection before its answer ended"
        raise httpx2.ReadError(closed, request=request) from exc
    except asyncio.LimitOverrunError as exc:
        raise httpx2.RemoteProtocolError("the answer's header is too large", request=request) from exc
    except OSError as exc:
        raise httpx2.ReadError(_describe(exc), request=request) from exc
    if len(body) > MAX_BODY_BYTES:
        raise _malformed(f"the answer is larger than {MAX_BODY_BYTES} bytes", request)
    return status, headers, body, keep


def _parse_head(head: bytes, request: httpx2.Request | None) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    lines = head[:-4].split(b"\r\n")
    version, _, rest = lines[0].partition(b" ")
    code = rest[:3]
    if version not in (b"HTTP/1.1", b"HTTP/1.0") or len(code) != 3 or not code.isdigit():
        raise httpx2.RemoteProtocolError(f"not an HTTP/1.1 answer: {lines[0][:80]!r}", request=request)
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise httpx2.RemoteProtocolError(f"a malformed header line: {line[:80]!r}", request=request)
        headers.append((name, value.strip()))
    return int(code), headers, version


def _length(value: bytes, request: httpx2.Request | None) -> int:
    if not value.strip().isdigit():
        raise httpx2.RemoteProtocolError(f"a malformed Content-Length: {value[:40]!r}", request=request)
    length = int(value)
    if length > MAX_BODY_BYTES:
        raise _malformed(f"the answer is larger than {MAX_BODY_BYTES} bytes", request)
    return length


async def _read_chunked(reader: asyncio.StreamReader, request: httpx2.Request | None) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size_line = (await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip()
        if not size_line or size_line.strip(_HEX_DIGITS):  # int() would also take "-1", "0x10", "1_0"
            raise _malformed(f"a malformed chunk size: {size_line[:40]!r}", request)
        size = int(size_line, 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, then the blank line
                pass
            return b"".join(chunks)
        total += size
        if total > MAX_BODY_BYTES:
            raise _malformed(f"the answer is larger than {MAX_BODY_BYTES} bytes", request)
        chunks.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise httpx2.RemoteProtocolError("a chunk does not end with CRLF", request=request)


def _malformed(what: str, request: httpx2.Request | None) -> httpx2.RemoteProtocolError:
    return httpx2.RemoteProtocolError(what, request=request)


def _describe(exc: BaseException) -> str:
    with contextlib.suppress(Exception):
        text = str(exc)
        if text:
            return f"{type(exc).__name__}: {text}"
    return type(exc).__name__
