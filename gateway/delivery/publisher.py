"""Publishing: committed outbox events get their feed position and one delivery per enabled endpoint that takes
their type (every type, but for TM Forum hubs, which name theirs; see takes_event_type).

Positions are handed out by one publisher at a time (PostgreSQL: a transaction-level advisory lock, which a
dispatcher that finds it taken does without — another one is publishing; SQLite: the write lock), in id order,
to rows that are already committed. A feed reader that has seen
position N therefore never later finds a new event below N, which ids alone cannot promise: a transaction
can take an id, then commit after a later one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, false, func, insert, literal, literal_column, or_, select, update
from sqlalchemy.orm import Session

from gateway.domain.delivery import DeliveryStatus, EndpointStatus
from gateway.domain.events import OPT_IN_EVENT_TYPES
from gateway.store.locks import TransactionLock
from gateway.store.models import Delivery, EndpointEventType, OutboxEvent, WebhookEndpoint
from gateway.store.types import UTCDateTime

ENABLED = EndpointStatus.ENABLED.value
PUBLISHING = TransactionLock(7_420_251)  # one publisher at a time (on PostgreSQL; SQLite has one writer anyway)


def takes_event_type(endpoint, event_type: ColumnElement[str] | str) -> ColumnElement[bool]:
    """Whether the endpoint (the webhook_endpoints table, or an alias) receives events of `event_type` (a column
    or a name): one that filters events (a TM Forum hub) the types of its endpoint_event_types rows only, any
    other every type but the opt-in ones (gateway.domain.events.OPT_IN_EVENT_TYPES). The one rule that the
    fan-out, a test event's list of endpoints and the recording of an opt-in event go by."""
    if not isinstance(event_type, ColumnElement):
        event_type = literal(str(event_type))
    named = exists().where(EndpointEventType.endpoint_id == endpoint.c.id, EndpointEventType.event_type == event_type)
    # The opt-in names written out, as the statement's own text: a plan that needs no bound values for them.
    opt_in = [literal_column(f"'{name}'") for name in sorted(OPT_IN_EVENT_TYPES)]
    return or_(and_(endpoint.c.filters_events == false(), event_type.not_in(opt_in)), named)


def hold_publishing(session: Session) -> None:
    """Wait until no publisher runs, and keep any from starting until the transaction ends."""
    PUBLISHING.hold(session)


def publish_events(session: Session, now: datetime, limit: int = 2000) -> int:
    """Publish up to `limit` unpublished events; the number published. Run inside a write transaction."""
    if not PUBLISHING.try_hold(session):
        return 0  # another dispatcher is publishing: waiting would chain this claim transaction behind its
    # The first `limit` unpublished ids, as their bounds: one row back, not thousands of ids.
    waiting = (
        select(OutboxEvent.id).where(OutboxEvent.position.is_(None)).order_by(OutboxEvent.id).limit(limit).subquery()
    )
    first, last = session.execute(select(func.min(waiting.c.id), func.max(waiting.c.id))).one()
    if first is None:
        return 0
    # Positions need to grow and be unique, not to be contiguous: the batch's rows get id + shift, which puts
    # them all above every position handed out so far, in id order, with one UPDATE. The batch is a range of
    # ids (not a list of them: binding thousands of values costs more than the statement): an event of that
    # range committed since the look-up is published with it, as it is above every position too.
    top = session.scalar(select(func.coalesce(func.max(OutboxEvent.position), 0)))
    shift = top - first + 1
    published = session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.position.is_(None), OutboxEvent.id.between(first, last))
        .values(position=OutboxEvent.id + shift),
        execution_options={"synchronize_session": False},
    ).rowcount
    # One delivery per enabled endpoint of the event's partner, written by the database in one statement. The
    # batch's events are looked up first, as the positions above `top` (a materialized CTE): joined directly,
    # PostgreSQL planning on a fresh table's statistics read all of the partner's events, by partner, for
    # every batch.
    event, endpoint = OutboxEvent.__table__, WebhookEndpoint.__table__
    batch = (
        select(event.c.id, event.c.partner_code, event.c.subscription_id, event.c.event_type, event.c.position)
        .where(event.c.position > top)
        .cte("batch")
        .prefix_with("MATERIALIZED")
    )
    fan_out = (
        select(
            batch.c.id,
            endpoint.c.id,
            batch.c.partner_code,
            batch.c.subscription_id,
            batch.c.position,
            batch.c.event_type,
            literal(DeliveryStatus.PENDING.value),
            literal(0),
            literal(now, UTCDateTime()),
            literal(now, UTCDateTime()),
        )
        .select_from(batch)
        .join(
            endpoint,
            (endpoint.c.partner_code == batch.c.partner_code)
            & (endpoint.c.status == EndpointStatus.ENABLED)
            & takes_event_type(endpoint, batch.c.event_type),
        )
    )
    columns = [
        "event_id",
        "endpoint_id",
        "partner_code",
        "subscription_id",
        "position",
        "event_type",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    ]
    session.execute(insert(Delivery.__table__).from_select(columns, fan_out))
    return published
