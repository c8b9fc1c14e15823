"""Lanes: each endpoint's requests wait in a lane of their own, at most N of them in flight at once.

One pool of threads (the process's cap) sends for every lane, and a lane never holds more of them than its
own limit: a partner that answers slowly, drips or never answers fills its own lane and nobody else's.
A lane whose requests keep failing gives back what it has queued rather than send it into the outage.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request to one endpoint (one delivery, or a batch), and when the claim on it runs out."""

    endpoint_id: str
    deliveries: list  # ClaimedDelivery
    lease_ends: datetime


@dataclass(slots=True)
class Lane:
    endpoint_id: str
    waiting: deque[Request] = field(default_factory=deque)
    sending: int = 0  # threads working this lane
    failures: int = 0  # consecutive failed requests, in this process


class Lanes:
    """Per-endpoint queues worked by a shared thread pool.

    `send(request)` does the work in a pool thread and says whether the endpoint failed (True: it counts
    towards `give_up_after`); `give_back(requests)` receives what a failing lane or `withdraw` takes back
    unsent.
    """

    def __init__(
        self,
        *,
        per_endpoint: int,
        threads: int,
        give_up_after: int,
        send: Callable[[Request], bool],
        give_back: Callable[[list[Request]], None],
    ) -> None:
        self.per_endpoint = per_endpoint
        self.give_up_after = give_up_after
        self._send = send
        self._give_back = give_back
        self._lanes: dict[str, Lane] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="deliver")

    def add(self, requests: Iterable[Request]) -> None:
        with self._lock:
            for request in requests:
                lane = self._lanes.get(request.endpoint_id)
                if lane is None:
                    lane = self._lanes[request.endpoint_id] = Lane(request.endpoint_id)
                lane.waiting.append(request)
                if lane.sending < self.per_endpoint:
                    lane.sending += 1
                    self._pool.submit(self._work, lane)

    def load(self) -> dict[str, int]:
        """Requests queued or in flight, by endpoint (endpoints with none left out)."""
        with self._lock:
            return {endpoint: lane.sending + len(lane.waiting) for endpoint, lane in self._lanes.items()}

    def withdraw(self) -> list[Request]:
        """Take back every request not yet started (a stop)."""
        with self._lock:
            taken = [request for lane in self._lanes.values() for request in lane.waiting]
            for lane in self._lanes.values():
                lane.waiting.clear()
        return taken

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until nothing is queued or in flight; whether that happened within `timeout`."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._lanes, timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _work(self, lane: Lane) -> None:
        while True:
            with self._lock:
                if not lane.waiting:
                    lane.sending -= 1
                    self._forget_if_empty(lane)
                    return
                request = lane.waiting.popleft()
            try:
                failed = self._send(request)
            except BaseException:
                failed = True  # reported by `send` itself; the lane carries on
            given_back = []
            with self._lock:
                lane.failures = lane.failures + 1 if failed else 0
                if lane.failures >= self.give_up_after and lane.waiting:
                    given_back = list(lane.waiting)
                    lane.waiting.clear()
            if given_back:
                self._give_back(given_back)

    def _forget_if_empty(self, lane: Lane) -> None:
        if lane.sending == 0 and not lane.waiting:
            del self._lanes[lane.endpoint_id]
            if not self._lanes:
                self._idle.notify_all()
