"""Delivery queue gauges for the gateway's /metrics, read from the store at scrape time.

They describe the queue whichever dispatchers run (or none): depth and dead letters per partner, and the
lag of the oldest due delivery nobody has claimed — the number that grows when dispatchers fall behind.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from sqlalchemy import func, or_, select

from gateway.domain.delivery import DeliveryStatus
from gateway.store.db import Store
from gateway.store.models import Delivery


def queue_exposition(store: Store, now: datetime) -> bytes:
    registry = CollectorRegistry()
    depth = Gauge(
        "gateway_delivery_queue_depth", "Deliveries waiting to be sent, by partner.", ["partner"], registry=registry
    )
    dead = Gauge("gateway_delivery_dead_letters", "Dead letters, by partner.", ["partner"], registry=registry)
    lag = Gauge(
        "gateway_delivery_due_lag_seconds",
        "How long the oldest due, unclaimed delivery has been waiting (0: none).",
        registry=registry,
    )
    with store.read() as session:
        counts = session.execute(
            select(Delivery.partner_code, Delivery.status, func.count())
            .where(Delivery.status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.DEAD.value]))
            .group_by(Delivery.partner_code, Delivery.status)
        ).all()
        oldest_due = session.scalar(
            select(func.min(Delivery.next_attempt_at)).where(
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.next_attempt_at <= now,
                or_(Delivery.lease_until.is_(None), Delivery.lease_until <= now),
            )
        )
    for partner, status, count in counts:
        (depth if status == DeliveryStatus.PENDING else dead).labels(partner).set(count)
    lag.set((now - oldest_due).total_seconds() if oldest_due is not None else 0)
    return generate_latest(registry)
