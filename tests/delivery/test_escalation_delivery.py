"""escalation.updated reaches a real HTTP receiver on loopback: signed, and in order with the subscriber's
subscription events even while the receiver fails now and then."""

from __future__ import annotations

import json

from standardwebhooks import Webhook

from gateway.domain import escalations as rules
from gateway.domain.clock import utcnow
from gateway.domain.delivery import DeliveryStatus
from gateway.domain.escalations import Action, Side
from gateway.domain.lifecycle import Actor, Command
from gateway.services import escalations as escalation_service
from gateway.services import subscriptions as subscription_service
from gateway.store.models import Delivery
from tests.support.delivery import IMMEDIATE_RETRY, STOP, dispatcher, partner_with_endpoint
from tests.support.receivers import Answer, Receiver
from tests.support.seeding import add_subscription

SLA = rules.parse_sla_policy(rules.DEFAULT_SLA)


def _label(body: dict) -> str:
    if body["type"] == rules.EVENT_TYPE:
        return f"escalation:{body['data']['change']}"
    return body["type"]


def _escalation_step(store, escalation_id: str, change) -> None:
    with store.transaction() as session:
        escalation = escalation_service.get_escalation(session, escalation_id, for_update=True)
        change(session, escalation)


def test_escalation_events_arrive_signed_and_in_order_with_the_subscribers_events(store):
    def flaky(_received, count):
        return Answer(503) if count % 3 == 0 else Answer(204)

    with Receiver(flaky) as receiver:
        secret = partner_with_endpoint(store, "nordlink", receiver.url)
        now = utcnow()
        with store.transaction() as session:
            subscription = add_subscription(session, "nordlink", "cust-1", now=now)
            subscription_id = subscription.id
            escalation_id = escalation_service.open_escalation(
                session,
                partner_code="nordlink",
                partner_ref="cust-1",
                category="billing",
                priority="high",
                description="Charged after cancelling.",
                agent_ref="agent-1",
                now=now,
                sla=SLA,
            ).escalation.id

        def lifecycle(command: Command, reason: str) -> None:
            with store.transaction() as session:
                found = subscription_service.get_subscription(session, subscription_id, for_update=True)
                subscription_service.apply_command(
                    session, found, command, actor=Actor.PARTNER, reason=reason, now=utcnow()
                )

        def status(action: Action, side: Side, comment: str | None = None):
            return lambda session, escalation: escalation_service.change_status(
                session, escalation, action, side=side, author="someone", now=utcnow(), sla=SLA, comment=comment
            )

        lifecycle(Command.SUSPEND, "non_payment")
        _escalation_step(store, escalation_id, status(Action.ACKNOWLEDGE, Side.SERVICE))
        _escalation_step(
            store,
            escalation_id,
            lambda session, escalation: escalation_service.add_comment(
                session, escalation, side=Side.PARTNER, author="agent-1", comment="Invoice attached.", now=utcnow()
            ),
        )
        lifecycle(Command.RESUME, "payment_recovered")
        _escalation_step(store, escalation_id, status(Action.START, Side.SERVICE))
        _escalation_step(store, escalation_id, status(Action.RESOLVE, Side.SERVICE, "Refunded."))

        run = dispatcher(store, retry=IMMEDIATE_RETRY)
        for _ in range(30):  # retries fall due at once with the immediate schedule
            run.run(STOP, until_idle=True)

    received = receiver.events()
    for message in received:
        Webhook(secret).verify(message.body, message.headers)
    bodies = {}
    for message in received:  # first arrivals: a retried event may arrive twice
        body = json.loads(message.body)
        bodies.setdefault(body["id"], body)
    assert [_label(body) for body in bodies.values()] == [
        "subscription.activated",
        "escalation:opened",
        "subscription.suspended",
        "escalation:acknowledged",
        "escalation:commented",
        "subscription.resumed",
        "escalation:started",
        "escalation:resolved",
    ]
    escalation_events = [body for body in bodies.values() if body["type"] == rules.EVENT_TYPE]
    assert [body["data"]["version"] for body in escalation_events] == [1, 2, 3, 4, 5]
    assert {body["data"]["subscription"]["id"] for body in escalation_events} == {subscription_id}
    assert len(received) > len(bodies)  # some failed and were sent again: the order held through retries
    with store.read() as session:
        assert {delivery.status for delivery in session.query(Delivery)} == {DeliveryStatus.DELIVERED}
