"""Delivery use cases for operators and partners: list and inspect deliveries, replay, pause, test, the feed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import Session

from gateway.delivery.publisher import takes_event_type
from gateway.delivery.rendering import event_as_sent
from gateway.domain.delivery import DeliveryStatus, EndpointStatus
from gateway.domain.errors import Conflict, InvalidInput, NotFound
from gateway.domain.events import EventType
from gateway.services.outbox import record_event
from gateway.services.partners import deleted_endpoint_reason, get_partner
from gateway.store.models import Delivery, DeliveryAttempt, OperatorEvent, OutboxEvent, Partner, WebhookEndpoint

TEST_EVENT = EventType.GATEWAY_TEST


@dataclass(frozen=True)
class DeliveryFilter:
    partner_code: str | None = None
    status: str | None = None
    event_type: str | None = None
    since: datetime | None = None  # created at or after
    until: datetime | None = None  # created before

    def conditions(self) -> list:
        found = []
        if self.partner_code is not None:
            found.append(Delivery.partner_code == self.partner_code)
        if self.status is not None:
            found.append(Delivery.status == self.status)
        if self.event_type is not None:
            found.append(Delivery.event_type == self.event_type)
        if self.since is not None:
            found.append(Delivery.created_at >= self.since)
        if self.until is not None:
            found.append(Delivery.created_at < self.until)
        return found


def list_deliveries(session: Session, matching: DeliveryFilter, *, after: int, limit: int) -> list[Delivery]:
    """Deliveries in the order they were published, after the id `after`."""
    query = select(Delivery).where(Delivery.id > after, *matching.conditions()).order_by(Delivery.id).limit(limit)
    return list(session.scalars(query))


def get_delivery(session: Session, delivery_id: int, *, partner_code: str | None = None) -> Delivery:
    """One delivery; with `partner_code`, another partner's delivery is reported as missing."""
    if not 0 < delivery_id < 2**63:  # beyond any stored id (and beyond what the databases' integers hold)
        raise NotFound("delivery", str(delivery_id))
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or (partner_code is not None and delivery.partner_code != partner_code):
        raise NotFound("delivery", str(delivery_id))
    return delivery


def event_sent(session: Session, delivery: Delivery, *, gateway_url: str) -> Mapping[str, Any]:
    """The delivery's event as it is sent to its endpoint: as stored, or a TM Forum hub's as its TMF event."""
    flavour = session.scalar(
        select(func.coalesce(WebhookEndpoint.flavour, Partner.flavour))
        .join(Partner, Partner.code == WebhookEndpoint.partner_code)
        .where(WebhookEndpoint.id == delivery.endpoint_id)
    )
    return event_as_sent(delivery.event.payload, flavour=flavour, gateway_url=gateway_url)


def attempts_of(session: Session, delivery_id: int) -> list[DeliveryAttempt]:
    query = select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id).order_by(DeliveryAttempt.id)
    return list(session.scalars(query))


def _replayed_values(now: datetime) -> dict:
    # A fresh schedule from now; the event keeps its webhook-id, so a partner that has it can drop it.
    return {"status": DeliveryStatus.PENDING, "attempts": 0, "next_attempt_at": now, "finished_at": None}


def _to_deleted_endpoint():
    """The delivery's endpoint was deleted: its deliveries are history, never sent again."""
    return exists().where(WebhookEndpoint.id == Delivery.endpoint_id, WebhookEndpoint.status == EndpointStatus.DELETED)


def replay_delivery(session: Session, delivery_id: int, *, now: datetime, partner_code: str | None = None) -> Delivery:
    """Send a delivery again: a dead letter gets a new schedule, a delivered event goes out once more. Refused
    (Conflict) for a delivery to an endpoint that was deleted: there is nowhere to send it."""
    delivery = get_delivery(session, delivery_id, partner_code=partner_code)
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint.status == EndpointStatus.DELETED:
        raise Conflict(
            f"{deleted_endpoint_reason(endpoint.deleted_at)} Its deliveries are kept as a record and cannot be "
            "sent again; the event itself stays in the partner's event feed (GET /v1/events)."
        )
    for name, value in _replayed_values(now).items():
        setattr(delivery, name, value)
    return delivery


