"""Claims: each subscriber's next pending delivery per endpoint, oldest first, whatever waits in front of it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from gateway.delivery.claims import claim_due_deliveries, endpoints_with_due_work
from gateway.delivery.publisher import publish_events
from gateway.domain.clock import utcnow
from gateway.domain.delivery import DeliveryStatus
from gateway.store.models import Delivery, OutboxEvent
from tests.support.delivery import partner_with_endpoint, record_events

LEASE = timedelta(minutes=5)


def _published(store, now) -> str:
    with store.transaction() as session:
        publish_events(session, now)
        [endpoint] = endpoints_with_due_work(session, now)
    return endpoint.endpoint_id


def _claim(store, endpoint_id, now, count, owner="dispatcher-1"):
    with store.transaction() as session:
        claimed = claim_due_deliveries(session, owner=owner, now=now, lease=LEASE, wanted={endpoint_id: count})
    return [(delivery.event_id, delivery.event_type) for delivery in claimed]


def _subscriber_of(store, event_ids) -> list[str]:
    with store.read() as session:
        found = dict(
            session.execute(
                select(OutboxEvent.event_id, OutboxEvent.subscription_id).where(OutboxEvent.event_id.in_(event_ids))
            ).all()
        )
    return [found[event_id] for event_id in event_ids]


def test_a_subscriber_with_a_long_queue_in_front_does_not_hide_the_others(store):
    now = utcnow()
    partner_with_endpoint(store, "nordlink", "http://127.0.0.1:9/hook")
    [chatty] = record_events(store, "nordlink", subscribers=1, changes_each=60, now=now, prefix="chatty")
    quiet = record_events(store, "nordlink", subscribers=8, changes_each=0, now=now, prefix="quiet")
    endpoint_id = _published(store, now)

    claimed = _claim(store, endpoint_id, now, count=5)

    # 61 of chatty's events come first; one is its next, then the quiet ones in the order they were recorded.
    assert _subscriber_of(store, [event_id for event_id, _ in claimed]) == [chatty, *quiet[:4]]
    assert [event_type for _, event_type in claimed] == ["subscription.activated"] * 5


def test_a_head_waiting_for_its_retry_holds_back_its_subscribers_later_events(store):
    now = utcnow()
    partner_with_endpoint(store, "nordlink", "http://127.0.0.1:9/hook")
    [held, free] = record_events(store, "nordlink", subscribers=2, changes_each=2, now=now)
    endpoint_id = _published(store, now)
    with store.transaction() as session:
        first = session.scalars(
            select(Delivery).where(Delivery.subscription_id == held).order_by(Delivery.position)
        ).first()
        first.attempts, first.next_attempt_at = 1, now + timedelta(minutes=5)  # failed once, retried later

    claimed = _claim(store, endpoint_id, now + timedelta(minutes=1), count=10)

    assert _subscriber_of(store, [event_id for event_id, _ in claimed]) == [free]


def test_leased_deliveries_are_not_claimed_again_and_hold_their_subscribers_next(store):
    now = utcnow()
    partner_with_endpoint(store, "nordlink", "http://127.0.0.1:9/hook")
    record_events(store, "nordlink", subscribers=3, changes_each=1, now=now)
    endpoint_id = _published(store, now)

    first = _claim(store, endpoint_id, now, count=10, owner="dispatcher-1")
    second = _claim(store, endpoint_id, now, count=10, owner="dispatcher-2")

    assert [event_type for _, event_type in first] == ["subscription.activated"] * 3
    assert second == [], "each subscriber's next is leased to dispatcher-1"


def test_a_replayed_older_delivery_goes_out_before_its_subscribers_pending_ones(store):
    now = utcnow()
    partner_with_endpoint(store, "nordlink", "http://127.0.0.1:9/hook")
    [subscriber] = record_events(store, "nordlink", subscribers=1, changes_each=2, now=now)
    endpoint_id = _published(store, now)
    with store.transaction() as session:
        [first, *_] = session.scalars(select(Delivery).order_by(Delivery.position)).all()
        first.status = DeliveryStatus.DELIVERED
    [(second_event, second_type)] = _claim(store, endpoint_id, now, count=10)
    assert second_type == "subscription.suspended"
    with store.transaction() as session:  # the second is refused for good; the first is replayed
        session.execute(update(Delivery).where(Delivery.lease_owner.is_not(None)).values(status=DeliveryStatus.DEAD))
        session.execute(update(Delivery).where(Delivery.id == first.id).values(status=DeliveryStatus.PENDING))

    later = now + LEASE + timedelta(seconds=1)
    assert [event_type for _, event_type in _claim(store, endpoint_id, later, count=10)] == ["subscription.activated"]
    assert _subscriber_of(store, [second_event]) == [subscriber]


def test_a_claim_beside_another_in_progress_chooses_past_the_deliveries_that_one_holds(database, store):
    """Two dispatchers claiming at the same moment choose the same first deliveries; the second finds them
    locked and takes the next ones instead of coming away with nothing."""
    if database.backend != "postgres":
        pytest.skip("SQLite has one writer at a time: two claims cannot overlap")
    now = utcnow()
    partner_with_endpoint(store, "nordlink", "http://127.0.0.1:9/hook")
    subscribers = record_events(store, "nordlink", subscribers=6, changes_each=1, now=now)
    endpoint_id = _published(store, now)

    with store.transaction() as first_session:
        first = claim_due_deliveries(first_session, owner="one", now=now, lease=LEASE, wanted={endpoint_id: 3})
        second = _claim(store, endpoint_id, now, count=3, owner="two")  # while the first has not committed

    assert _subscriber_of(store, [delivery.event_id for delivery in first]) == subscribers[:3]
    assert _subscriber_of(store, [event_id for event_id, _ in second]) == subscribers[3:]
