"""The dispatcher (`gateway dispatch`): publish, claim, send, record — continuously, in any number of processes.

Many requests are in flight at once, each endpoint's in a lane of its own (gateway.delivery.lanes): at most
`endpoint_concurrency` per endpoint, at most `concurrency` in the process. A claim takes at most one event
of each subscriber for an endpoint (the next one waits for it to be done), so order per subscriber holds
however many requests are in flight.

The database sees short transactions only: one that records what finished and claims what the lanes have
room for, the sending in between with no transaction open. Every send ends by its hard deadline
(partners.deadlines), and a send only starts while its claim's lease has room for the whole deadline and a
margin, so a delivery is never in flight from two dispatchers; one that dies leaves leases that run out,
and the deliveries go out again with the same webhook-id. A store outage is waited out, never died of.
"""

from __future__ import annotations

import logging
import math
import os
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from itertools import groupby
from typing import Any

from aiohttp import ClientSession
from sqlalchemy import update
from sqlalchemy.orm import Session

from gateway.delivery.claims import ClaimedDelivery, claim_due_deliveries, endpoints_with_due_work
from gateway.delivery.lanes import Lanes, Request
from gateway.delivery.metrics import DeliveryMetrics
from gateway.delivery.outcomes import Send, attempt_outcome, record_sends
from gateway.delivery.publisher import publish_events
from gateway.delivery.rendering import outgoing_event
from gateway.domain.clock import utcnow
from gateway.domain.delivery import CircuitPolicy, Outcome, RetryPolicy, parse_schedule
from gateway.domain.tmf_events import NoTmfForm
from gateway.store.db import Store
from gateway.store.models import Delivery
from gateway.store.outages import OutageBackoff, is_store_outage
from partners.base import EXCERPT_LIMIT, Attempt, EventResult, Target
from partners.registry import adapter_for
from partners.transport import delivery_client

log = logging.getLogger("gateway.delivery")

REQUESTS_IN_HAND = 640  # requests one dispatcher holds claimed at most, queued or in flight, all lanes
# Requests a lane may hold waiting, beyond those in flight: as many as the endpoint gets through in READY_SECONDS
# at its recent pace, so that a fast endpoint's lane does not run dry between two claims, while a slow one's
# waiting requests do not sit out their leases; within these bounds. A waiting request keeps its lease.
READY_SECONDS = 0.5
MOST_WAITING_PER_LANE = (64, 24)  # single events, batches
FIRST_WAITING_PER_LANE = (64, 4)  # before an endpoint's pace is known: single events, batches
LEASE_MARGIN_SECONDS = 5  # a send starts only while its lease outlasts the deadline by this much
STEP_SECONDS = 0.05  # while sends are in flight, finished ones are recorded (and room claimed) this often,
STEP_POLL_SECONDS = 0.005  # or sooner when a lane runs down to half its depth


class DispatchConfigError(ValueError):
    """Delivery settings that cannot work together; the message says which and why."""


@dataclass(frozen=True)
class DispatchSettings:
    timeout: float  # the hard deadline of one send, connect to the last byte read
    lease: timedelta
    batch_size: int
    retry: RetryPolicy
    circuit: CircuitPolicy
    allow_private: bool
    public_url: str = ""  # the gateway's own address (GATEWAY_PUBLIC_URL): TMF events' hrefs are under it
    endpoint_concurrency: int = 4  # requests in flight to one endpoint (1: strictly one after the other)
    concurrency: int = 128  # requests in flight from the process
    idle_wait: float = 0.5  # seconds between claims that found nothing to do

    def __post_init__(self) -> None:
        if self.lease.total_seconds() < self.timeout + LEASE_MARGIN_SECONDS:
            raise DispatchConfigError(
                f"GATEWAY_DELIVERY_LEASE_SECONDS ({self.lease.total_seconds():g}) must be at least "
                f"GATEWAY_DELIVERY_TIMEOUT_SECONDS ({self.timeout:g}) + {LEASE_MARGIN_SECONDS}: a claim must outlive "
                "the send it covers, or a second dispatcher could send the same delivery meanwhile"
            )
        if not 1 <= self.endpoint_concurrency <= self.concurrency:
            raise DispatchConfigError(
                "GATEWAY_DELIVERY_ENDPOINT_CONCURRENCY must be at least 1 and at most GATEWAY_DELIVERY_CONCURRENCY"
            )

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> DispatchSettings:
        return cls(
            timeout=settings["DELIVERY_TIMEOUT_SECONDS"],
            lease=timedelta(seconds=settings["DELIVERY_LEASE_SECONDS"]),
            batch_size=settings["DELIVERY_BATCH_SIZE"],
            retry=RetryPolicy(
                parse_schedule(settings["DELIVERY_RETRY_SCHEDULE"]),
                timedelta(seconds=settings["RETRY_AFTER_MAX_SECONDS"]),
            ),
            circuit=CircuitPolicy(
                settings["CIRCUIT_FAILURE_THRESHOLD"],
                timedelta(seconds=settings["CIRCUIT_PROBE_SECONDS"]),
                timedelta(hours=settings["ENDPOINT_DISABLE_AFTER_HOURS"]),
            ),
            allow_private=settings["ALLOW_PRIVATE_ENDPOINTS"],
            public_url=settings.get("PUBLIC_URL") or "",
            endpoint_concurrency=settings["DELIVERY_ENDPOINT_CONCURRENCY"],
            concurrency=settings["DELIVERY_CONCURRENCY"],
        )


