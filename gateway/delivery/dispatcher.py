"""The dispatcher (`gateway dispatch`): publish, claim, send, record — in a loop, any number of processes.

Each round is three short transactions around the sending: publish new events and claim due deliveries,
send them through the partners' adapters (no transaction open meanwhile), record what happened. A send
only starts while the claim's lease has room for the whole request timeout, so a delivery is never sent
by two dispatchers at once; one that dies leaves leases that run out, and the deliveries go out again
with the same webhook-id.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from itertools import groupby
from typing import Any

from sqlalchemy import update

from gateway.delivery.claims import ClaimedDelivery, claim_due_deliveries
from gateway.delivery.metrics import DeliveryMetrics
from gateway.delivery.outcomes import Send, record_sends
from gateway.delivery.publisher import publish_events
from gateway.domain.clock import utcnow
from gateway.domain.delivery import CircuitPolicy, Outcome, RetryPolicy, parse_schedule
from gateway.store.db import Store
from gateway.store.models import Delivery
from partners.base import OutgoingEvent, Target
from partners.registry import ADAPTERS, adapter_for
from partners.transport import delivery_session

log = logging.getLogger("gateway.delivery")

# Each round claims separately for the two kinds of partner, so neither claim reads rows it cannot use:
SINGLE_PER_ROUND = 500  # one-event-per-request partners (several dispatchers share a busy partner's work)
BATCHES_PER_ROUND = 20  # batch partners: fewer, larger rounds spread each round's fixed cost thinner
BATCH_FLAVOURS = sorted(name for name, adapter in ADAPTERS.items() if adapter.accepts_batches)
SINGLE_FLAVOURS = sorted(name for name, adapter in ADAPTERS.items() if not adapter.accepts_batches)


@dataclass(frozen=True)
class DispatchSettings:
    timeout: float
    lease: timedelta
    batch_size: int
    retry: RetryPolicy
    circuit: CircuitPolicy
    allow_private: bool
    idle_wait: float = 0.5  # seconds between rounds that found nothing to do

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
        )


def dispatcher_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{random.randrange(16**6):06x}"[:64]


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
        self.http = delivery_session(allow_private=settings.allow_private)

    def run_once(self) -> dict[Outcome, int]:
        """One round; the number of deliveries per outcome (all zero: nothing was due)."""
        now = self.clock()
        with self.store.transaction() as session:
            publish_events(session, now)
            claim = partial(claim_due_deliveries, session, owner=self.name, now=now, lease=self.settings.lease)
            claimed = claim(limit=self.settings.batch_size * BATCHES_PER_ROUND, flavours=BATCH_FLAVOURS) + claim(
                limit=SINGLE_PER_ROUND, flavours=SINGLE_FLAVOURS
            )
        lease_ends = now + self.settings.lease
        sends, unsent = self._send_all(claimed, lease_ends)
        done = self.clock()
        with self.store.transaction() as session:
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

    def run(self, stop: threading.Event, *, until_idle: bool = False) -> None:
        """Rounds until `stop` is set (or, with `until_idle`, until a round finds nothing due)."""
        log.info("dispatcher started", extra={"fields": {"dispatcher": self.name}})
        while not stop.is_set():
            counts = self.run_once()
            if not any(counts.values()):
                if until_idle:
                    return
                stop.wait(self.settings.idle_wait)

    def _send_all(self, claimed: Sequence[ClaimedDelivery], lease_ends: datetime) -> tuple[list[Send], list[int]]:
        sends: list[Send] = []
        for group in self._requests(claimed):
            # A request starts only when it would end, timed out at worst, before the lease does.
            if self.clock() + timedelta(seconds=self.settings.timeout + 1) >= lease_ends:
                sent = {delivery.delivery_id for send in sends for delivery in send.deliveries}
                return sends, [d.delivery_id for d in claimed if d.delivery_id not in sent]
            sends.append(self._send(group))
        return sends, []

    def _requests(self, claimed: Sequence[ClaimedDelivery]) -> Iterator[list[ClaimedDelivery]]:
        """The claimed deliveries as requests: one each, or batches of up to batch_size per endpoint."""
        by_endpoint = sorted(claimed, key=lambda delivery: delivery.endpoint_id)
        for _, group in groupby(by_endpoint, key=lambda delivery: delivery.endpoint_id):
            deliveries = list(group)
            if adapter_for(deliveries[0].flavour).accepts_batches:
                size = self.settings.batch_size
                for start in range(0, len(deliveries), size):
                    yield deliveries[start : start + size]
            else:
                yield from ([delivery] for delivery in deliveries)

    def _send(self, deliveries: list[ClaimedDelivery]) -> Send:
        first = deliveries[0]
        adapter = adapter_for(first.flavour)
        target = Target(first.url, first.secrets)
        events = [OutgoingEvent(d.event_id, d.event_type, d.body) for d in deliveries]
        if adapter.accepts_batches:
            results = adapter.send_batch(self.http, target, events, timeout=self.settings.timeout, clock=self.clock)
        else:
            results = [adapter.send(self.http, target, events[0], timeout=self.settings.timeout, clock=self.clock)]
        return Send(first.endpoint_id, deliveries, results)
