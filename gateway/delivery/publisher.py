"""Publishing: committed outbox events get their feed position and one delivery per enabled endpoint.

Positions are handed out by one publisher at a time (PostgreSQL: a transaction-level advisory lock;
SQLite: the write lock), in id order, to rows that are already committed. A feed reader that has seen
position N therefore never later finds a new event below N, which ids alone cannot promise: a transaction
can take an id, then commit after a later one.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from gateway.domain.delivery import DeliveryStatus, EndpointStatus
from gateway.store.models import Delivery, OutboxEvent, WebhookEndpoint

PUBLISH_LOCK = 7_420_251  # any constant: names the advisory lock publishers take on PostgreSQL


def publish_events(session: Session, now: datetime, limit: int = 2000) -> int:
    """Publish up to `limit` unpublished events; the number published. Run inside a write transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PUBLISH_LOCK})
    events = session.execute(
        select(OutboxEvent.id, OutboxEvent.partner_code, OutboxEvent.subscription_id, OutboxEvent.event_type)
        .where(OutboxEvent.position.is_(None))
        .order_by(OutboxEvent.id)
        .limit(limit)
    ).all()
    if not events:
        return 0
    position = session.scalar(select(func.coalesce(func.max(OutboxEvent.position), 0)))
    endpoints: dict[str, list[str]] = defaultdict(list)
    for endpoint_id, partner_code in session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.partner_code).where(
            WebhookEndpoint.partner_code.in_({event.partner_code for event in events}),
            WebhookEndpoint.status == EndpointStatus.ENABLED,
        )
    ):
        endpoints[partner_code].append(endpoint_id)

    positions, deliveries = [], []
    for event in events:
        position += 1
        positions.append({"row_id": event.id, "position": position})
        deliveries.extend(
            {
                "event_id": event.id,
                "endpoint_id": endpoint_id,
                "partner_code": event.partner_code,
                "subscription_id": event.subscription_id,
                "position": position,
                "event_type": event.event_type,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for endpoint_id in endpoints[event.partner_code]
        )
    session.connection().execute(
        update(OutboxEvent.__table__)
        .where(OutboxEvent.__table__.c.id == bindparam("row_id"))
        .values(position=bindparam("position")),
        positions,
    )
    if deliveries:
        session.execute(insert(Delivery), deliveries)
    return len(events)
