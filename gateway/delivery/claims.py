"""Claiming due deliveries under a lease, in order per subscriber, within each endpoint's health and rate.

A claim is a short write transaction: it picks due deliveries (PostgreSQL: FOR UPDATE SKIP LOCKED, so
dispatchers share the rows instead of queueing on them), and stamps them with the dispatcher's name and a
lease. The sending happens after the commit; a dispatcher that dies mid-send simply lets its lease run out,
and the rows are claimed again.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Text, and_, bindparam, cast, exists, func, literal_column, or_, select, update
from sqlalchemy.orm import Session

from gateway.domain.delivery import CircuitState, DeliveryStatus, EndpointStatus
from gateway.store.lists import list_parameter, one_of
from gateway.store.models import Delivery, OutboxEvent, Partner, WebhookEndpoint
from gateway.store.types import UTCDateTime


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs several times more, per claimed row
class ClaimedDelivery:
    delivery_id: int
    attempts: int  # made before this claim
    event_id: str
    event_type: str
    body: str
    event_created_at: datetime
    partner_code: str
    endpoint_id: str
    url: str
    secrets: Sequence[str]
    flavour: str


def _endpoint_can_send(now: datetime):
    """The endpoint is enabled, its circuit admits a send, its partner is not paused and has a send slot."""
    return and_(
        WebhookEndpoint.status == EndpointStatus.ENABLED,
        or_(WebhookEndpoint.circuit_state == CircuitState.CLOSED, WebhookEndpoint.circuit_retry_at <= now),
        Partner.deliveries_paused.is_(False),
        or_(Partner.next_send_at.is_(None), Partner.next_send_at <= now),  # a rate-limited partner's turn
    )


def has_status(status: DeliveryStatus):
    """Written out as the partial indexes of pending deliveries and of dead letters are (models.Delivery): with
    a bound value instead, a generic PostgreSQL plan could not use them."""
    return Delivery.status == literal_column(f"'{status.value}'")


def is_pending():
    return has_status(DeliveryStatus.PENDING)


def delivery_is_due(now):
    return and_(
        is_pending(),
        Delivery.next_attempt_at <= now,
        or_(Delivery.lease_until.is_(None), Delivery.lease_until <= now),
    )


def endpoint_flavour():
    """How the endpoint is spoken to: its own flavour (a TM Forum hub's `tmf`), else its partner's."""
    return func.coalesce(WebhookEndpoint.flavour, Partner.flavour)


@dataclass(frozen=True, slots=True)
class EndpointWithWork:
    endpoint_id: str
    flavour: str


def endpoints_with_due_work(session: Session, now: datetime) -> list[EndpointWithWork]:
    """The endpoints that could be sent a delivery now: one look-up per enabled endpoint in the index of its
    pending deliveries by when they are due, however many deliveries wait there or at other endpoints."""
    rows = session.connection().execute(_endpoints_with_due_work(), {"now": now}).all()
    return [EndpointWithWork(endpoint_id, flavour) for endpoint_id, flavour in rows]


@cache
def _endpoints_with_due_work():
    now = bindparam("now", type_=UTCDateTime())
    due_here = exists().where(Delivery.endpoint_id == WebhookEndpoint.id, delivery_is_due(now))
    return (
        select(WebhookEndpoint.id, endpoint_flavour())
        .join(Partner, Partner.code == WebhookEndpoint.partner_code)
        .where(_endpoint_can_send(now), due_here)
        .order_by(WebhookEndpoint.id)
    )


SCAN_FACTOR = 2  # pending deliveries read per delivery wanted, at first; pages then grow
MAX_CHOOSING_ROUNDS = 4  # a claim chooses again past deliveries another dispatcher locked, this many times at most


def _due_now(now):
    """Whether a pending delivery may be sent now, as a column the database computes (not a filter: see
    _next_in_order)."""
    return and_(Delivery.next_attempt_at <= now, or_(Delivery.lease_until.is_(None), Delivery.lease_until <= now))


@cache
def _pending_page():
    """One endpoint's pending deliveries after a position, in position order, due or not: a range of the index
    of each endpoint's pending deliveries. The statement is built once, its values bound."""
    return (
        select(
            Delivery.id,
            Delivery.subscription_id,
            Delivery.position,
            _due_now(bindparam("now", type_=UTCDateTime())).label("due"),
        )
        .where(
            Delivery.endpoint_id == bindparam("endpoint"),
            is_pending(),
            Delivery.position > bindparam("after"),
        )
        .order_by(Delivery.position)
        .limit(bindparam("count"))
    )


def _next_in_order(
    session: Session, endpoint_id: str, now: datetime, count: int, passed: set[int] = frozenset()
) -> list[int]:
    """Up to `count` of the endpoint's due deliveries, each its subscriber's first pending one (a delivery
    without a subscriber keeps no order), in the order of the events; those `passed` count as taken.

    The endpoint's pending deliveries are read in position order, so the first one met of each subscriber is
    its first pending one: taken if due, else (leased, or waiting for its retry) it holds the subscriber's later
    ones back. One index range a page, whatever PostgreSQL knows of the table: a correlated subquery asking
    "is an earlier one pending?", planned on a fresh or stale table's statistics, read the endpoint's whole
    backlog for each candidate (1.2 s a claim at 20,000 pending). Pages grow, so a subscriber with a long
    queue in front is passed in a few steps, and other subscribers' deliveries behind it are still found.
    """
    found: list[int] = []
    met: set[str] = set()
    after, size = 0, count * SCAN_FACTOR
    while len(found) < count:
        page = (
            session.connection()
            .execute(_pending_page(), {"endpoint": endpoint_id, "now": now, "after": after, "count": size})
            .all()
        )
        for delivery_id, subscriber, _, due in page:  # unpacked, not read by name: this loop sees every row read
            if subscriber is not None:
                if subscriber in met:
                    continue
                met.add(subscriber)
            if due and delivery_id not in passed:
                found.append(delivery_id)
        if len(page) < size:
            break
        after, size = page[-1][2], size * 2
    return found[:count]


def _lock_still_due(session: Session, ids: list[int], now: datetime) -> list[tuple]:
    """Of the chosen deliveries, those still due once locked (PostgreSQL: those another dispatcher holds are
    skipped), with their events, as (id, attempts, event_id, event_type, body, created_at). The rows are found
    by id alone and checked after, so that no plan can read the endpoint's backlog for them (with the checks
    in the statement, PostgreSQL scanned the due-deliveries index)."""
    locked = session.connection().execute(_locking_by_id(), {"ids": ids, "now": now})
    return [row[1:] for row in locked if row[0]]


@cache
def _locking_by_id():
    still_due = and_(Delivery.status == DeliveryStatus.PENDING, _due_now(bindparam("now", type_=UTCDateTime())))
    return (
        select(
            still_due.label("still_due"),
            Delivery.id,
            Delivery.attempts,
            OutboxEvent.event_id,
            OutboxEvent.event_type,
            cast(OutboxEvent.payload, Text).label("body"),
            OutboxEvent.created_at,
        )
        .join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
        .where(one_of(Delivery.id, list_parameter("ids", Delivery.id)))
        .order_by(Delivery.position)
        .with_for_update(of=Delivery, skip_locked=True)
    )


@dataclass(frozen=True, slots=True)
class _Sendable:
    """What every delivery to the endpoint is sent with."""

    id: str
    partner_code: str
    circuit_state: str
    url: str
    secrets: Sequence[str]
    flavour: str


def _sendable_endpoint(session: Session, endpoint_id: str, now: datetime) -> _Sendable | None:
    """The endpoint as its deliveries are sent now, if it can be sent to now; else None."""
    row = session.execute(
        select(
            WebhookEndpoint.partner_code,
            WebhookEndpoint.circuit_state,
            WebhookEndpoint.url,
            WebhookEndpoint.secret,
            WebhookEndpoint.previous_secret,
            WebhookEndpoint.previous_secret_expires_at,
            endpoint_flavour().label("flavour"),
        )
        .join(Partner, Partner.code == WebhookEndpoint.partner_code)
        .where(WebhookEndpoint.id == endpoint_id, _endpoint_can_send(now))
    ).first()
    if row is None:
        return None
    secrets = signing_secrets(row.secret, row.previous_secret, row.previous_secret_expires_at, now)
    return _Sendable(endpoint_id, row.partner_code, row.circuit_state, row.url, secrets, row.flavour)


def claim_due_deliveries(
    session: Session,
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    wanted: Mapping[str, int],
) -> list[ClaimedDelivery]:
    """Lease to `owner` up to wanted[endpoint] of each endpoint's due deliveries, each the next of its
    subscriber's, in the order of the events. Run inside a write transaction.

    Each endpoint is read on its own, so one endpoint's backlog never hides another endpoint's work.
    """
    rows: list[ClaimedDelivery] = []
    endpoints: dict[str, _Sendable] = {}
    for endpoint_id, count in wanted.items():
        endpoint = _sendable_endpoint(session, endpoint_id, now) if count > 0 else None
        if endpoint:
            endpoints[endpoint_id] = endpoint
            rows += [_claimed(row, endpoint) for row in _lock_next_in_order(session, endpoint_id, now, count)]
    rows = _one_probe_per_open_circuit(session, rows, endpoints, now, lease)
    rows = _within_partner_rates(session, rows, now)
    if rows:
        session.execute(
            update(Delivery)
            .where(one_of(Delivery.id, [row.delivery_id for row in rows]))
            .values(lease_owner=owner, lease_until=now + lease),
            execution_options={"synchronize_session": False},
        )
    return rows


def _lock_next_in_order(session: Session, endpoint_id: str, now: datetime, count: int) -> list:
    """Up to `count` of the endpoint's next deliveries in order, locked, with their events.

    Two dispatchers claiming at once choose the same first deliveries, and one of them finds them locked by
    the other: it chooses again past them (their subscribers are the other's now), rather than coming away
    with nothing and leaving the endpoint alone until it next looks for work.
    """
    locked, chosen = [], set()
    for _ in range(MAX_CHOOSING_ROUNDS):
        ids = _next_in_order(session, endpoint_id, now, count - len(locked), passed=chosen)
        if not ids:
            break
        got = _lock_still_due(session, ids, now)
        locked += got
        chosen.update(ids)
        if len(got) == len(ids):
            break
    return locked


def _claimed(row: tuple, endpoint: _Sendable) -> ClaimedDelivery:
    delivery_id, attempts, event_id, event_type, body, event_created_at = row
    return ClaimedDelivery(
        delivery_id=delivery_id,
        attempts=attempts,
        event_id=event_id,
        event_type=event_type,
        body=body,  # the event exactly as stored at commit, not parsed and written out again
        event_created_at=event_created_at,
        partner_code=endpoint.partner_code,
        endpoint_id=endpoint.id,
        url=endpoint.url,
        secrets=endpoint.secrets,
        flavour=endpoint.flavour,
    )


def signing_secrets(
    current: str, previous: str | None, previous_expires_at: datetime | None, now: datetime
) -> list[str]:
    """The secrets that sign now: the current one, and the previous one while a rotation's overlap lasts."""
    if previous and previous_expires_at is not None and previous_expires_at > now:
        return [current, previous]
    return [current]


def _one_probe_per_open_circuit(
    session: Session, rows: list[ClaimedDelivery], endpoints: Mapping[str, _Sendable], now: datetime, lease: timedelta
) -> list[ClaimedDelivery]:
    """An endpoint whose circuit is open gets one delivery, the probe, and only from the dispatcher that
    moves the circuit to half-open (a conditional update: when two try, one wins)."""
    kept, probing = [], {}
    for row in rows:
        if endpoints[row.endpoint_id].circuit_state == CircuitState.CLOSED:
            kept.append(row)
            continue
        if row.endpoint_id not in probing:
            won = session.execute(
                update(WebhookEndpoint)
                .where(
                    WebhookEndpoint.id == row.endpoint_id,
                    WebhookEndpoint.circuit_state != CircuitState.CLOSED,
                    WebhookEndpoint.circuit_retry_at <= now,
                )
                .values(circuit_state=CircuitState.HALF_OPEN, circuit_retry_at=now + lease),
                execution_options={"synchronize_session": False},
            ).rowcount
            probing[row.endpoint_id] = bool(won)
            if won:
                kept.append(row)
    return kept


def _within_partner_rates(session: Session, rows: list[ClaimedDelivery], now: datetime) -> list[ClaimedDelivery]:
    """Rate-limited partners: each delivery sent takes the partner's next send slot, 1/rate apart, shared by
    every dispatcher through partners.next_send_at; only the deliveries whose slots have come are kept, the
    rest stay unclaimed for a later round."""
    by_partner = defaultdict(list)
    for row in rows:
        by_partner[row.partner_code].append(row)
    limited = {
        partner.code: partner
        for partner in session.scalars(
            select(Partner).where(Partner.code.in_(by_partner), Partner.delivery_rate.is_not(None)).with_for_update()
        )
    }
    if not limited:
        return rows
    kept = []
    for code, partner_rows in by_partner.items():
        partner = limited.get(code)
        if partner is None:
            kept.extend(partner_rows)
            continue
        rate = partner.delivery_rate
        # Slots not used during a quiet spell are saved up for at most one second (a burst of rate + 1).
        slot = max(now - timedelta(seconds=1), partner.next_send_at or now)
        if slot > now:
            continue
        count = min(len(partner_rows), math.floor((now - slot).total_seconds() * rate) + 1)
        kept.extend(partner_rows[:count])
        partner.next_send_at = slot + timedelta(seconds=count / rate)
    return kept
