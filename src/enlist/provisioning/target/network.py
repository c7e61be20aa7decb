"""`NetworkTransport`: the engine's way to the network, aiohttp's client behind httpx2's interface.

`ScimTarget` hands each request to a transport. In the tests that is httpx2's `ASGITransport` or
`MockTransport`; for a real Tenant URL it is this one, which leaves HTTP itself (framing, header
validation, keep-alive, TLS, proxies) to aiohttp, a maintained client, and keeps only the
mapping between the two. ADR 0009 says why aiohttp and not httpx2's own client (the latter's
CPU cost per request) and why no longer a hand-written HTTP/1.1 client (its security and
maintenance burden).

Contracts `ScimTarget` relies on:

- Errors are httpx2's: `ConnectError` when no connection could be made (nothing was sent, so a
  POST may be sent again), `ReadError` when the connection failed during the exchange,
  `RemoteProtocolError` for an answer that is not acceptable HTTP/1.1 or is larger than
  `MAX_BODY_BYTES`. A header value with CR, LF or NUL is refused before anything is sent
  (`UnsafeHeaderError`, a `ValueError`), whatever the caller.
- No redirects are followed (a 3xx comes back as it is), no cookies are kept, the answer is read
  whole and its connection returned to the pool, or closed when the exchange was cut short
  (timed out or cancelled), so a connection whose state is unknown is never reused.
- An idle connection is kept for at most `keepalive_s`.
- Proxies: the `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` variables (either case)
  choose the proxy for the Tenant URL, as urllib reads them (once per origin and transport);
  aiohttp speaks to http:// and https:// proxies.
- `address_check` is where the target-network policy goes: it sees every address a connection is
  about to be made to, after name resolution and for literal IPs alike, and refuses one by
  raising `OSError` (which becomes a `ConnectError`). Through a proxy, that address is the
  proxy's.
"""

from __future__ import annotations

import socket
import ssl
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp
import httpx2
import yarl

from enlist.provisioning.target.headers import check_headers

__all__ = [
    "KEEPALIVE_S",
    "MAX_BODY_BYTES",
    "AddressCheck",
    "Answer",
    "NetworkTransport",
    "allow_every_address",
    "proxy_for",
]

MAX_BODY_BYTES = 64 * 1024 * 1024
MAX_HEADER_BYTES = 65_536  # one header line or field, as the hand-written transport allowed
KEEPALIVE_S = 5.0
_READ_CHUNK = 256 * 1024

AddrInfo = tuple[int, int, int, str, tuple[Any, ...]]  # one getaddrinfo() result
AddressCheck = Callable[[str], None]
"""Called with the IP address (text) a connection is about to be made to; raises `OSError` to
refuse it."""


