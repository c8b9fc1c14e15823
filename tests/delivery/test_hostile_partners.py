"""Hostile partners on real loopback sockets, through the whole dispatcher: each send ends by its deadline
whatever the partner does, reads at most the excerpt, and a hostile partner slows only its own lane."""

from __future__ import annotations

import resource
import signal
import threading
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from gateway.delivery.dispatcher import DispatchConfigError
from gateway.domain.delivery import CircuitPolicy, CircuitState, DeliveryStatus
from gateway.store.models import Delivery, DeliveryAttempt, WebhookEndpoint
from tests.support import hostile
from tests.support.delivery import dispatch_process, dispatcher, partner_with_endpoint, record_events, settings
from tests.support.receivers import Receiver

DEADLINE = 1.0


def _attempts(store, partner: str) -> list[DeliveryAttempt]:
    with store.read() as session:
        return list(
            session.scalars(
                select(DeliveryAttempt)
                .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
                .where(Delivery.partner_code == partner)
                .order_by(DeliveryAttempt.id)
            )
        )


def _statuses(store, partner: str) -> dict[str, int]:
    with store.read() as session:
        return dict(
            session.execute(
                select(Delivery.status, func.count()).where(Delivery.partner_code == partner).group_by(Delivery.status)
            ).all()
        )


def _one_round_against(store, behaviour) -> tuple[float, DeliveryAttempt]:
    with hostile.HostileServer(behaviour) as partner:
        partner_with_endpoint(store, "nordlink", partner.url)
        record_events(store, "nordlink", subscribers=1, changes_each=0)
        started = time.monotonic()
        dispatcher(store, timeout=DEADLINE).run_once()
        elapsed = time.monotonic() - started
    [attempt] = _attempts(store, "nordlink")
    return elapsed, attempt


def test_a_partner_dripping_its_answer_is_cut_off_at_the_deadline_and_its_status_stands(store):
    elapsed, attempt = _one_round_against(store, hostile.drip_body(interval=0.2))
    assert elapsed < DEADLINE + 1.5, "one byte every 0.2 s never trips a per-read timeout: only the deadline ends it"
    assert attempt.http_status == 200 and attempt.error_class == "DeadlineExceeded"
    assert DEADLINE * 1000 * 0.9 <= attempt.duration_ms < (DEADLINE + 0.5) * 1000
    assert _statuses(store, "nordlink") == {DeliveryStatus.DELIVERED: 1}, "the partner answered 200"


def test_a_partner_dripping_its_status_line_gets_no_status_and_a_retry(store):
    elapsed, attempt = _one_round_against(store, hostile.drip_status_line(interval=0.1))
    assert elapsed < DEADLINE + 1.5
    assert attempt.http_status is None and attempt.error_class == "DeadlineExceeded" and attempt.outcome == "retry"
    assert _statuses(store, "nordlink") == {DeliveryStatus.PENDING: 1}


def test_a_partner_that_never_answers_is_a_retry_after_the_deadline(store):
    elapsed, attempt = _one_round_against(store, hostile.never_answer)
    assert elapsed < DEADLINE + 1.5
    assert attempt.http_status is None and attempt.error_class == "DeadlineExceeded"
    assert _statuses(store, "nordlink") == {DeliveryStatus.PENDING: 1}


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("behaviour", [hostile.endless_chunked_body, hostile.gzip_bomb], ids=["endless", "gzip bomb"])
def test_an_endless_or_inflating_body_is_read_no_further_than_the_excerpt(store, behaviour):
    before = _max_rss_mib()
    elapsed, attempt = _one_round_against(store, behaviour)
    assert attempt.http_status == 200 and attempt.error_class is None
    assert len(attempt.response_excerpt) == 2048  # (the bomb's zeros are stored as U+FFFD: PostgreSQL refuses NUL)
    assert elapsed < DEADLINE, "the excerpt is read, then the connection dropped: no waiting for the end"
    assert _max_rss_mib() - before < 50, "the dispatcher's memory does not depend on what the partner sends"


def test_a_reset_in_the_middle_of_the_body_keeps_the_status_and_names_the_break(store):
    _, attempt = _one_round_against(store, hostile.reset_mid_body)
    assert attempt.http_status == 200 and attempt.error_class == "PayloadError"
    assert _statuses(store, "nordlink") == {DeliveryStatus.DELIVERED: 1}


def test_a_redirect_is_an_answer_not_followed_even_to_an_internal_address(store):
    with Receiver() as internal:
        _, attempt = _one_round_against(store, hostile.redirect_to(internal.url))
        assert internal.events() == [], "a redirect is never followed"
    assert attempt.http_status == 307 and attempt.outcome == "retry"


