"""Delivery queue gauges for the gateway's /metrics, read from the store at scrape time.

They describe the queue whichever dispatchers run (or none): depth and dead letters per partner, and the
lag of the oldest due delivery nobody has claimed — the number that grows when dispatchers fall behind.
Every partner has its series, at 0 when its queue is empty: a series that vanished would read as a scrape
that failed. The values are built for the scrape alone (metric families, not Gauge objects: under gunicorn
a Gauge writes a file per worker, which would be read back as series of their own).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from gateway.delivery.claims import delivery_is_due, has_status, is_pending
from gateway.domain.delivery import DeliveryStatus
from gateway.store.db import Store
from gateway.store.models import Delivery, Partner, WebhookEndpoint


def queue_exposition(store: Store, now: datetime) -> bytes:
    with store.read() as session:
        partners = session.scalars(select(Partner.code).order_by(Partner.code)).all()
        endpoints = dict(session.execute(select(WebhookEndpoint.id, WebhookEndpoint.partner_code)).all())
        # Counted per endpoint, from the index of pending deliveries alone; then summed per partner.
        pending_per_endpoint = session.execute(
            select(Delivery.endpoint_id, func.count()).where(is_pending()).group_by(Delivery.endpoint_id)
        ).all()
        dead = dict(
            session.execute(
                select(Delivery.partner_code, func.count())
                .where(has_status(DeliveryStatus.DEAD))
                .group_by(Delivery.partner_code)
            ).all()
        )
        oldest_due = session.scalar(select(func.min(_first_due(now))).select_from(WebhookEndpoint))
    depth = Counter()
    for endpoint_id, count in pending_per_endpoint:
        depth[endpoints[endpoint_id]] += count
    families = [
        _per_partner("gateway_delivery_queue_depth", "Deliveries waiting to be sent, by partner.", partners, depth),
        _per_partner("gateway_delivery_dead_letters", "Dead letters, by partner.", partners, dead),
        GaugeMetricFamily(
            "gateway_delivery_due_lag_seconds",
            "How long the oldest due, unclaimed delivery has been waiting (0: none).",
            value=(now - oldest_due).total_seconds() if oldest_due is not None else 0,
        ),
    ]
    registry = CollectorRegistry()
    registry.register(_Families(families))
    return generate_latest(registry)


def _first_due(now: datetime):
    """The endpoint's first due, unclaimed delivery's due time: a few steps of its index, however long the
    endpoint's queue (a minimum over all pending deliveries would read all of them)."""
    return (
        select(Delivery.next_attempt_at)
        .where(Delivery.endpoint_id == WebhookEndpoint.id, delivery_is_due(now))
        .order_by(Delivery.next_attempt_at)
        .limit(1)
        .scalar_subquery()
    )


def _per_partner(name: str, documentation: str, partners: list[str], values: Counter | dict) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=["partner"])
    for partner in partners:
        family.add_metric([partner], values.get(partner, 0))
    return family


class _Families:
    """A collector handing out metric families already read."""

    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self.families = families

    def collect(self):
        return self.families
