"""Real HTTP receivers on loopback for delivery tests: each records what arrives and answers as told."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Answer:
    status: int = 204
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (longer than the timeout: a timeout)
    reset: bool = False  # drop the connection with a TCP reset instead of answering


def always(answer: Answer) -> Callable[[Received, int], Answer]:
    return lambda _received, _count: answer


class Receiver:
    """A threaded HTTP server on 127.0.0.1; `answer(received, count)` decides each response."""

    def __init__(self, answer: Callable[[Received, int], Answer] | None = None) -> None:
        self.answer = answer or always(Answer())
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:
                    # The sender went away mid-body (a dispatcher killed mid-send): an incomplete request is no
                    # delivery, as for any HTTP server; recording it would count a truncated body as received.
                    self.close_connection = True
                    return
                received = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with receiver._lock:
                    receiver.received.append(received)
                    count = len(receiver.received)
                answer = receiver.answer(received, count)
                if answer.delay:
                    time.sleep(answer.delay)
                if answer.reset:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    return
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[Received]:
        with self._lock:
            return list(self.received)
