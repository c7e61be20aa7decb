"""HTTP/1.1 limits uvicorn's httptools protocol lacks: header size and count, slow-client timeouts,
and a cap on the connections one client address may hold.

uvicorn bounds none of these on its httptools protocol (its `h11_max_incomplete_event_size` only
applies to h11; `limit_concurrency` answers 503 to *every* client once the total is reached, so
one flooding client would take `/healthz` down with it). `LimitedHttpProtocol` adds them at the
transport, before any request reaches the application:

- request line plus headers larger than `max_header_bytes`, or more than `max_headers` header
  lines: 431, connection closed. Counted as the parser reports them and, while a head is still
  incomplete, per chunk read, so at most one read buffer more than the limit is ever held.
- a request whose line and headers are not complete `header_timeout_s` after the connection
  opened (or after its first byte, on a kept-alive connection): 408, connection closed. A
  connection that never sends a byte is closed silently.
- a request body that pauses longer than `body_timeout_s` between two reads: 408 when no
  response has started, then the connection is closed (the application sees a disconnect).
  The pause counts only while the server wants to read: a body the application has not asked
  for yet (flow control, or a client waiting for `100 Continue`) never times out.
- more than `max_connections_per_client` open connections from one address: the new one is
  answered 429 and closed. The cap is per process; connections from a trusted proxy are exempt
  (it carries many clients; it limits them itself, see docs/how-to/reverse-proxy.md).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import httptools
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

logger = logging.getLogger("enlist.http")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """What one connection and one client address may cost the server."""

    max_header_bytes: int = 32_768
    max_headers: int = 100
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    max_connections_per_client: int = 100
    trusted_proxies: tuple[str, ...] = ()

    def networks(self) -> tuple[Network, ...]:
        return tuple(ipaddress.ip_network(p, strict=False) for p in self.trusted_proxies)


def parse_proxies(text: str) -> tuple[str, ...]:
    """The trusted proxies of a comma-separated setting, each checked to be an address or network."""
    proxies = tuple(part.strip() for part in text.split(",") if part.strip())
    for proxy in proxies:
        ipaddress.ip_network(proxy, strict=False)  # ValueError names a bad entry at start
    return proxies


def is_trusted(host: str, networks: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


class LimitedConfig(Config):
    """uvicorn's `Config` carrying the `HttpLimits` its protocol enforces (pickled to workers)."""

    def __init__(
        self, app: Any, *, limits: HttpLimits, log_format: str = "auto", quiet: bool = False, **options: Any
    ) -> None:
        # Read by configure_logging, which uvicorn's __init__ calls; quiet: warnings and errors only.
        self.log_format, self.quiet = log_format, quiet
        super().__init__(app, http=LimitedHttpProtocol, **options)
        self.limits = limits
        self.trusted_networks = limits.networks()

    def configure_logging(self) -> None:
        """uvicorn's levels, then enlist's one formatter (`enlist.logs.setup`); called again in
        each worker process, which inherits no handler."""
        super().configure_logging()
        from enlist.logs.setup import configure, default_format  # noqa: PLC0415 (serving only)

        configure(default_format(self.log_format), logging.WARNING if self.quiet else logging.INFO)

    def load(self) -> None:
        super().load()
        self.loaded_app = QuietDisconnects(self.loaded_app)


