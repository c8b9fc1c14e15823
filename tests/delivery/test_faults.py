"""Fault receivers on loopback: 500s, 429 with Retry-After, slow answers, resets, 410, refusals; retry
timing with an injected clock (no sleeping for the schedule)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from gateway.delivery.claims import claim_due_deliveries, endpoints_with_due_work
from gateway.delivery.publisher import publish_events
from gateway.domain.clock import utcnow
from gateway.domain.delivery import CircuitPolicy, CircuitState, DeliveryStatus, EndpointStatus, RetryPolicy
from gateway.services import deliveries as delivery_service
from gateway.services import partners as partner_service
from gateway.store.models import Delivery, DeliveryAttempt, OperatorEvent, Partner, WebhookEndpoint
from tests.support.delivery import IMMEDIATE_RETRY, STOP, Clock, dispatcher, partner_with_endpoint, record_events
from tests.support.receivers import Answer, Receiver, always


def _deliveries(store) -> list[Delivery]:
    with store.read() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def _attempts(store) -> list[DeliveryAttempt]:
    with store.read() as session:
        return list(session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)))


def _endpoint(store) -> WebhookEndpoint:
    with store.read() as session:
        return session.scalars(select(WebhookEndpoint)).one()


def test_a_500_is_retried_on_the_schedule(store):
    clock = Clock(utcnow())
    with Receiver(always(Answer(500))) as receiver:
        partner_with_endpoint(store, "nordlink", receiver.url)
        record_events(store, "nordlink", subscribers=1, changes_each=0)
        run = dispatcher(store, clock=clock)
        run.run_once()
        [delivery] = _deliveries(store)
        wait = delivery.next_attempt_at - clock.now
        assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
        assert timedelta(seconds=4) <= wait <= timedelta(seconds=6)  # 5 s +-20%

        clock.advance(seconds=3)
        assert not any(run.run_once().values()), "not due yet"
        clock.advance(seconds=4)
        run.run_once()
        [delivery] = _deliveries(store)
        wait = delivery.next_attempt_at - clock.now
        assert delivery.attempts == 2 and timedelta(minutes=4) <= wait <= timedelta(minutes=6)
    assert len(receiver.events()) == 2
    assert [attempt.http_status for attempt in _attempts(store)] == [500, 500]


def test_429_with_retry_after_waits_as_long_as_asked(store):
    clock = Clock(utcnow())
    with Receiver(always(Answer(429, headers={"Retry-After": "600"}))) as receiver:
        partner_with_endpoint(store, "nordlink", receiver.url)
        record_events(store, "nordlink", subscribers=1, changes_each=0)
        dispatcher(store, clock=clock).run_once()
    [delivery] = _deliveries(store)
    assert delivery.next_attempt_at - clock.now == timedelta(seconds=600)
    assert _attempts(store)[0].outcome == "retry"


def test_an_answer_slower_than_the_deadline_is_cut_off_there_and_retried(store):
    with Receiver(always(Answer(204, delay=1.5))) as receiver:
        partner_with_endpoint(store, "nordlink", receiver.url)
        record_events(store, "nordlink", subscribers=1, changes_each=0)
        dispatcher(store, timeout=0.3).run_once()
    [attempt] = _attempts(store)
    assert attempt.error_class == "DeadlineExceeded" and attempt.http_status is None and attempt.outcome == "retry"
    assert 250 <= attempt.duration_ms < 800
    assert _deliveries(store)[0].status == DeliveryStatus.PENDING


def test_a_reset_connection_is_retried_at_once_then_on_the_schedule(store):
    with Receiver(always(Answer(reset=True))) as receiver:
        partner_with_endpoint(store, "nordlink", receiver.url)
        record_events(store, "nordlink", subscribers=1, changes_each=0)
        dispatcher(store).run_once()
    attempts = _attempts(store)
    assert len(attempts) == 3 == len(receiver.events())
    assert {attempt.error_class for attempt in attempts} == {"ConnectionError"}
    [delivery] = _deliveries(store)
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert "ConnectionError" in delivery.last_error


def test_410_disables_the_endpoint_and_tells_the_operators_and_nothing_is_lost(store):
    answers = {"gone": True}
    with Receiver(lambda *_: Answer(410) if answers["gone"] else Answer(204)) as receiver:
        partner_with_endpoint(store, "nordlink", receiver.url)
        record_events(store, "nordlink", subscribers=2, changes_each=1)
        run = dispatcher(store)
        run.run(STOP, until_idle=True)
        endpoint = _endpoint(store)
        assert endpoint.status == EndpointStatus.DISABLED and "410" in endpoint.disabled_reason
        assert len(receiver.events()) == 2, "nothing more is sent to a disabled endpoint"
        with store.read() as session:
            [alert] = session.scalars(select(OperatorEvent)).all()
        assert alert.kind == "endpoint.disabled" and alert.endpoint_id == endpoint.id
        assert {d.status for d in _deliveries(store)} == {DeliveryStatus.PENDING}

        answers["gone"] = False
        with store.transaction() as session:
            partner_service.enable_endpoint(session, endpoint.id)
        run.run(STOP, until_idle=True)
    assert {d.status for d in _deliveries(store)} == {DeliveryStatus.DELIVERED}


def test_a_refusal_is_a_dead_letter_at_once_and_a_replay_sends_it_again(store):
    answers = {"status": 422}
    with Receiver(lambda *_: Answer(answers["status"], b'{"error": "unknown subscription"}')) as receiver:
        partner_with_endpoint(store, "nordlink", receiver.url)
        record_events(store, "nordlink", subscribers=1, changes_each=0)
        run = dispatcher(store)
        run.run(STOP, until_idle=True)
        [delivery] = _deliveries(store)
        assert delivery.status == DeliveryStatus.DEAD and "unknown subscription" in delivery.last_error
        assert _endpoint(store).circuit_state == CircuitState.CLOSED, "a refusal is not an outage"

        answers["status"] = 200
        with store.transaction() as session:
            replayed = delivery_service.replay_matching(
                session, delivery_service.DeliveryFilter(partner_code="nordlink", status="dead"), now=utcnow()
            )
        assert replayed == 1
        run.run(STOP, until_idle=True)
    [delivery] = _deliveries(store)
    assert delivery.status == DeliveryStatus.DELIVERED
    first, second = receiver.events()
    assert first.headers["webhook-id"] == second.headers["webhook-id"]


def test_an_exhausted_schedule_is_a_dead_letter(store):
    clock = Clock(utcnow())
    with Receiver(always(Answer(503))) as receiver:
        partner_with_endpoint(store, "nordlink", receiver.url)
        record_events(store, "nordlink", subscribers=1, changes_each=0)
        run = dispatcher(
            store,
            clock=clock,
            retry=RetryPolicy([timedelta(seconds=10), timedelta(seconds=20)], timedelta(minutes=1)),
            circuit=CircuitPolicy(100, timedelta(minutes=1), timedelta(days=5)),
        )
        for _ in range(3):
            run.run_once()
            clock.advance(seconds=30)
    [delivery] = _deliveries(store)
    assert delivery.status == DeliveryStatus.DEAD and delivery.attempts == 3
    assert delivery.last_error.startswith("Retries exhausted after 3 attempts")
    assert len(receiver.events()) == 3


def test_an_open_circuit_costs_one_probe_per_interval_not_a_request_per_event(store):
    clock = Clock(utcnow())
    with Receiver(always(Answer(503))) as receiver:
        partner_with_endpoint(store, "nordlink", receiver.url)
        record_events(store, "nordlink", subscribers=20, changes_each=0)
        run = dispatcher(
            store,
            clock=clock,
            retry=IMMEDIATE_RETRY,
            circuit=CircuitPolicy(3, timedelta(minutes=1), timedelta(days=5)),
        )
        run.run_once()
        opened = len(receiver.events())
        assert _endpoint(store).circuit_state == CircuitState.OPEN
        for _ in range(5):
            run.run_once()
        assert len(receiver.events()) == opened, "open: nothing is sent before the probe time"
        clock.advance(minutes=1)
        run.run_once()
        run.run_once()
        assert len(receiver.events()) == opened + 1, "one probe"
        assert _endpoint(store).circuit_state == CircuitState.OPEN


def test_an_endpoint_failing_for_days_is_disabled(store):
    clock = Clock(utcnow())
    with Receiver(always(Answer(500))) as receiver:
        partner_with_endpoint(store, "nordlink", receiver.url)
        record_events(store, "nordlink", subscribers=1, changes_each=0)
        run = dispatcher(
            store,
            clock=clock,
            retry=RetryPolicy([timedelta(hours=12)] * 20, timedelta(0), jitter=0),
            circuit=CircuitPolicy(3, timedelta(hours=1), timedelta(days=5)),
        )
        for _ in range(11):
            run.run_once()
            clock.advance(hours=12)
    endpoint = _endpoint(store)
    assert endpoint.status == EndpointStatus.DISABLED and "failed since" in endpoint.disabled_reason
    assert _deliveries(store)[0].status == DeliveryStatus.PENDING
    assert len(receiver.events()) == 11  # the disabling attempt came 5 days after the first failure


def test_a_paused_partner_gets_nothing_until_resumed(store):
    with Receiver() as receiver:
        partner_with_endpoint(store, "nordlink", receiver.url)
        with store.transaction() as session:
            delivery_service.set_deliveries_paused(session, "nordlink", True)
        record_events(store, "nordlink", subscribers=2, changes_each=0)
        run = dispatcher(store)
        run.run(STOP, until_idle=True)
        assert receiver.events() == []
        with store.transaction() as session:
            delivery_service.set_deliveries_paused(session, "nordlink", False)
        run.run(STOP, until_idle=True)
    assert len(receiver.events()) == 2


def test_a_partner_rate_spaces_the_sends(store):
    clock = Clock(utcnow())
    with Receiver() as receiver:
        partner_with_endpoint(store, "nordlink", receiver.url)
        with store.transaction() as session:
            session.get(Partner, "nordlink").delivery_rate = 2.0  # events per second
        record_events(store, "nordlink", subscribers=9, changes_each=0)
        run = dispatcher(store, clock=clock)
        sent = []
        for _ in range(4):
            run.run_once()
            run.run_once()  # a second round at the same instant: the next slot has not come
            sent.append(len(receiver.events()))
            clock.advance(seconds=0.5)
        clock.advance(seconds=10)  # a quiet spell saves up one second of sends at most: 1 + 2 now
        run.run_once()
        sent.append(len(receiver.events()))
    assert sent == [1, 2, 3, 4, 7]


def test_a_lease_that_runs_out_is_claimed_again(store):
    """A dispatcher that claimed and then died: once the lease ends, another one delivers."""
    clock = Clock(utcnow())
    with Receiver() as receiver:
        partner_with_endpoint(store, "nordlink", receiver.url)
        record_events(store, "nordlink", subscribers=3, changes_each=0)
        with store.transaction() as session:
            publish_events(session, clock.now)
            [endpoint] = endpoints_with_due_work(session, clock.now)
            claimed = claim_due_deliveries(
                session,
                owner="dead-dispatcher",
                now=clock.now,
                lease=timedelta(minutes=5),
                wanted={endpoint.endpoint_id: 10},
            )
        assert len(claimed) == 3
        survivor = dispatcher(store, clock=clock, name="survivor")
        survivor.run_once()
        assert receiver.events() == [], "leased to the dead dispatcher"
        clock.advance(minutes=5, seconds=1)
        survivor.run_once()
    assert len(receiver.events()) == 3
    assert {attempt.dispatcher for attempt in _attempts(store)} == {"survivor"}
