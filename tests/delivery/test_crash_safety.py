"""Crash safety and scale-out with real processes: SIGKILL mid-run loses nothing; two dispatchers on
PostgreSQL share the work and never send one event at the same time."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time

import pytest
from sqlalchemy import func, select

from gateway.domain.delivery import DeliveryStatus
from gateway.store.models import Delivery, DeliveryAttempt
from tests.support.delivery import dispatch_process, dispatcher, partner_with_endpoint, record_events
from tests.support.receivers import Answer, Receiver

# 5,000 events: killed after 1,500 have arrived, the dispatcher holds hundreds more claimed or in flight.
SUBSCRIBERS, CHANGES_EACH = 500, 9
KILLED_AFTER = 1500


def _delivered(store) -> int:
    with store.read() as session:
        return session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.status == DeliveryStatus.DELIVERED)
        )


def _dispatch_process(database) -> subprocess.Popen:
    return dispatch_process(database, DELIVERY_LEASE_SECONDS="8", DELIVERY_TIMEOUT_SECONDS="2")


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_a_dispatcher_killed_mid_run_loses_nothing(store, database):
    with Receiver() as receiver:
        partner_with_endpoint(store, "nordlink", receiver.url)
        record_events(store, "nordlink", SUBSCRIBERS, CHANGES_EACH)
        total = SUBSCRIBERS * (1 + CHANGES_EACH)

        first = _dispatch_process(database)
        _wait_for(lambda: len(receiver.events()) >= KILLED_AFTER, 120, "the first dispatcher to get going")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert len(receiver.events()) < total, "killed mid-run"

        second = _dispatch_process(database)
        try:
            _wait_for(lambda: _delivered(store) == total, 240, "every event to be delivered")
        finally:
            second.terminate()
            second.wait(timeout=20)

    received = receiver.events()
    bodies_by_id: dict[str, set[bytes]] = {}
    for message in received:
        bodies_by_id.setdefault(message.headers["webhook-id"], set()).add(message.body)
    with store.read() as session:
        event_ids = {delivery.webhook_id for delivery in session.scalars(select(Delivery))}
    assert set(bodies_by_id) == event_ids and len(event_ids) == total, "every event arrived at least once"
    assert all(len(bodies) == 1 for bodies in bodies_by_id.values()), "a duplicate is the same message"

    first_arrival: dict[str, list[int]] = {}
    seen = set()
    for message in received:
        if message.headers["webhook-id"] in seen:
            continue
        seen.add(message.headers["webhook-id"])
        event = json.loads(message.body)
        first_arrival.setdefault(event["subscription"]["id"], []).append(event["sequence"])
    assert all(sequences == sorted(sequences) for sequences in first_arrival.values()), "order per subscriber"


@pytest.mark.usefixtures("postgres_database")
def test_two_dispatchers_share_the_work_and_never_send_one_event_at_once(postgres_database):
    from gateway.store import migrate
    from gateway.store.db import Store, make_engine

    engine = make_engine(postgres_database.url, postgres_database.schema)
    migrate.upgrade(engine)
    store = Store(engine)
    in_flight: dict[str, int] = {}
    overlaps = []
    lock = threading.Lock()

    def answer(received, _count):
        webhook_id = received.headers["webhook-id"]
        with lock:
            in_flight[webhook_id] = in_flight.get(webhook_id, 0) + 1
            if in_flight[webhook_id] > 1:
                overlaps.append(webhook_id)
        time.sleep(0.002)
        with lock:
            in_flight[webhook_id] -= 1
        return Answer(204)

    try:
        with Receiver(answer) as receiver:
            partner_with_endpoint(store, "nordlink", receiver.url)
            record_events(store, "nordlink", subscribers=2000, changes_each=0)
            stop = threading.Event()
            workers = [
                threading.Thread(target=dispatcher(store, name=name).run, args=(stop,)) for name in ("one", "two")
            ]
            for worker in workers:
                worker.start()
            _wait_for(lambda: _delivered(store) == 2000, 120, "every event to be delivered")
            stop.set()
            for worker in workers:
                worker.join(timeout=20)
        ids = [message.headers["webhook-id"] for message in receiver.events()]
        assert overlaps == []
        assert len(ids) == len(set(ids)) == 2000, "each event sent exactly once"
        with store.read() as session:
            by_dispatcher = dict(
                session.execute(
                    select(DeliveryAttempt.dispatcher, func.count()).group_by(DeliveryAttempt.dispatcher)
                ).all()
            )
        assert set(by_dispatcher) == {"one", "two"} and min(by_dispatcher.values()) >= 400, by_dispatcher
    finally:
        engine.dispose()