def allow_every_address(address: str) -> None:
    """The default `AddressCheck`: every address may be connected to."""


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for `url` (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`), unless
    `NO_PROXY` exempts its host; None for a direct connection."""
    parsed = httpx2.URL(url)
    proxies = urllib.request.getproxies()  # the variables in either case; ignored under CGI
    proxy = proxies.get(parsed.scheme) or proxies.get("all")
    if proxy and not urllib.request.proxy_bypass(parsed.host):
        return proxy
    return None


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole answer from `NetworkTransport.exchange`; `headers` by lower-case name (repeated
    fields joined with ", "). Read as httpx2's Response is (`status_code`, `is_success`,
    `headers.get`, `content`, `text`)."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


class NetworkTransport(httpx2.AsyncBaseTransport):
    """A pool of keep-alive connections (aiohttp's), used one request at a time per connection."""

    def __init__(
        self,
        *,
        keepalive_s: float = KEEPALIVE_S,
        ssl_context: ssl.SSLContext | None = None,
        address_check: AddressCheck = allow_every_address,
    ) -> None:
        self.keepalive_s = keepalive_s
        self.address_check = address_check
        self._ssl_context = ssl_context
        self._session: aiohttp.ClientSession | None = None
        # The environment is read once per origin: urllib's reading of it costs more than the
        # rest of a request.
        self._proxies: dict[tuple[str, str | None, int | None], str | None] = {}
        self.connection_attempts = 0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def exchange(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Answer:
        """`method url` with `headers` and `body`, the answer read whole: what `ScimTarget` sends,
        without building httpx2's Request and Response. Raises the httpx2 errors above."""
        status, raw, content = await self._round_trip(method, url, headers, body, None)
        fields: dict[str, str] = {}
        for name, value in raw:
            key = name.lower()
            fields[key] = f"{fields[key]}, {value}" if key in fields else value
        return Answer(status, fields, content)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx2.UnsupportedProtocol(f"{url.scheme!r} is not http or https", request=request)
        # Host and the body's framing are the message's own: aiohttp writes them for the body,
        # which is read whole and so goes with a Content-Length (RFC 9112 §6.3).
        framing = ("host", "content-length", "transfer-encoding")
        headers = {name: value for name, value in request.headers.items() if name.lower() not in framing}
        body = await request.aread() or None
        status, raw, content = await self._round_trip(request.method, str(url), headers, body, request)
        return httpx2.Response(
            status, headers=raw, content=content, request=request, extensions={"http_version": b"HTTP/1.1"}
        )

    async def _round_trip(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        request: httpx2.Request | None,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        check_headers(headers)
        session = self._session or self._open()
        # A method that carries a body says how long it is, even when empty (as Entra's does).
        data = body if body is not None or method not in ("POST", "PUT", "PATCH") else b""
        # `encoded=True`: the URL is sent as ScimTarget wrote it (Entra's `+` and `%22` stay).
        address = yarl.URL(url, encoded=True)
        origin = (address.scheme, address.host, address.port)
        if origin not in self._proxies:
            self._proxies[origin] = proxy_for(url)
        try:
            async with session.request(
                method,
                address,
                headers=headers,
                data=data,
                allow_redirects=False,
                proxy=self._proxies[origin],
            ) as response:
                content = await _read_whole(response, request)
                status = response.status
                raw = [(name, value) for name, value in response.headers.items()]
        except aiohttp.ClientConnectorError as exc:
            raise httpx2.ConnectError(_describe(exc), request=request) from exc
        except aiohttp.ClientResponseError as exc:
            # aiohttp's parser refused the answer (a malformed status line or header, a bad length).
            raise httpx2.RemoteProtocolError(
                f"not acceptable HTTP/1.1: {exc.message}", request=request
            ) from exc
        except aiohttp.ClientPayloadError as exc:
            raise _payload_error(exc, request) from exc
        except (aiohttp.ClientConnectionError, OSError) as exc:
            raise httpx2.ReadError(_describe(exc), request=request) from exc
        except aiohttp.InvalidURL as exc:
            raise httpx2.UnsupportedProtocol(f"not a URL aiohttp can reach: {exc}", request=request) from exc
        return status, raw, content

    def _open(self) -> aiohttp.ClientSession:
        """The session, made on first use: aiohttp binds it to the running event loop."""
        context = self._ssl_context = self._ssl_context or httpx2.create_ssl_context()
        connector = aiohttp.TCPConnector(
            limit=0,  # ScimTarget's own concurrency limit decides how many go at once
            keepalive_timeout=self.keepalive_s,
            ssl=context,
            socket_factory=self._socket,
            enable_cleanup_closed=False,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=None),  # ScimTarget times each attempt itself
            max_line_size=MAX_HEADER_BYTES,
            max_field_size=MAX_HEADER_BYTES,
            auto_decompress=True,
            trust_env=False,  # the proxy is chosen per request by `proxy_for`
        )
        return self._session

    def _socket(self, addr_info: AddrInfo) -> socket.socket:
        """Every connection's socket, made here so the address it goes to can be checked first."""
        family, kind, proto, _, address = addr_info
        self.address_check(str(address[0]))
        self.connection_attempts += 1  # counted here: aiohttp has no counter of its own
        return socket.socket(family=family, type=kind, proto=proto)


async def _read_whole(response: aiohttp.ClientResponse, request: httpx2.Request | None) -> bytes:
    """The answer's body, refused past `MAX_BODY_BYTES` (before reading, when its length says so)."""
    if response.content_length is not None and response.content_length > MAX_BODY_BYTES:
        response.close()
        raise httpx2.RemoteProtocolError(f"the answer is larger than {MAX_BODY_BYTES} bytes", request=request)
    chunks: list[bytes] = []
    total = 0
    while chunk := await response.content.read(_READ_CHUNK):
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            response.close()
            raise httpx2.RemoteProtocolError(
                f"the answer is larger than {MAX_BODY_BYTES} bytes", request=request
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _payload_error(exc: aiohttp.ClientPayloadError, request: httpx2.Request | None) -> httpx2.TransportError:
    """A body cut short is a read error (the server may have acted); one that is malformed
    (a bad chunk size) is a protocol error."""
    cause = exc.__cause__ or (exc.args[1] if len(exc.args) > 1 else None)
    if isinstance(cause, aiohttp.http_exceptions.HttpProcessingError) and not isinstance(
        cause, aiohttp.http_exceptions.ContentLengthError | aiohttp.http_exceptions.TransferEncodingError
    ):
        return httpx2.RemoteProtocolError(f"a malformed answer body: {cause}", request=request)
    return httpx2.ReadError(
        f"the server closed the connection before its answer ended: {exc}", request=request
    )


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
