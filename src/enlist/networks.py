"""Which addresses an outbound request an admin typed the URL of may go to: a provisioning Tenant
URL, either service's notification webhook.

The operator says which networks such requests may reach (`ENLIST_TARGET_NETWORKS_ALLOW`,
`ENLIST_TARGET_NETWORKS_DENY`, see `TargetNetworks`), and the check runs on the *address the host
name resolves to, each time a connection is opened*, not on the URL when it is saved (ADR 0014).
`allowed_addresses(host, port, networks)` is the one check; a transport calls it where it
connects (the engine's `GuardedWireTransport`, `enlist.notify.transport.PinnedTransport`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

import httpx2

from enlist.settings import Settings

__all__ = [
    "DEFAULT_DENY",
    "NetworkRefused",
    "TargetNetworks",
    "allowed_addresses",
    "networks_of",
    "parse_networks",
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Link-local (where every cloud puts its metadata service: AWS, Azure, GCP, Oracle at
# 169.254.169.254), IPv6 link-local, AWS's IPv6 metadata address, Alibaba Cloud's metadata
# address and Azure's WireServer. Loopback stays allowed: the demo and the tests use it.
DEFAULT_DENY = (
    "169.254.0.0/16",
    "fe80::/10",
    "fd00:ec2::254/128",
    "100.100.100.200/32",
    "168.63.129.16/32",
)


def networks_of(settings: Settings) -> TargetNetworks:
    """The operator's target networks (`ENLIST_TARGET_NETWORKS_ALLOW`, `_DENY`)."""
    return TargetNetworks.from_text(settings.target_networks_allow, settings.target_networks_deny)


class NetworkRefused(httpx2.ConnectError):
    """The Tenant URL's host resolves only to addresses the operator does not allow: no
    connection was opened, nothing was sent."""


def parse_networks(text: str | Iterable[str]) -> tuple[Network, ...]:
    """Comma-separated CIDRs (`10.0.0.0/8, fd00::/8`; a bare address is a /32 or /128).
    Raises ValueError naming the entry that is not one."""
    items = text.split(",") if isinstance(text, str) else list(text)
    networks: list[Network] = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not a network (CIDR such as 10.0.0.0/8)") from None
    return tuple(networks)


@dataclass(frozen=True, slots=True)
class TargetNetworks:
    """Where targets may be: an address in a `deny` network is refused; when `allow` is not
    empty, so is an address in none of its networks. Deny wins over allow."""

    allow: tuple[Network, ...] = ()
    deny: tuple[Network, ...] = parse_networks(DEFAULT_DENY)

    @classmethod
    def from_text(cls, allow: str, deny: str) -> TargetNetworks:
        return cls(parse_networks(allow), parse_networks(deny))

    def refusal(self, address: str) -> str | None:
        """Why the engine may not connect to `address` (an IP address), or None when it may."""
        ip = _address(address)
        for network in self.deny:
            if ip in network:
                return f"{ip} is in {network}, a network targets may not be in (ENLIST_TARGET_NETWORKS_DENY)"
        if self.allow and not any(ip in network for network in self.allow):
            return f"{ip} is in no network targets may be in (ENLIST_TARGET_NETWORKS_ALLOW)"
        return None


def _address(text: str) -> Address:
    ip = ipaddress.ip_address(text.split("%", 1)[0])  # an IPv6 zone (`fe80::1%eth0`) is not the address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # ::ffff:169.254.169.254 reaches 169.254.169.254
    return ip


async def allowed_addresses(
    host: str, port: int, networks: TargetNetworks, request: httpx2.Request | None = None
) -> list[str]:
    """The addresses `host` resolves to now that `networks` allows, in the resolver's order.

    Raises `NetworkRefused` when it resolves to none of them, and `httpx2.ConnectError` when it
    does not resolve. An address the resolver gives that is refused is dropped: a name that
    resolves to both a public and a metadata address is only ever connected to the public one.
    """
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise httpx2.ConnectError(_describe(exc), request=request) from exc
    allowed: list[str] = []
    refusals: list[str] = []
    for *_, sockaddr in found:
        address = str(sockaddr[0])
        why = networks.refusal(address)
        if why is None:
            if address not in allowed:
                allowed.append(address)
        elif why not in refusals:
            refusals.append(why)
    if not allowed:
        raise NetworkRefused(f"{host}: {'; '.join(refusals)}", request=request)
    return allowed


def _describe(exc: BaseException) -> str:
    with contextlib.suppress(Exception):
        text = str(exc)
        if text:
            return f"{type(exc).__name__}: {text}"
    return type(exc).__name__
