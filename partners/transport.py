"""The HTTP session deliveries go through: it refuses to talk to loopback, private and other internal addresses.

The check runs on the address the socket actually connected to, after DNS resolution, for every new
connection: a host that resolved to a public address when the endpoint was registered and to an internal
one now (DNS rebinding) is refused before a byte is sent. Operators allow internal addresses only for tests
and demos (GATEWAY_ALLOW_PRIVATE_ENDPOINTS).
"""

from __future__ import annotations

import ipaddress

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class ForbiddenAddress(OSError):
    """The endpoint's host resolved to an address deliveries may not reach."""


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class _PublicPeerOnly:
    """Checks the connected socket's peer before anything (a request line, a TLS hello) is sent on it."""

    host: str

    def _new_conn(self):
        sock = super()._new_conn()
        address = sock.getpeername()[0]
        if not is_public_address(address):
            sock.close()
            raise ForbiddenAddress(f"{self.host} resolved to {address}, which is not a public address")
        return sock


class _PublicHTTPConnection(_PublicPeerOnly, HTTPConnection):
    pass


class _PublicHTTPSConnection(_PublicPeerOnly, HTTPSConnection):
    pass


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _PublicOnlyAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PublicHTTPPool, "https": _PublicHTTPSPool}


def delivery_session(*, allow_private: bool) -> requests.Session:
    """A session for deliveries; unless `allow_private`, it connects to public addresses only."""
    session = requests.Session()
    session.headers["User-Agent"] = "partner-gateway/1 (webhooks)"
    session.trust_env = False  # a proxy from the environment would hide the address that is checked
    if not allow_private:
        adapter = _PublicOnlyAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session
