"""Lanes: each endpoint's requests wait in a lane of their own, at most N of them in flight at once.

The sending runs on an asyncio event loop in a thread of its own, so that thousands of requests can wait on
slow partners at the cost of a few kilobytes each, while the dispatcher's own thread talks to the store.
A lane never has more than its limit in flight, and the process never more than its cap: a partner that
answers slowly, drips or never answers fills its own lane and nobody else's. A lane whose requests keep
failing gives back what it has queued rather than send it into the outage.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

log = logging.getLogger("gateway.delivery")

PACE_WEIGHT = 0.2  # of the latest request in an endpoint's moving average of request times


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
    sending: int = 0  # workers on this lane (each sends one request at a time)
    failures: int = 0  # consecutive failed requests, in this process


class Lanes:
    """Per-endpoint queues, worked on an event loop of their own (started by `open`, stopped by `close`).

    `send(request)` is a coroutine run on that loop; it says whether the endpoint failed (True counts towards
    `give_up_after`). `give_back(requests)` receives what a failing lane or `withdraw` takes back unsent.
    Every other method is called from the dispatcher's thread.
    """

    def __init__(
        self,
        *,
        per_endpoint: int,
        concurrency: int,
        give_up_after: int,
        send: Callable[[Request], Awaitable[bool]],
        give_back: Callable[[list[Request]], None],
    ) -> None:
        self.per_endpoint = per_endpoint
        self.concurrency = concurrency
        self.give_up_after = give_up_after
        self._send = send
        self._give_back = give_back
        self._lanes: dict[str, Lane] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._slots: asyncio.Semaphore | None = None
        self._tasks: set[asyncio.Task] = set()
        # Seconds a request to each endpoint has taken lately (a moving average), kept when its lane empties:
        # how fast a lane drains, which sets how many requests it is given to hold (Dispatcher._lane_depths).
        self._pace: dict[str, float] = {}

    # --- the loop ------------------------------------------------------------------------------------

    def open(self) -> None:
        if self._loop is not None:
            return
        loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=loop.run_forever, name="deliveries", daemon=True)
        self._thread.start()
        self._loop = loop
        self._slots = self.call(self._make_slots())

    def call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Run `coroutine` on the lanes' loop and wait for its result."""
        assert self._loop is not None, "open() the lanes first"
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def close(self) -> None:
        """Stop the loop (after whatever is in flight has ended: call wait_idle first)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
        self._loop = self._thread = self._slots = None

    async def _make_slots(self) -> asyncio.Semaphore:
        return asyncio.Semaphore(self.concurrency)

    # --- the dispatcher's side -------------------------------------------------------------------------

    def add(self, requests: Iterable[Request]) -> None:
        assert self._loop is not None, "open() the lanes first"
        starting = []
        with self._lock:
            for request in requests:
                lane = self._lanes.get(request.endpoint_id)
                if lane is None:
                    lane = self._lanes[request.endpoint_id] = Lane(request.endpoint_id)
                lane.waiting.append(request)
                if lane.sending < self.per_endpoint:
                    lane.sending += 1
                    starting.append(lane)
        if starting:
            self._loop.call_soon_threadsafe(self._start, starting)

    def load(self) -> dict[str, int]:
        """Requests queued or in flight, by endpoint (endpoints with none left out)."""
        with self._lock:
            return {endpoint: lane.sending + len(lane.waiting) for endpoint, lane in self._lanes.items()}

    def pace(self) -> dict[str, float]:
        """Seconds a request takes lately, by endpoint (endpoints never sent to left out)."""
        with self._lock:
            return dict(self._pace)

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

    # --- the loop's side ---------------------------------------------------------------------------------

    def _start(self, lanes: list[Lane]) -> None:
        for lane in lanes:
            task = asyncio.ensure_future(self._work(lane))
            self._tasks.add(task)  # the loop keeps only a weak reference to a task
            task.add_done_callback(self._tasks.discard)

    async def _work(self, lane: Lane) -> None:
        assert self._slots is not None
        while True:
            with self._lock:
                if not lane.waiting:
                    lane.sending -= 1
                    self._forget_if_empty(lane)
                    return
                request = lane.waiting.popleft()
            async with self._slots:
                started = time.monotonic()
                try:
                    failed = await self._send(request)
                except Exception:
                    log.exception("a send failed unexpectedly", extra={"fields": {"endpoint": lane.endpoint_id}})
                    self._give_back([request])
                    failed = True
            given_back = []
            took = time.monotonic() - started
            with self._lock:
                before = self._pace.get(lane.endpoint_id, took)
                self._pace[lane.endpoint_id] = before + PACE_WEIGHT * (took - before)
                lane.failures = lane.failures + 1 if failed else 0
                if lane.failures >= self.give_up_after and lane.waiting:
                    given_back = list(lane.waiting)
                    lane.waiting.clear()
            if given_back:
                self._give_back(given_back)

    def _forget_if_empty(self, lane: Lane) -> None:
        if lane.sending == 0 and not lane.waiting and self._lanes.get(lane.endpoint_id) is lane:
            del self._lanes[lane.endpoint_id]
            if not self._lanes:
                self._idle.notify_all()
