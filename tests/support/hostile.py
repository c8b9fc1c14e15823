"""Hostile partner endpoints on loopback: real sockets that answer the way a broken or malicious partner does.

Each reads the request (headers and Content-Length body) as any HTTP server would, then misbehaves in its own
way. They count connections and requests, and stop when the test leaves the `with` block.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable

Behaviour = Callable[[socket.socket, threading.Event], None]


def _read_request(connection: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        body += chunk
    return body


class HostileServer:
    """Serves `behaviour(connection, stopping)` after each request is read, one thread per connection."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hooks"
        self.connections = 0
        self.requests = 0
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    def __enter__(self) -> HostileServer:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stopping.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            try:
                while not self.stopping.is_set():
                    if _read_request(connection) is None:
                        return
                    with self._lock:
                        self.requests += 1
                    self.behaviour(connection, self.stopping)
            except OSError:
                return  # the gateway hung up: what a hostile partner is there to provoke


HEAD_200 = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"


def drip_body(interval: float = 1.0) -> Behaviour:
    """Status and headers at once, then one byte of a long body every `interval` seconds."""

    def behave(connection: socket.socket, stopping: threading.Event) -> None:
        connection.sendall(HEAD_200 + b"Content-Length: 100000\r\n\r\n")
        while not stopping.wait(interval):
            connection.sendall(b".")

    return behave


def drip_status_line(interval: float = 0.2) -> Behaviour:
    """The status line itself, one byte every `interval` seconds: no read ever waits long."""

    def behave(connection: socket.socket, stopping: threading.Event) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100000:
            if stopping.wait(interval):
                return
            connection.sendall(bytes([byte]))

    return behave


def endless_chunked_body(connection: socket.socket, stopping: threading.Event) -> None:
    """A 200 whose chunked body never ends, 64 KiB a chunk, as fast as the gateway reads."""
    connection.sendall(HEAD_200 + b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
    while not stopping.is_set():
        connection.sendall(chunk)


def gzip_bomb(connection: socket.socket, stopping: threading.Event) -> None:
    """A 200 whose gzip body inflates without end: each 64 KiB sent is about 64 MiB of zeros."""
    connection.sendall(HEAD_200 + b"Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n")
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1024 * 1024)
    while not stopping.is_set():
        data = b"".join(compressor.compress(zeros) for _ in range(64)) + compressor.flush(zlib.Z_SYNC_FLUSH)
        connection.sendall(b"%x\r\n%s\r\n" % (len(data), data))


def reset_mid_body(connection: socket.socket, _stopping: threading.Event) -> None:
    """A 200 that promises 10,000 bytes, sends 100, then drops the connection with a TCP reset."""
    connection.sendall(HEAD_200 + b"Content-Length: 10000\r\n\r\n" + b"y" * 100)
    time.sleep(0.05)
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


def never_answer(_connection: socket.socket, stopping: threading.Event) -> None:
    """Reads the request and keeps the connection open, silent, until the test ends."""
    stopping.wait()


def redirect_to(location: str) -> Behaviour:
    def behave(connection: socket.socket, _stopping: threading.Event) -> None:
        connection.sendall(
            b"HTTP/1.1 307 Temporary Redirect\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n" % location.encode()
        )

    return behave


def answer(status: int = 204, body: bytes = b"", delay: float = 0.0) -> Behaviour:
    """An ordinary keep-alive answer, after `delay` seconds."""

    def behave(connection: socket.socket, stopping: threading.Event) -> None:
        if delay and stopping.wait(delay):
            return
        connection.sendall(b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n%s" % (status, len(body), body))

    return behave
