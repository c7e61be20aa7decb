"""The webhook transport of a service without the engine's own HTTP transport (the portal): the
host is resolved once per request, held to the target networks (`enlist.networks`, ADR 0014),
and the connection goes to the address checked, so a name re-resolved between the check and the
connection (DNS rebinding) cannot reach another address. TLS still verifies the name in the URL
(its SNI and certificate check use `sni_hostname`, not the address)."""

from __future__ import annotations

import httpx2

from enlist.networks import TargetNetworks, allowed_addresses

DEFAULT_PORTS = {"http": 80, "https": 443}


class PinnedTransport(httpx2.AsyncBaseTransport):
    """Sends each request to the first address of its host that `networks` allows."""

    def __init__(self, networks: TargetNetworks) -> None:
        self.networks = networks
        self.inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        port = url.port or DEFAULT_PORTS.get(url.scheme, 80)
        address = (await allowed_addresses(url.host, port, self.networks, request))[0]
        if url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": url.host}
        # The Host header was set from the URL when the request was built: it still names the host.
        request.url = url.copy_with(host=address)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
