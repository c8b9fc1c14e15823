"""The dispatcher's own metrics: attempts by outcome and delivery latency (commit to delivered).

The queue's depth and lag are read from the store by the gateway's /metrics (gateway.metrics), so they are
right whichever dispatchers run; these two are counted where the sending happens.
"""

from __future__ import annotations

from collections import Counter as CountOf
from collections.abc import Sequence
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram

from gateway.delivery.outcomes import Send, attempt_outcome

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 6 * 3600, 24 * 3600)


class DeliveryMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.attempts = Counter(
            "gateway_delivery_attempts",
            "HTTP attempts to deliver events, by outcome (delivered, retry, failed, gone).",
            ["outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "gateway_delivery_latency_seconds",
            "From the event's commit to its delivery.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def observe(self, sends: Sequence[Send], now: datetime) -> None:
        attempts: CountOf[str] = CountOf()
        latencies = []
        for send in sends:
            for attempt in send.results[0].attempts:  # a batch's attempts are shared by its events
                attempts[attempt_outcome(attempt).value] += 1
            for delivery, result in zip(send.deliveries, send.results, strict=True):
                status = result.http_status
                if status is not None and 200 <= status < 300:
                    latencies.append((now - delivery.event_created_at).total_seconds())
        # Counted here first, then added to the metrics once per outcome: `labels()` validates and locks.
        for outcome, count in attempts.items():
            self.attempts.labels(outcome).inc(count)
        for seconds in latencies:
            self.latency.observe(seconds)