def replay_matching(session: Session, matching: DeliveryFilter, *, now: datetime) -> int:
    """Replay every delivery the filter matches (say, a partner's dead letters since T), but those to deleted
    endpoints (there is nowhere to send them); how many."""
    if matching.status == DeliveryStatus.PENDING:
        raise InvalidInput({"status": "Pending deliveries are already on their way; replay dead or delivered ones."})
    result = session.execute(
        update(Delivery)
        .where(Delivery.status != DeliveryStatus.PENDING, ~_to_deleted_endpoint(), *matching.conditions())
        .values(**_replayed_values(now)),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0


def set_deliveries_paused(session: Session, partner_code: str, paused: bool):
    """Hold (or release) every delivery to a partner; events keep being recorded and published meanwhile."""
    partner = get_partner(session, partner_code)
    partner.deliveries_paused = paused
    return partner


@dataclass(frozen=True)
class SentTestEvent:
    """A recorded `gateway.test` event and the endpoints it is on its way to (those enabled when it was recorded;
    the dispatcher fans it out once it is published)."""

    event_id: str
    event_type: str
    endpoint_ids: list[str]


def send_test_event(session: Session, partner_code: str, *, now: datetime) -> SentTestEvent:
    """A `gateway.test` event through the whole path: outbox, dispatcher, the partner's endpoints, and its feed."""
    get_partner(session, partner_code)
    event = record_event(
        session,
        partner_code=partner_code,
        event_type=TEST_EVENT,
        occurred_at=now,
        data={"message": "A test event from the partner gateway. No action is needed."},
    )
    session.flush()
    endpoint = WebhookEndpoint.__table__
    enabled = select(endpoint.c.id).where(
        endpoint.c.partner_code == partner_code,
        endpoint.c.status == EndpointStatus.ENABLED,
        takes_event_type(endpoint, TEST_EVENT),  # not a TM Forum hub: a test has no TMF form
    )
    return SentTestEvent(event.event_id, event.event_type, list(session.scalars(enabled.order_by(endpoint.c.id))))


def list_feed(
    session: Session, partner_code: str, *, after: int, limit: int, event_type: str | None = None
) -> list[OutboxEvent]:
    """A partner's published events after feed position `after`, in order."""
    query = select(OutboxEvent).where(
        OutboxEvent.partner_code == partner_code, OutboxEvent.position.is_not(None), OutboxEvent.position > after
    )
    if event_type is not None:
        query = query.where(OutboxEvent.event_type == event_type)
    return list(session.scalars(query.order_by(OutboxEvent.position).limit(limit)))


def list_operator_events(session: Session, *, since: datetime | None, limit: int) -> list[OperatorEvent]:
    """The newest operator events first, those at or after `since` when given."""
    query = select(OperatorEvent).order_by(OperatorEvent.created_at.desc(), OperatorEvent.id).limit(limit)
    if since is not None:
        query = query.where(OperatorEvent.created_at >= since)
    return list(session.scalars(query))


def remove_expired_events(session: Session, *, now: datetime, retention: timedelta) -> int:
    """Events older than the feed's retention whose deliveries are all finished, with their deliveries and
    attempts; the number removed. Events still on their way are kept, however old."""
    expired = select(OutboxEvent.id).where(
        OutboxEvent.position.is_not(None),
        OutboxEvent.created_at < now - retention,
        ~exists().where(Delivery.event_id == OutboxEvent.id, Delivery.status == DeliveryStatus.PENDING),
    )
    ids = list(session.scalars(expired.limit(10_000)))
    if not ids:
        return 0
    deliveries = select(Delivery.id).where(Delivery.event_id.in_(ids))
    session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(deliveries)))
    session.execute(delete(Delivery).where(Delivery.event_id.in_(ids)))
    session.execute(delete(OutboxEvent).where(OutboxEvent.id.in_(ids)))
    return len(ids)
