"""Recording what sends came to: every attempt, each delivery's next state, each endpoint's health.

One write transaction per group of sends. A delivery is only moved on while its lease is still the
dispatcher's own; the attempts themselves are recorded in any case (they happened).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from gateway.delivery.claims import ClaimedDelivery
from gateway.domain.delivery import (
    CircuitPolicy,
    CircuitState,
    DeliveryStatus,
    EndpointHealth,
    EndpointStatus,
    Outcome,
    RetryPolicy,
    classify_status,
    parse_retry_after,
)
from gateway.domain.ids import new_id
from gateway.store.lists import insert_rows, list_parameter, one_of
from gateway.store.models import Delivery, DeliveryAttempt, OperatorEvent, WebhookEndpoint
from partners.base import Attempt, EventResult

ERROR_LIMIT = 500  # characters of last_error kept on the delivery


@dataclass(frozen=True)
class Send:
    """One request to one endpoint: the deliveries it carried and what each came to."""

    endpoint_id: str
    deliveries: Sequence[ClaimedDelivery]
    results: Sequence[EventResult]


def attempt_outcome(attempt: Attempt) -> Outcome:
    return Outcome.RETRY if attempt.status is None else classify_status(attempt.status)


def _describe(attempt: Attempt, status: int | None, detail: str | None) -> str:
    if status is None:
        return f"{attempt.error_class} after {attempt.duration_ms:.0f} ms"
    text = f"HTTP {status}"
    if detail or attempt.excerpt:
        text += f": {detail or attempt.excerpt}"
    return text[:ERROR_LIMIT]


def record_sends(
    session: Session,
    sends: Sequence[Send],
    *,
    owner: str,
    now: datetime,
    retry: RetryPolicy,
    circuit: CircuitPolicy,
    rng: random.Random,
) -> dict[Outcome, int]:
    """Write the attempts and the deliveries' and endpoints' new states; the count of deliveries per outcome."""
    attempt_rows, delivery_rows, counts = [], [], dict.fromkeys(Outcome, 0)
    for send in sends:
        shared = []  # deliveries of a batch whose result is the request's own: their attempts are alike
        for delivery, result in zip(send.deliveries, send.results, strict=True):
            if len(send.deliveries) > 1 and result.status is None:
                shared.append(delivery.delivery_id)
            else:
                attempt_rows.extend(
                    _attempt_row(delivery.delivery_id, attempt, result, owner) for attempt in result.attempts
                )
            outcome = Outcome.RETRY if result.http_status is None else classify_status(result.http_status)
            counts[outcome] += 1
            delivery_rows.append(_next_state(delivery, result, outcome, now, retry, rng))
        if shared:
            for attempt in send.results[0].attempts:
                _insert_alike_attempts(session, shared, _attempt_row(None, attempt, send.results[0], owner))
    insert_rows(session.connection(), DeliveryAttempt.__table__, attempt_rows)
    delivered = [row["delivery_id"] for row in delivery_rows if row["new_status"] == DeliveryStatus.DELIVERED]
    others = [row for row in delivery_rows if row["new_status"] != DeliveryStatus.DELIVERED]
    table = Delivery.__table__
    if delivered:  # the common case, as one statement
        session.connection().execute(
            update(table)
            .where(one_of(table.c.id, delivered), table.c.lease_owner == owner)
            .values(
                status=DeliveryStatus.DELIVERED,
                attempts=table.c.attempts + 1,
                finished_at=now,
                last_error=None,
                lease_owner=None,
                lease_until=None,
            )
        )
    if others:
        session.connection().execute(
            update(table)
            .where(table.c.id == bindparam("delivery_id"), table.c.lease_owner == owner)
            .values(
                status=bindparam("new_status"),
                attempts=bindparam("new_attempts"),
                next_attempt_at=bindparam("new_next_attempt_at"),
                finished_at=bindparam("new_finished_at"),
                last_error=bindparam("new_last_error"),
                lease_owner=None,
                lease_until=None,
            ),
            others,
        )
    _update_endpoint_health(session, sends, now, circuit)
    return counts


def _attempt_row(delivery_id: int | None, attempt: Attempt, result: EventResult, owner: str) -> dict:
    status = attempt.status if result.status is None or attempt is not result.attempt else result.status
    return {
        "delivery_id": delivery_id,
        "attempted_at": attempt.started_at,
        "duration_ms": round(attempt.duration_ms, 2),
        "http_status": status,
        "error_class": attempt.error_class,
        "response_excerpt": result.detail if result.detail and attempt is result.attempt else attempt.excerpt,
        "outcome": Outcome.RETRY if status is None else classify_status(status),
        "dispatcher": owner,
    }


def _insert_alike_attempts(session: Session, delivery_ids: list[int], row: dict) -> None:
    """One attempt row per delivery of a batch, all alike but for the delivery: written by one statement."""
    values = {name: value for name, value in row.items() if name != "delivery_id"}
    session.connection().execute(_alike_attempts(), {**values, "delivery_ids": delivery_ids})


@cache
def _alike_attempts():
    """INSERT ... SELECT of one attempt per listed delivery, built once; the attempt's columns bound by name."""
    table, delivery = DeliveryAttempt.__table__, Delivery.__table__
    names = [column.name for column in table.columns if column.name not in ("id", "delivery_id")]
    source = select(delivery.c.id, *(bindparam(name, type_=table.c[name].type) for name in names)).where(
        one_of(delivery.c.id, list_parameter("delivery_ids", delivery.c.id))
    )
    return insert(table).from_select(["delivery_id", *names], source)


