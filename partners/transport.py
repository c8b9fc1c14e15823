"""The HTTP client deliveries go through (aiohttp): kept away from internal addresses, connections kept per endpoint.

Unless operators allow internal addresses (GATEWAY_ALLOW_PRIVATE_ENDPOINTS, for tests and demos), every
address is checked as its socket is made, before it connects, whether it came from DNS or stood in the URL:
a host that resolved to a public address when the endpoint was registered and to an internal one now (DNS
rebinding) is refused before a packet is sent to it, and only the checked address is connected to.

The client never follows redirects (a redirect is an answer like any other), never reads proxy settings
from the environment (a proxy would hide the address that is checked), and leaves bodies compressed
(partners.base inflates no more of an answer than it keeps).
"""

from __future__ import annotations

import ipaddress
import socket

import aiohttp

USER_AGENT = "partner-gateway/1 (webhooks)"


class ForbiddenAddress(OSError):
    """The endpoint's host resolved to an address deliveries may not reach."""


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def public_socket(address_info: tuple) -> socket.socket:
    """A socket for this address, or ForbiddenAddress when it is not a public one (an address in the URL
    itself comes here without a lookup)."""
    family, kind, proto, _, address = address_info
    if not is_public_address(address[0]):
        raise ForbiddenAddress(f"{address[0]} is not a public address")
    return socket.socket(family, kind, proto)


class PublicResolver(aiohttp.ThreadedResolver):
    """The addresses a name resolves to, the public ones only; ForbiddenAddress when none is."""

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list:
        found = await super().resolve(host, port, family)
        public = [entry for entry in found if is_public_address(entry["host"])]
        if not public:
            addresses = ", ".join(sorted({entry["host"] for entry in found}))
            raise ForbiddenAddress(f"{host} resolved to {addresses}, which is not a public address")
        return public


def delivery_client(
    *, allow_private: bool, connections_per_endpoint: int = 10, connections: int = 100
) -> aiohttp.ClientSession:
    """A client for deliveries; unless `allow_private`, it connects to public addresses only. Call it inside
    the event loop that will use it."""
    connector = aiohttp.TCPConnector(
        limit=connections,
        limit_per_host=connections_per_endpoint,
        socket_factory=None if allow_private else public_socket,
        resolver=None if allow_private else PublicResolver(),
        enable_cleanup_closed=True,  # TLS connections a partner stopped answering are closed, not kept
    )
    return aiohttp.ClientSession(
        connector=connector,
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
        auto_decompress=False,
        trust_env=False,
        timeout=aiohttp.ClientTimeout(total=None),  # each send has its own deadline (partners.base)
    )