def test_a_hostile_partner_slows_only_its_own_lane(store):
    """One partner drips, one never answers: the healthy partner's events all arrive while both hostile lanes
    are still stuck on their first sends."""
    with (
        hostile.HostileServer(hostile.drip_body(interval=0.5)) as dripping,
        hostile.HostileServer(hostile.never_answer) as silent,
        Receiver() as healthy,
    ):
        partner_with_endpoint(store, "dripper", dripping.url)
        partner_with_endpoint(store, "silent", silent.url)
        partner_with_endpoint(store, "nordlink", healthy.url)
        for code in ("dripper", "silent", "nordlink"):
            record_events(store, code, subscribers=20, changes_each=2, prefix=code)
        run = dispatcher(store, timeout=10.0, endpoint_concurrency=2)
        stop = threading.Event()
        worker = threading.Thread(target=run.run, args=(stop,))
        started = time.monotonic()
        worker.start()
        try:
            while _statuses(store, "nordlink").get(DeliveryStatus.DELIVERED, 0) < 60:
                assert time.monotonic() - started < 8, "the healthy partner waited behind the hostile ones"
                time.sleep(0.05)
            healthy_done = time.monotonic() - started
            assert dripping.requests <= 2 and silent.requests <= 2, "each hostile lane holds at most its 2 sends"
        finally:
            stop.set()
            worker.join(timeout=15)
    assert not worker.is_alive(), "a stop ends the hostile sends within their deadline"
    assert healthy_done < 5
    assert len(healthy.events()) == 60


def test_a_lease_shorter_than_the_deadline_and_its_margin_is_refused():
    with pytest.raises(DispatchConfigError, match="LEASE_SECONDS"):
        replace(settings(), timeout=30.0, lease=timedelta(seconds=30))


def test_sends_that_time_out_open_the_circuit_like_other_failures(store):
    with hostile.HostileServer(hostile.never_answer) as silent:
        partner_with_endpoint(store, "silent", silent.url)
        record_events(store, "silent", subscribers=6, changes_each=0)
        circuit = CircuitPolicy(3, timedelta(minutes=1), timedelta(days=5))
        run = dispatcher(store, timeout=0.3, endpoint_concurrency=1, circuit=circuit)
        run.run_once()
    attempts = _attempts(store, "silent")
    assert len(attempts) == 3, "after 3 timeouts in a row the lane gives back what it holds"
    assert {attempt.error_class for attempt in attempts} == {"DeadlineExceeded"}
    with store.read() as session:
        leased = session.scalar(select(func.count()).select_from(Delivery).where(Delivery.lease_owner.is_not(None)))
        endpoint = session.scalars(select(WebhookEndpoint)).one()
    assert leased == 0, "what was given back is released, not left leased"
    assert endpoint.circuit_state == CircuitState.OPEN


def test_sigterm_stops_a_dispatcher_within_the_deadline_and_releases_what_it_did_not_send(store, database):
    with hostile.HostileServer(hostile.never_answer) as silent:
        partner_with_endpoint(store, "silent", silent.url)
        record_events(store, "silent", subscribers=30, changes_each=0)
        process = dispatch_process(database, DELIVERY_TIMEOUT_SECONDS="3", DELIVERY_ENDPOINT_CONCURRENCY="2")
        try:
            deadline = time.monotonic() + 20
            while silent.requests < 2:
                assert time.monotonic() < deadline, "the dispatcher never sent"
                time.sleep(0.05)
            process.send_signal(signal.SIGTERM)
            stopped = time.monotonic()
            process.wait(timeout=10)
            took = time.monotonic() - stopped
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0, process.stderr.read()
    assert took < 3 + 2, "in flight sends end by their deadline, then the process exits"
    attempts = _attempts(store, "silent")
    assert len(attempts) == 2 and {attempt.error_class for attempt in attempts} == {"DeadlineExceeded"}
    with store.read() as session:
        leased = session.scalar(select(func.count()).select_from(Delivery).where(Delivery.lease_owner.is_not(None)))
    assert leased == 0, "claims not sent are released at once, not left to run out"


def test_connections_to_an_endpoint_are_kept_alive_and_at_most_its_concurrency(store):
    with hostile.HostileServer(hostile.answer(204, delay=0.02)) as partner:
        partner_with_endpoint(store, "nordlink", partner.url)
        record_events(store, "nordlink", subscribers=30, changes_each=1)
        dispatcher(store, endpoint_concurrency=3).run(threading.Event(), until_idle=True)
        assert partner.requests == 60
        assert partner.connections <= 3, "each of the lane's 3 connections is reused, not one per request"
    assert _statuses(store, "nordlink") == {DeliveryStatus.DELIVERED: 60}