def _next_state(
    delivery: ClaimedDelivery, result: EventResult, outcome: Outcome, now: datetime, retry: RetryPolicy, rng
) -> dict:
    rounds = delivery.attempts + 1
    state = {
        "delivery_id": delivery.delivery_id,
        "new_status": DeliveryStatus.PENDING,
        "new_attempts": rounds,
        "new_next_attempt_at": now,
        "new_finished_at": None,
        "new_last_error": None,
    }
    if outcome == Outcome.DELIVERED:
        state.update(new_status=DeliveryStatus.DELIVERED, new_finished_at=now)
        return state
    state["new_last_error"] = _describe(result.attempt, result.http_status, result.detail)
    if outcome == Outcome.FAILED:
        state.update(new_status=DeliveryStatus.DEAD, new_finished_at=now)
    elif outcome == Outcome.RETRY:
        retry_after = parse_retry_after(result.attempt.retry_after, now)
        next_at = retry.next_attempt_at(rounds, now, rng, retry_after)
        if next_at is None:
            state.update(new_status=DeliveryStatus.DEAD, new_finished_at=now)
            state["new_last_error"] = f"Retries exhausted after {rounds} attempts; last: {state['new_last_error']}"
        else:
            state["new_next_attempt_at"] = next_at
    # GONE: the delivery waits, pending, for its endpoint to be enabled again (it is disabled below).
    return state


def _update_endpoint_health(session: Session, sends: Sequence[Send], now: datetime, policy: CircuitPolicy) -> None:
    endpoint_ids = {send.endpoint_id for send in sends} - _healthy_and_answering(session, sends)
    if not endpoint_ids:
        return
    endpoints = {
        endpoint.id: endpoint
        for endpoint in session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.id.in_(endpoint_ids)).with_for_update()
        )
    }
    for send in sends:
        endpoint = endpoints.get(send.endpoint_id)
        if endpoint is None or endpoint.status != EndpointStatus.ENABLED:
            continue
        outcome = attempt_outcome(send.results[0].attempt)  # the request's own outcome, not a batch event's
        health = EndpointHealth(
            endpoint.circuit_state, endpoint.consecutive_failures, endpoint.circuit_retry_at, endpoint.failing_since
        )
        if outcome == Outcome.GONE:
            disable_endpoint(session, endpoint, now, "The endpoint answered 410 Gone.")
            continue
        # A refusal (other 4xx) is the partner answering: the endpoint is up, only that event is refused.
        health = health.after_failure(now, policy) if outcome == Outcome.RETRY else health.after_success()
        endpoint.circuit_state = health.state
        endpoint.consecutive_failures = health.consecutive_failures
        endpoint.circuit_retry_at = health.retry_at
        endpoint.failing_since = health.failing_since
        if health.should_disable(now, policy):
            disable_endpoint(session, endpoint, now, f"Every delivery failed since {health.failing_since.isoformat()}.")


def _healthy_and_answering(session: Session, sends: Sequence[Send]) -> set[str]:
    """The endpoints that were healthy and answered every send here: their health stays as it is, so their rows
    are neither locked nor written (two dispatchers sending to one endpoint would otherwise take turns on its
    row for the rest of their transactions)."""
    failed = {send.endpoint_id for send in sends if attempt_outcome(send.results[0].attempt) in _UNHEALTHY}
    answering = {send.endpoint_id for send in sends} - failed
    if not answering:
        return set()
    return set(
        session.scalars(
            select(WebhookEndpoint.id).where(
                WebhookEndpoint.id.in_(answering),
                WebhookEndpoint.circuit_state == CircuitState.CLOSED,
                WebhookEndpoint.consecutive_failures == 0,
                WebhookEndpoint.failing_since.is_(None),
            )
        )
    )


_UNHEALTHY = (Outcome.RETRY, Outcome.GONE)


def disable_endpoint(session: Session, endpoint: WebhookEndpoint, now: datetime, reason: str) -> None:
    """Stop delivering to an endpoint (its deliveries wait) and tell the operators."""
    endpoint.status = EndpointStatus.DISABLED
    endpoint.disabled_reason = reason
    raise_operator_event(
        session,
        kind="endpoint.disabled",
        partner_code=endpoint.partner_code,
        endpoint_id=endpoint.id,
        detail=f"Webhook endpoint {endpoint.url} was disabled: {reason}",
        now=now,
    )


def raise_operator_event(
    session: Session, *, kind: str, partner_code: str | None, endpoint_id: str | None, detail: str, now: datetime
) -> OperatorEvent:
    event = OperatorEvent(
        id=new_id("op"), kind=kind, partner_code=partner_code, endpoint_id=endpoint_id, detail=detail, created_at=now
    )
    session.add(event)
    return event
