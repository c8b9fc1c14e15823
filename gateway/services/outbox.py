"""Events for partners go into the outbox, inside the transaction of the change they report.

One row shape for every writer (`outbox_row`, whose payload is the domain's envelope): `record_event` adds one
event, `record_events` a batch of them (a campaign's chunk) in one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from gateway.domain.events import envelope
from gateway.domain.ids import new_id
from gateway.store.models import OutboxEvent


def outbox_row(
    *,
    partner_code: str,
    event_type: str,
    occurred_at: datetime,
    data: dict[str, Any],
    subscription: dict[str, str] | None = None,
    sequence: int | None = None,
    in_order_with_subscription: str | None = None,
) -> dict[str, Any]:
    """One event as an outbox row (column -> value), the event itself as its payload.

    `in_order_with_subscription`: an event that is not a change of the subscription (so carries no
    `subscription`/`sequence` envelope) but is about its subscriber, such as an escalation, is delivered in
    order with that subscription's events: the dispatcher orders deliveries by the row's subscription_id.
    """
    event_id = new_id("evt")
    payload = envelope(
        event_id=event_id,
        event_type=event_type,
        occurred_at=occurred_at,
        partner_code=partner_code,
        data=data,
        subscription=subscription,
        sequence=sequence,
    )
    return {
        "event_id": event_id,
        "partner_code": partner_code,
        "subscription_id": subscription["id"] if subscription else in_order_with_subscription,
        "sequence": sequence,
        "event_type": event_type,
        "payload": payload,
        "created_at": occurred_at,
    }


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
    """Add one event (see `outbox_row`); it leaves the process only when the dispatcher reads it after this
    transaction commits.

    Added through the session, not inserted at once as `record_events` does: the caller gets the row back, and
    the session writes it after the rows it may refer to (a partner created in the same transaction).
    """
    event = OutboxEvent(
        **outbox_row(
            partner_code=partner_code,
            event_type=event_type,
            occurred_at=occurred_at,
            data=data,
            subscription=subscription,
            sequence=sequence,
            in_order_with_subscription=in_order_with_subscription,
        )
    )
    session.add(event)
    return event


def record_events(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many events at once (rows from `outbox_row`): one executemany on the table, as Core, because the
    ORM's bulk forms would track every row, and a campaign writes tens of thousands."""
    if rows:
        session.execute(insert(OutboxEvent.__table__), rows)
