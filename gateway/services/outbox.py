"""Events for partners go into the outbox, inside the transaction of the change they report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from gateway.domain.ids import new_id
from gateway.store.models import OutboxEvent


def record_event(
    session: Session,
    *,
    partner_code: str,
    event_type: str,
    occurred_at: datetime,
    data: dict[str, Any],
    subscription: dict[str, str] | None = None,
    sequence: int | None = None,
    in_order_with_subscription: str | None = None,
) -> OutboxEvent:
    """Add one event; it leaves the process only when the dispatcher reads it after this transaction commits.

    `in_order_with_subscription`: an event that is not a change of the subscription (so carries no
    `subscription`/`sequence` envelope) but is about its subscriber, such as an escalation, is delivered in
    order with that subscription's events: the dispatcher orders deliveries by the row's subscription_id.
    """
    event_id = new_id("evt")
    payload: dict[str, Any] = {
        "id": event_id,
        "type": event_type,
        "occurred_at": occurred_at.isoformat(),
        "partner": partner_code,
    }
    if subscription is not None:
        payload["subscription"] = subscription
        payload["sequence"] = sequence
    payload["data"] = data
    event = OutboxEvent(
        event_id=event_id,
        partner_code=partner_code,
        subscription_id=subscription["id"] if subscription else in_order_with_subscription,
        sequence=sequence,
        event_type=event_type,
        payload=payload,
        created_at=occurred_at,
    )
    session.add(event)
    return event