def waiting_room(seconds_per_request: float | None, *, batch: bool, in_flight: int) -> int:
    """How many requests an endpoint's lane may hold waiting: what it sends in READY_SECONDS at its recent pace
    (`in_flight` at a time), within bounds; before its pace is known, a first guess."""
    if seconds_per_request is None:
        return FIRST_WAITING_PER_LANE[batch]
    through = in_flight * READY_SECONDS / max(seconds_per_request, 1e-4)
    return max(1, min(MOST_WAITING_PER_LANE[batch], math.ceil(through)))


def dispatcher_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{random.randrange(16**6):06x}"[:64]


class _Finished:
    """What the lanes hand back to the dispatcher's own thread: sends to record, claims to release unsent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.arrived = threading.Event()
        self.sends: list[Send] = []
        self.unsent: list[int] = []

    def add_send(self, send: Send) -> None:
        with self._lock:
            self.sends.append(send)
        self.arrived.set()

    def add_unsent(self, requests: Sequence[Request]) -> None:
        with self._lock:
            self.unsent.extend(delivery.delivery_id for request in requests for delivery in request.deliveries)
        self.arrived.set()

    def take(self) -> tuple[list[Send], list[int]]:
        with self._lock:
            self.arrived.clear()
            sends, self.sends = self.sends, []
            unsent, self.unsent = self.unsent, []
        return sends, unsent


class Dispatcher:
    def __init__(
        self,
        store: Store,
        settings: DispatchSettings,
        *,
        name: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        metrics: DeliveryMetrics | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.name = name or dispatcher_name()
        self.clock = clock
        self.rng = rng or random.Random()
        self.metrics = metrics or DeliveryMetrics()
        self.http: ClientSession | None = None  # made on the lanes' loop by _open
        self._finished = _Finished()
        self._lanes = Lanes(
            per_endpoint=settings.endpoint_concurrency,
            concurrency=settings.concurrency,
            give_up_after=settings.circuit.failure_threshold,
            send=self._send_in_lane,
            give_back=self._finished.add_unsent,
        )
        self._send_room = timedelta(seconds=settings.timeout + LEASE_MARGIN_SECONDS)
        self._next_discovery = 0.0  # time.monotonic() of the next look for endpoints with work
        self._with_work: dict[str, str] = {}  # endpoint -> its partner's flavour

    def run_once(self) -> dict[Outcome, int]:
        """One round: claim what is due, send it all, record it all; the number of deliveries per outcome
        (all zero: nothing was due)."""
        self._open()
        try:
            claimed = self._in_store(self._claim)
            self._lanes.add(self._requests(claimed, self.clock() + self.settings.lease))
            self._lanes.wait_idle()
        finally:
            self._close()
        sends, unsent = self._finished.take()
        return self._in_store(partial(self._record, sends=sends, unsent=unsent))

    def run(self, stop: threading.Event, *, until_idle: bool = False) -> None:
        """Deliver until `stop` is set (or, with `until_idle`, until nothing is due or in flight). A store
        outage is logged and waited out; on stop, claims not yet sent are released and the sends in flight
        finish (each within its deadline) and are recorded."""
        log.info("dispatcher started", extra={"fields": {"dispatcher": self.name}})
        self._open()
        try:
            self._deliver_until(stop, until_idle)
        finally:
            self._close()

    def _deliver_until(self, stop: threading.Event, until_idle: bool) -> None:
        backoff = OutageBackoff(rng=self.rng)
        sends: list[Send] = []
        unsent: list[int] = []
        while not stop.is_set():
            finished, released = self._finished.take()
            sends, unsent = sends + finished, unsent + released
            try:
                claimed = self._in_store(partial(self._record_and_claim, sends=sends, unsent=unsent))
            except Exception as error:
                if not is_store_outage(error):
                    raise
                stop.wait(self._waiting_out(error, backoff))  # what finished stays to be recorded
                continue
            backoff.reset()
            sends, unsent = [], []
            if claimed:
                self._lanes.add(self._requests(claimed, self.clock() + self.settings.lease))
            elif not self._lanes.load():
                # A send that finished after this round took the finished ones is recorded at once, without the
                # idle wait: the subscriber's next event, which it held back, may be due once it is.
                if not self._finished.arrived.is_set():
                    if until_idle:
                        break
                    stop.wait(self.settings.idle_wait)
                continue
            self._finished.arrived.wait(self.settings.idle_wait)
            # Let a few more finish, so that one transaction records them together, unless a lane needs refilling.
            gather_until = time.monotonic() + STEP_SECONDS
            while time.monotonic() < gather_until and not self._refill_due() and not stop.is_set():
                stop.wait(STEP_POLL_SECONDS)
        self._stop(sends, unsent)

    def _waiting_out(self, error: Exception, backoff: OutageBackoff) -> float:
        wait = backoff.next_wait()
        fields = {"dispatcher": self.name, "error": str(error)[:300], "retry_in_s": round(wait, 2)}
        log.warning("store unreachable, waiting", extra={"fields": fields})
        return wait

    def _open(self) -> None:
        self._lanes.open()
        self.http = self._lanes.call(self._open_client())

    async def _open_client(self) -> ClientSession:
        return delivery_client(
            allow_private=self.settings.allow_private,
            connections_per_endpoint=self.settings.endpoint_concurrency,
            connections=self.settings.concurrency,
        )

    def _close(self) -> None:
        """Close kept connections and the lanes' loop (after a crash, once what is in flight has ended)."""
        self._lanes.withdraw()
        self._lanes.wait_idle(timeout=self.settings.timeout + 1)
        if self.http is not None:
            self._lanes.call(self.http.close())
            self.http = None
        self._lanes.close()

    # --- the store's side ------------------------------------------------------------------------------

    def _in_store(self, work: Callable[[Session], Any]) -> Any:
        with self.store.transaction() as session:
            return work(session)

    def _record_and_claim(self, session: Session, sends: list[Send], unsent: list[int]) -> list[ClaimedDelivery]:
        if sends or unsent:
            self._record(session, sends, unsent)
        return self._claim(session)

    def _claim(self, session: Session) -> list[ClaimedDelivery]:
        """Publish new events, then claim due deliveries for the lanes that are at most half full.

        Which endpoints have work is looked up every `idle_wait` (and whenever the lanes are empty), one
        index look-up per endpoint; in between, claims read only the endpoints known to have work.
        """
        now = self.clock()
        publish_events(session, now)
        load = self._lanes.load()
        if not load or time.monotonic() >= self._next_discovery:
            found = {endpoint.endpoint_id: endpoint.flavour for endpoint in endpoints_with_due_work(session, now)}
            self._with_work = {**{e: f for e, f in self._with_work.items() if e in load}, **found}
            self._next_discovery = time.monotonic() + self.settings.idle_wait
        in_hand = REQUESTS_IN_HAND - sum(load.values())
        wanted: dict[str, int] = {}
        for endpoint, (depth, per_request) in self._lane_depths().items():
            have = load.get(endpoint, 0)
            take = min(depth - have, in_hand)
            if have > depth // 2 or take <= 0:
                continue
            in_hand -= take
            wanted[endpoint] = take * per_request
        claimed = claim_due_deliveries(session, owner=self.name, now=now, lease=self.settings.lease, wanted=wanted)
        got = Counter(delivery.endpoint_id for delivery in claimed)
        for endpoint in wanted:
            if not got[endpoint] and not load.get(endpoint):
                del self._with_work[endpoint]  # nothing due, nothing in flight: no work until found again
        return claimed

    def _lane_depths(self) -> dict[str, tuple[int, int]]:
        """For each endpoint with work: how many requests its lane may hold, and events per request.

        Every endpoint gets its share of what the dispatcher may hold, and never less than twice what it may
        have in flight: a deep lane for one busy endpoint must not starve the others.
        """
        share = max(2 * self.settings.endpoint_concurrency, REQUESTS_IN_HAND // max(1, len(self._with_work)))
        pace = self._lanes.pace()
        depths = {}
        for endpoint, flavour in self._with_work.items():
            batch = adapter_for(flavour).accepts_batches
            waiting = waiting_room(pace.get(endpoint), batch=batch, in_flight=self.settings.endpoint_concurrency)
            depth = min(self.settings.endpoint_concurrency + waiting, share)
            depths[endpoint] = (depth, self.settings.batch_size if batch else 1)
        return depths

    def _refill_due(self) -> bool:
        """Whether a lane with work has run down to half its depth (the next claim would refill it)."""
        load = self._lanes.load()
        return any(load.get(endpoint, 0) <= depth // 2 for endpoint, (depth, _) in self._lane_depths().items())

    def _record(self, session: Session, sends: list[Send], unsent: list[int]) -> dict[Outcome, int]:
        done = self.clock()
        counts = record_sends(
            session,
            sends,
            owner=self.name,
            now=done,
            retry=self.settings.retry,
            circuit=self.settings.circuit,
            rng=self.rng,
        )
        if unsent:
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(unsent), Delivery.lease_owner == self.name)
                .values(lease_owner=None, lease_until=None),
                execution_options={"synchronize_session": False},
            )
        self.metrics.observe(sends, done)
        if counts[Outcome.FAILED] or counts[Outcome.GONE]:
            log.warning("deliveries refused", extra={"fields": {k.value: v for k, v in counts.items()}})
        return counts

    def _stop(self, sends: list[Send], unsent: list[int]) -> None:
        """Release what was never started, let what is in flight end, record everything; a store still out
        is tried again until the leases it would release have run out anyway."""
        self._finished.add_unsent(self._lanes.withdraw())
        self._lanes.wait_idle()
        finished, released = self._finished.take()
        sends, unsent = sends + finished, unsent + released
        if not sends and not unsent:
            return
        backoff = OutageBackoff(rng=self.rng)
        give_up = self.clock() + self.settings.lease
        while True:
            try:
                self._in_store(partial(self._record, sends=sends, unsent=unsent))
                return
            except Exception as error:
                if not is_store_outage(error) or self.clock() >= give_up:
                    fields = {"sends": len(sends), "error": str(error)[:300]}
                    log.error("stopping without recording", extra={"fields": fields})
                    return
                time.sleep(self._waiting_out(error, backoff))

    # --- the sending side (the lanes' loop) ---------------------------------------------------------------

    def _requests(self, claimed: Sequence[ClaimedDelivery], lease_ends: datetime) -> Iterator[Request]:
        """The claimed deliveries as requests: one each, or batches of up to batch_size per endpoint."""
        by_endpoint = sorted(claimed, key=lambda delivery: delivery.endpoint_id)
        for endpoint_id, group in groupby(by_endpoint, key=lambda delivery: delivery.endpoint_id):
            deliveries = list(group)
            if adapter_for(deliveries[0].flavour).accepts_batches:
                size = self.settings.batch_size
                for start in range(0, len(deliveries), size):
                    yield Request(endpoint_id, deliveries[start : start + size], lease_ends)
            else:
                yield from (Request(endpoint_id, [delivery], lease_ends) for delivery in deliveries)

    async def _send_in_lane(self, request: Request) -> bool:
        """Send one request (if its lease still has room for the whole deadline); whether the endpoint failed."""
        if self.clock() + self._send_room >= request.lease_ends:
            self._finished.add_unsent([request])
            return False
        send = await self._send(request)
        self._finished.add_send(send)
        return attempt_outcome(send.results[0].attempt) == Outcome.RETRY

    async def _send(self, request: Request) -> Send:
        deliveries = request.deliveries
        first = deliveries[0]
        adapter = adapter_for(first.flavour)
        target = Target(first.url, first.secrets)
        try:
            events = [outgoing_event(d, gateway_url=self.settings.public_url) for d in deliveries]
        except NoTmfForm as error:  # one delivery each for a hub (no batches): its attempt says what went wrong
            return Send(first.endpoint_id, deliveries, [_not_sent(first, error, self.clock())])
        if adapter.accepts_batches:
            results = await adapter.send_batch(
                self.http, target, events, timeout=self.settings.timeout, clock=self.clock
            )
        else:
            results = [
                await adapter.send(self.http, target, events[0], timeout=self.settings.timeout, clock=self.clock)
            ]
        return Send(first.endpoint_id, deliveries, results)


def _not_sent(delivery: ClaimedDelivery, error: Exception, now: datetime) -> EventResult:
    """An attempt that never reached the partner: its error class and what went wrong, kept with the attempt; the
    delivery is retried on the schedule like any failure, then kept as a dead letter."""
    attempt = Attempt(now, 0.0, error_class=type(error).__name__, excerpt=str(error)[:EXCERPT_LIMIT])
    return EventResult(delivery.event_id, [attempt])
