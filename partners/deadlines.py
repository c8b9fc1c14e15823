"""Hard deadlines for outbound requests: whatever a partner does, a send is over by its deadline.

Socket timeouts bound each read, not the request: a partner that drips one byte a second never trips a
15-second read timeout, and neither does a slow DNS server. Here a watchdog thread shuts down the sockets
a request is using once its deadline passes, which ends a blocked connect, send or read at once (TLS
included: the shutdown acts on the TCP socket underneath).

The connections of partners.transport register their sockets with the deadline of the thread they run in;
a request made through any other session has per-read timeouts only.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Deadline:
    """One request's deadline and the sockets it has used.

    Each socket is watched through a duplicate of its descriptor: whatever the connection does with its own
    descriptor meanwhile (closes it, hands it to TLS), shutting the duplicate down reaches the same socket and
    never a stranger that was given the same descriptor number.
    """

    def __init__(self, at: float) -> None:
        self.at = at  # time.monotonic()
        self.expired = False
        self._watched: list[socket.socket] = []
        self._lock = threading.Lock()
        self._over = False

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        duplicate = socket.socket(fileno=os.dup(sock.fileno()))
        with self._lock:
            if self._over:
                duplicate.close()
                return
            self._watched.append(duplicate)
            if not self.expired:
                return
        _shut(duplicate)  # a socket opened just as the deadline passed

    def expire(self) -> None:
        with self._lock:
            if self._over:
                return
            self.expired = True
            watched = list(self._watched)
        for duplicate in watched:
            _shut(duplicate)

    def close(self) -> None:
        with self._lock:
            self._over = True
            watched, self._watched = self._watched, []
        for duplicate in watched:
            duplicate.close()


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the peer or by the connection


class _Watchdog:
    """One thread for the process: wakes at the earliest deadline and expires every deadline that has passed."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, deadline: Deadline) -> None:
        with self._wake:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="send-deadlines", daemon=True)
                self._thread.start()
            heapq.heappush(self._heap, (deadline.at, next(self._order), deadline))
            if self._heap[0][2] is deadline:
                self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    self._wake.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                _, _, deadline = heapq.heappop(self._heap)
            deadline.expire()  # a no-op for a request that is already over


_WATCHDOG = _Watchdog()  # the thread starts with the first deadline, not at import
_CURRENT = threading.local()


@contextmanager
def hard_deadline(seconds: float) -> Iterator[Deadline]:
    """Everything the current thread does through partners.transport inside the block ends by `seconds`."""
    deadline = Deadline(time.monotonic() + seconds)
    _WATCHDOG.add(deadline)
    _CURRENT.deadline = deadline
    try:
        yield deadline
    finally:
        _CURRENT.deadline = None
        deadline.close()


def current_deadline() -> Deadline | None:
    """The deadline of the request the current thread is making, if it is made under one."""
    return getattr(_CURRENT, "deadline", None)
