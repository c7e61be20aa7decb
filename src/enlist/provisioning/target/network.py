"""Which addresses the engine may send a request to, checked where a connection is made.

An admin types the Tenant URL, so without a limit the engine's requests (Test connection, cycles,
Provision on demand) can reach anything this server can: a cloud metadata service at
169.254.169.254, an internal admin port. The operator says which networks targets may be in
(`ENLIST_TARGET_NETWORKS_ALLOW`, `ENLIST_TARGET_NETWORKS_DENY`, see `TargetNetworks`), and the
check runs on the *address the host name resolves to, each time a connection is opened*, not on
the URL when it is saved: a name that resolved to a public address at Save and to a metadata
address later (DNS rebinding) is refused then.

The one function a transport calls is `allowed_addresses(host, port, networks)`: it resolves
`host` and returns the addresses it may connect to (in the resolver's order), or raises
`NetworkRefused` (an `httpx2.ConnectError`: nothing was sent). `GuardedWireTransport` calls it
for the engine's own HTTP/1.1 transport; `guarded_transport` picks the transport for a Tenant URL.
A transport built on another client calls it from that client's resolver hook (aiohttp: an
`AbstractResolver` whose `resolve` returns these addresses), so the address checked is the
address connected to.
"""

from __future__ import annotations

import asyncio
import ssl

import httpx2

from enlist.networks import (
    DEFAULT_DENY,
    NetworkRefused,
    TargetNetworks,
    allowed_addresses,
    networks_of,
    parse_networks,
)
from enlist.provisioning.target.wire import (
    MAX_HEAD_BYTES,
    Origin,
    WireTransport,
    _Connection,  # private to the transport, whose connection step this module overrides
    _describe,
    default_transport,
    origin_of,
)

__all__ = [
    "DEFAULT_DENY",
    "GuardedWireTransport",
    "NetworkRefused",
    "TargetNetworks",
    "allowed_addresses",
    "guarded_transport",
    "networks_of",
    "parse_networks",
]


class GuardedWireTransport(WireTransport):
    """`WireTransport` that connects only to addresses `networks` allows, checked at every
    connection it opens (a kept-alive connection was checked when it was opened)."""

    def __init__(self, networks: TargetNetworks, *, ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(ssl_context=ssl_context)
        self.networks = networks

    async def _connect(self, origin: Origin, request: httpx2.Request | None) -> _Connection:
        scheme, host, port = origin
        addresses = await allowed_addresses(host, port, self.networks, request)
        context = None
        if scheme == "https":
            context = self._ssl_context = self._ssl_context or httpx2.create_ssl_context()
        failure: BaseException | None = None
        for address in addresses:
            try:
                # The checked address is the one connected to; TLS still verifies the host name.
                reader, writer = await asyncio.open_connection(
                    address,
                    port,
                    ssl=context,
                    server_hostname=host if context else None,
                    limit=MAX_HEAD_BYTES,
                )
            except (OSError, ssl.SSLError) as exc:
                failure = exc
                continue
            self.connections_opened += 1
            return _Connection(reader, writer)
        assert failure is not None  # allowed_addresses never returns an empty list
        raise httpx2.ConnectError(_describe(failure), request=request) from failure


class _CheckedProxyTransport(httpx2.AsyncBaseTransport):
    """A proxy's transport: the Tenant URL's host is checked before each request (the proxy
    resolves it again itself, so with a proxy the proxy's own rules are the last word)."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, networks: TargetNetworks) -> None:
        self._inner = inner
        self._networks = networks

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        _, host, port = origin_of(request.url)
        await allowed_addresses(host, port, self._networks, request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def guarded_transport(url: httpx2.URL, networks: TargetNetworks) -> httpx2.AsyncBaseTransport:
    """The engine's transport for a Tenant URL (`wire.default_transport`'s choice), checking
    every connection against `networks`."""
    chosen = default_transport(url)
    if isinstance(chosen, WireTransport):
        return GuardedWireTransport(networks)
    return _CheckedProxyTransport(chosen, networks)
