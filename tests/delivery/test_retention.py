"""The event feed keeps events at least the retention period; older ones go once nothing waits on them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from gateway.delivery.publisher import publish_events
from gateway.domain.clock import utcnow
from gateway.domain.delivery import DeliveryStatus
from gateway.services.scheduler import run_due_transitions
from gateway.store.models import Delivery, DeliveryAttempt, OutboxEvent
from tests.support.delivery import partner_with_endpoint, record_events


def test_old_finished_events_are_removed_and_pending_or_recent_ones_kept(store):
    partner_with_endpoint(store, "nordlink", "https://hooks.nordlink.example/x")
    old = utcnow() - timedelta(days=31)
    record_events(store, "nordlink", subscribers=3, changes_each=0, now=old)
    record_events(store, "nordlink", subscribers=1, changes_each=0, prefix="recent")
    with store.transaction() as session:
        publish_events(session, utcnow())
        old_ids = list(session.scalars(select(Delivery.id).where(Delivery.created_at < utcnow()).order_by(Delivery.id)))
        session.execute(update(Delivery).values(status=DeliveryStatus.DELIVERED))
        session.execute(update(Delivery).where(Delivery.id == old_ids[0]).values(status=DeliveryStatus.PENDING))
        session.add(
            DeliveryAttempt(
                delivery_id=old_ids[1], attempted_at=old, duration_ms=1, outcome="delivered", dispatcher="t"
            )
        )

    report = run_due_transitions(store, now=utcnow(), event_retention=timedelta(days=30))

    assert report.expired_events_removed == 2  # the two old, finished ones; the old pending one stays
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 2
        assert session.scalar(select(func.count()).select_from(DeliveryAttempt)) == 0
