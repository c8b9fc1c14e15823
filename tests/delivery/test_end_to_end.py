"""Events reach a real HTTP receiver on loopback: signed, in order per subscriber, through failures."""

from __future__ import annotations

import json

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from gateway.domain.clock import utcnow
from gateway.domain.delivery import DeliveryStatus
from gateway.store.models import Delivery, DeliveryAttempt
from partners.signing import new_webhook_secret
from tests.support.delivery import IMMEDIATE_RETRY, STOP, Clock, dispatcher, partner_with_endpoint, record_events
from tests.support.receivers import Answer, Receiver


def _bodies(receiver: Receiver) -> list[dict]:
    return [json.loads(received.body) for received in receiver.events()]


def test_every_event_arrives_signed_and_verifies_with_the_reference_library(store):
    with Receiver() as receiver:
        secret = partner_with_endpoint(store, "nordlink", receiver.url)
        record_events(store, "nordlink", subscribers=3, changes_each=2)
        dispatcher(store).run(STOP, until_idle=True)

    received = receiver.events()
    assert len(received) == 9
    for message in received:
        verified = Webhook(secret).verify(message.body, message.headers)
        assert verified["id"] == message.headers["webhook-id"]
        assert message.headers["content-type"] == "application/json"
    with store.read() as session:
        statuses = {delivery.status for delivery in session.query(Delivery)}
    assert statuses == {DeliveryStatus.DELIVERED}


def test_a_wrong_secret_does_not_verify(store):
    with Receiver() as receiver:
        partner_with_endpoint(store, "nordlink", receiver.url)
        record_events(store, "nordlink", subscribers=1, changes_each=0)
        dispatcher(store).run(STOP, until_idle=True)
    message = receiver.events()[0]
    with pytest.raises(WebhookVerificationError, match="signature"):
        Webhook(new_webhook_secret()).verify(message.body, message.headers)


def test_order_per_subscriber_holds_while_events_fail_and_recover(store):
    """Every third request fails with 503: each subscriber's events still arrive in sequence order."""

    def flaky(_received, count):
        return Answer(503) if count % 3 == 0 else Answer(204)

    with Receiver(flaky) as receiver:
        partner_with_endpoint(store, "nordlink", receiver.url)
        record_events(store, "nordlink", subscribers=4, changes_each=5)
        run = dispatcher(store, retry=IMMEDIATE_RETRY)
        run.run(STOP, until_idle=True)
        for _ in range(20):  # retries fall due at once with the immediate schedule
            run.run(STOP, until_idle=True)

    delivered = {}
    for body in _bodies(receiver):
        delivered.setdefault(body["subscription"]["id"], []).append(body["sequence"])
    for sequences in delivered.values():
        first_arrivals = list(dict.fromkeys(sequences))  # a retried event may arrive twice; order is by first arrival
        assert first_arrivals == sorted(first_arrivals)
        assert len(first_arrivals) == 6
    with store.read() as session:
        assert {d.status for d in session.query(Delivery)} == {DeliveryStatus.DELIVERED}
        assert session.query(DeliveryAttempt).filter(DeliveryAttempt.http_status == 503).count() >= 1


def test_a_receiver_that_fails_then_recovers_gets_everything(store):
    """Five failures open the endpoint's circuit; once the probe time comes and the probe succeeds, the
    circuit closes and everything waiting goes out."""
    state = {"up": False}
    clock = Clock(utcnow())

    def answer(_received, _count):
        return Answer(204) if state["up"] else Answer(500, b"down for maintenance")

    with Receiver(answer) as receiver:
        partner_with_endpoint(store, "nordlink", receiver.url)
        record_events(store, "nordlink", subscribers=5, changes_each=1)
        run = dispatcher(store, retry=IMMEDIATE_RETRY, clock=clock)
        run.run_once()
        state["up"] = True
        run.run(STOP, until_idle=True)
        assert len(receiver.events()) == 5, "the circuit is open: nothing more is sent before the probe time"
        clock.advance(seconds=61)
        for _ in range(10):
            run.run(STOP, until_idle=True)

    ids = {body["id"] for body in _bodies(receiver)}
    with store.read() as session:
        deliveries = session.query(Delivery).all()
        assert {d.status for d in deliveries} == {DeliveryStatus.DELIVERED}
        assert ids == {d.webhook_id for d in deliveries}
        failed = session.query(DeliveryAttempt).filter(DeliveryAttempt.http_status == 500).first()
        assert failed.response_excerpt == "down for maintenance" and failed.outcome == "retry"


def test_a_batch_partner_gets_ndjson_batches_with_a_result_per_event(store):
    """The receiver refuses one event of its batch by name: that one is a dead letter, the rest delivered."""
    refused = {}

    def answer(received, _count):
        lines = [json.loads(line) for line in received.body.decode().splitlines()]
        victim = lines[len(lines) // 2]["id"]
        refused.setdefault("id", victim)
        results = [{"id": refused["id"], "status": 422, "detail": "unknown customer"}]
        return Answer(200, json.dumps({"results": results}).encode(), {"Content-Type": "application/json"})

    with Receiver(answer) as receiver:
        secret = partner_with_endpoint(store, "selat", receiver.url, flavour="batch")
        record_events(store, "selat", subscribers=30, changes_each=0)
        dispatcher(store, batch_size=10).run(STOP, until_idle=True)

    assert len(receiver.events()) == 3, "30 events, 10 per request"
    for message in receiver.events():
        assert message.headers["content-type"] == "application/x-ndjson"
        Webhook(secret).verify(message.body, message.headers, json_parse=False)
    with store.read() as session:
        deliveries = {d.webhook_id: d for d in session.query(Delivery)}
        attempts = session.query(DeliveryAttempt).count()
    assert deliveries[refused["id"]].status == DeliveryStatus.DEAD
    assert "unknown customer" in deliveries[refused["id"]].last_error
    assert sum(d.status == DeliveryStatus.DELIVERED for d in deliveries.values()) == 29
    assert attempts == 30, "one attempt recorded per event"


def test_a_failing_subscriber_does_not_hold_back_the_others(store):
    """Every event of one subscriber fails; everyone else's arrive, and so do the failing one's counted
    attempts and metrics."""
    with Receiver(lambda received, _: Answer(503) if b'"ref-0"' in received.body else Answer(204)) as receiver:
        partner_with_endpoint(store, "nordlink", receiver.url)
        record_events(store, "nordlink", subscribers=4, changes_each=2)
        run = dispatcher(store, retry=IMMEDIATE_RETRY)
        for _ in range(4):
            run.run(STOP, until_idle=True)

    with store.read() as session:
        by_ref = {}
        for delivery in session.query(Delivery):
            by_ref.setdefault(delivery.event.payload["subscription"]["partner_ref"], set()).add(delivery.status)
    assert by_ref.pop("ref-0") == {DeliveryStatus.PENDING}
    assert all(statuses == {DeliveryStatus.DELIVERED} for statuses in by_ref.values())
    arrived_for_ref0 = [m for m in receiver.events() if b'"ref-0"' in m.body]
    assert {json.loads(m.body)["sequence"] for m in arrived_for_ref0} == {1}, "its later events wait"
    assert run.metrics.attempts.labels("delivered")._value.get() == 9
    assert run.metrics.attempts.labels("retry")._value.get() == len(arrived_for_ref0)
    assert run.metrics.latency._sum.get() > 0
