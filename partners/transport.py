"""The HTTP session deliveries go through: bounded in time, and kept away from internal addresses.

- Every connection it opens resolves and connects within the current request's hard deadline
  (partners.deadlines) and puts its socket under that deadline's watch; so does every reuse of a kept-alive
  connection. Whatever the partner does (drips its answer, never answers, stalls DNS), the request ends.
- Unless operators allow internal addresses (GATEWAY_ALLOW_PRIVATE_ENDPOINTS, for tests and demos), every
  address a host resolves to is checked before connecting, and only the checked address is connected to: a
  host that resolved to a public address when the endpoint was registered and to an internal one now (DNS
  rebinding) is refused before a packet is sent to it.
- Connections are kept alive per endpoint, as many as the dispatcher sends to it at once.
"""

from __future__ import annotations

import ipaddress
import socket
import threading

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from partners.deadlines import current_deadline

POOLS = 1000  # endpoints whose connections are kept (one pool per host and port)


class ForbiddenAddress(OSError):
    """The endpoint's host resolved to an address deliveries may not reach."""


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int, timeout: float | None) -> list[tuple]:
    """getaddrinfo for a TCP connection, given up after `timeout` seconds (the lookup itself cannot be
    interrupted: it finishes in its own thread and is forgotten)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)  # a literal: no lookup
    outcome: dict[str, object] = {}

    def look_up() -> None:
        try:
            outcome["found"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            outcome["error"] = error

    lookup = threading.Thread(target=look_up, name="resolve", daemon=True)
    lookup.start()
    lookup.join(timeout)
    if lookup.is_alive():
        raise TimeoutError(f"looking up {host} took longer than {timeout:.1f} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["found"]  # type: ignore[return-value]


class _GuardedConnection:
    """What both connection classes add to urllib3's: the deadline, and the address check where asked."""

    public_only = False
    host: str
    port: int
    timeout: float | None
    sock: socket.socket | None
    socket_options: list | None
    _dns_host: str

    def _new_conn(self) -> socket.socket:
        """Resolve and connect within the deadline, raising urllib3's own errors as its _new_conn does."""
        deadline = current_deadline()
        timeout = self.timeout
        if deadline is not None:
            timeout = deadline.remaining() if timeout is None else min(timeout, deadline.remaining())
        try:
            addresses = resolve(self._dns_host, self.port, timeout)
        except socket.gaierror as error:
            raise NameResolutionError(self.host, self, error) from error
        except TimeoutError as error:
            raise ConnectTimeoutError(self, f"Looking up {self.host} timed out.") from error
        failure: OSError = OSError(f"{self.host} resolved to no address")
        for family, kind, proto, _, address in addresses:
            if self.public_only and not is_public_address(address[0]):
                failure = ForbiddenAddress(f"{self.host} resolved to {address[0]}, which is not a public address")
                continue
            sock = socket.socket(family, kind, proto)
            try:
                for option in self.socket_options or ():
                    sock.setsockopt(*option)
                if deadline is not None:
                    deadline.watch(sock)
                sock.settimeout(timeout)
                sock.connect(address)
                return sock
            except TimeoutError as error:
                sock.close()
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from error
            except OSError as error:
                sock.close()
                failure = error
        raise NewConnectionError(self, f"Failed to establish a new connection: {failure!r}") from failure

    def request(self, *args, **kwargs):
        deadline = current_deadline()
        if deadline is not None and self.sock is not None:  # a kept-alive connection, reused
            deadline.watch(self.sock)
        return super().request(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_GuardedConnection, HTTPConnection):
    pass


class _HTTPSConnection(_GuardedConnection, HTTPSConnection):
    pass


class _PublicHTTPConnection(_HTTPConnection):
    public_only = True


class _PublicHTTPSConnection(_HTTPSConnection):
    public_only = True


def _pool(base: type, connection: type) -> type:
    return type(f"{connection.__name__}Pool", (base,), {"ConnectionCls": connection})


_POOLS = {
    False: {"http": _pool(HTTPConnectionPool, _HTTPConnection), "https": _pool(HTTPSConnectionPool, _HTTPSConnection)},
    True: {
        "http": _pool(HTTPConnectionPool, _PublicHTTPConnection),
        "https": _pool(HTTPSConnectionPool, _PublicHTTPSConnection),
    },
}


class _DeliveryAdapter(HTTPAdapter):
    def __init__(self, *, public_only: bool, connections_per_endpoint: int) -> None:
        self.public_only = public_only
        super().__init__(pool_connections=POOLS, pool_maxsize=connections_per_endpoint)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS[self.public_only]


def delivery_session(*, allow_private: bool, connections_per_endpoint: int = 10) -> requests.Session:
    """A session for deliveries; unless `allow_private`, it connects to public addresses only."""
    session = requests.Session()
    session.headers["User-Agent"] = "partner-gateway/1 (webhooks)"
    session.trust_env = False  # a proxy from the environment would hide the address that is checked
    adapter = _DeliveryAdapter(public_only=not allow_private, connections_per_endpoint=connections_per_endpoint)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