class QuietDisconnects:
    """ASGI wrapper: a request whose client went away while its body was read ends quietly.

    Starlette raises `ClientDisconnect` from a body read once the connection is gone (the client
    closed it, or a body timeout did); nobody is left to answer, so it is no error to log with a
    traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except ClientDisconnect:
            logger.info(
                "%s %s: the client went away before its body was read", scope.get("method"), scope.get("path")
            )


class _HeadersTooLargeError(Exception):
    """Raised inside a parser callback; the parser wraps it and `data_received` answers 431."""


# Open connections per client address, per server (a server's protocols share its state).
_OPEN: WeakKeyDictionary[ServerState, Counter[str]] = WeakKeyDictionary()


class LimitedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits of `HttpLimits` (see the module docstring)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        limits = getattr(config, "limits", None)
        self.limits = limits if isinstance(limits, HttpLimits) else HttpLimits()
        self.trusted = getattr(config, "trusted_networks", ())
        self.open_per_client = _OPEN.setdefault(server_state, Counter())
        self.counted: str | None = None  # the address this connection counts against
        self.in_head = False
        self.in_body = False  # headers read, body not yet complete
        self.head_bytes = 0  # bytes read while a head is incomplete (bounds what the parser holds)
        self.head_size = 0  # the parsed head's size (catches a large head read in one chunk)
        self.head_timer: asyncio.TimerHandle | None = None
        self.body_timer: asyncio.TimerHandle | None = None

    # Connection ---------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        host = self.client[0] if self.client else ""
        if host and not is_trusted(host, self.trusted):
            if self.open_per_client[host] >= self.limits.max_connections_per_client:
                self._refuse(429, "too many connections from this address", retry_after=1)
                return
            self.open_per_client[host] += 1
            self.counted = host
        self.head_timer = self.loop.call_later(self.limits.header_timeout_s, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.counted is not None:
            self.open_per_client[self.counted] -= 1
            if self.open_per_client[self.counted] <= 0:
                del self.open_per_client[self.counted]
            self.counted = None
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError as exc:
            if isinstance(exc.__context__, _HeadersTooLargeError):
                self._refuse(431, "request headers too large")
            else:
                self.logger.warning("Invalid HTTP request received.")
                self.send_400_response("Invalid HTTP request received.")
            return
        if self.in_head:
            self.head_bytes += len(data)
            if self.head_bytes > self.limits.max_header_bytes:
                self._refuse(431, "request headers too large")
        elif self.in_body:  # a body still to come: the client's next pause starts now
            self._arm_body_timer()

    # Parser callbacks ---------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.in_head, self.head_bytes, self.head_size = True, 0, 0
        if self.head_timer is None:  # a kept-alive connection's next request
            self.head_timer = self.loop.call_later(self.limits.header_timeout_s, self._head_timed_out)

    def on_url(self, url: bytes) -> None:
        self.head_size += len(url)
        if self.head_size > self.limits.max_header_bytes:
            raise _HeadersTooLargeError
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_size += len(name) + len(value) + 4  # ": " and CRLF
        if len(self.headers) >= self.limits.max_headers or self.head_size > self.limits.max_header_bytes:
            raise _HeadersTooLargeError
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.in_head = False
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None
        self.in_body = True
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.in_body = False
        if self.body_timer is not None:
            self.body_timer.cancel()
            self.body_timer = None
        super().on_message_complete()

    # Timers and refusals ------------------------------------------------------------------------

    def _arm_body_timer(self) -> None:
        if self.body_timer is not None:
            self.body_timer.cancel()
        self.body_timer = self.loop.call_later(self.limits.body_timeout_s, self._body_timed_out)

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.transport.is_closing():
            return
        if self.in_head:
            self._refuse(408, "the request headers took too long")
        elif self.cycle is None:
            self.transport.close()  # connected and never sent a byte

    def _body_timed_out(self) -> None:
        self.body_timer = None
        if self.transport.is_closing():
            return
        waiting = self.cycle is not None and self.cycle.waiting_for_100_continue
        if self.flow.read_paused or waiting:  # the server is not reading yet: not the client's pause
            self._arm_body_timer()
            return
        if self.cycle is not None and not self.cycle.response_started:
            # The application is waiting in receive(); closing makes that a disconnect, and its
            # later sends are dropped, so this 408 is the only answer on the wire.
            self._refuse(408, "the request body took too long")
        else:
            self.transport.close()

    def _cancel_timers(self) -> None:
        for timer in (self.head_timer, self.body_timer):
            if timer is not None:
                timer.cancel()
        self.head_timer = self.body_timer = None

    def _refuse(self, status: int, reason: str, retry_after: int | None = None) -> None:
        """Answer `status` with `reason` as plain text and close the connection."""
        self._cancel_timers()
        body = reason.encode("ascii")
        head = [STATUS_LINE[status]]
        if retry_after is not None:
            head.append(b"retry-after: %d\r\n" % retry_after)
        head += [
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
            body,
        ]
        if not self.transport.is_closing():
            self.transport.write(b"".join(head))
            self.transport.close()
        self.in_head = False
