"""TM Forum hubs end to end, on SQLite and PostgreSQL: a hub registered through the TMF API, subscriptions changed
through /v1, the dispatcher run, and a real loopback listener receiving each change as a signed TMF event that
conforms to its definition in the official spec; a hub's query lets through only its types; a failing hub is
retried and dead-lettered, then redelivered, like any endpoint; a removed hub gets nothing more; the partner's
plain endpoints keep exactly the events they had, whatever its flavour."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import ThreadingHTTPServer

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from gateway.delivery.publisher import publish_events
from gateway.demo import seed_demo
from gateway.demo_receiver import make_handler
from gateway.domain.clock import utcnow
from gateway.domain.delivery import DeliveryStatus, RetryPolicy
from gateway.domain.events import EventType
from gateway.domain.keys import KeyKind
from gateway.domain.lifecycle import Actor, Command
from gateway.services import subscriptions as subscription_service
from gateway.services.outbox import record_event
from gateway.store.models import Delivery, DeliveryAttempt, OutboxEvent, Subscription, WebhookEndpoint
from tests.support.api import app_store, bearer
from tests.support.delivery import IMMEDIATE_RETRY, STOP, dispatcher
from tests.support.receivers import Answer, Receiver, always
from tests.support.seeding import Seeder
from tests.support.tmf_conformance import assert_conforms

INVENTORY = "/tmf-api/productInventory/v4"
ORDERING = "/tmf-api/productOrdering/v4"


class World:
    """nordlink (flavour as given) with a partner key; a service key to activate; the gateway allowing loopback
    callbacks, as tests and demos do."""

    def __init__(self, app, flavour: str = "standard") -> None:
        app.config["GATEWAY"]["ALLOW_PRIVATE_ENDPOINTS"] = True
        self.store = app_store(app)
        self.client = app.test_client()
        self.seed = Seeder(self.store)
        self.seed.partner("nordlink", flavour=flavour)
        self.partner = bearer(self.seed.token(KeyKind.PARTNER, "nordlink"))
        self.service = bearer(self.seed.token(KeyKind.SERVICE))

    def hub(self, url: str, query: str | None = None, api: str = INVENTORY) -> tuple[str, str]:
        """The hub's id and signing secret, registered as a partner would."""
        body = {"callback": url} if query is None else {"callback": url, "query": query}
        created = self.client.post(f"{api}/hub", json=body, headers=self.partner)
        assert created.status_code == 201, created.json
        return created.json["id"], created.headers["Webhook-Signing-Secret"]

    def post(self, path: str, body: dict | None = None, headers=None) -> dict:
        answer = self.client.post(path, json=body or {}, headers=headers or self.partner)
        assert answer.status_code in (200, 201), answer.json
        return answer.json

    def create(self, reference: str) -> dict:
        body = {"partner_ref": reference, "plan": "standard", "market": "DE", "billing_anchor": "2026-01-15"}
        return self.post("/v1/subscriptions", body)

    def activate(self, created: dict) -> None:
        code = created["activation"]["code"]
        self.post("/v1/service/activations", {"code": code, "member_id": "member-1"}, self.service)

    def purge(self, subscription_id: str) -> None:
        """What the scheduler does when the retention window ends."""
        with self.store.transaction() as session:
            subscription = session.get(Subscription, subscription_id)
            subscription_service.apply_command(
                session,
                subscription,
                Command.PURGE,
                actor=Actor.SCHEDULER,
                reason="retention_expired",
                now=subscription.retention_until,
            )

    def deliver(self, **settings) -> None:
        dispatcher(self.store, **settings).run(STOP, until_idle=True)


def _tmf_events(receiver: Receiver, secret: str) -> list[dict]:
    """What the listener received, each verified with the hub's secret and checked against the official spec."""
    events = []
    for message in receiver.events():
        assert message.headers["content-type"] == "application/json"
        Webhook(secret).verify(message.body, message.headers)
        event = json.loads(message.body)
        assert event["eventId"] == message.headers["webhook-id"]
        spec_name = "TMF622" if event["eventType"].startswith("ProductOrder") else "TMF637"
        assert_conforms(event, event["eventType"], spec_name=spec_name)
        events.append(event)
    return events


def _product_story(events: list[dict], product_id: str) -> list[tuple[str, str | None]]:
    """One product's events in the order they arrived: (eventType, the product's status)."""
    return [
        (event["eventType"], event["event"]["product"].get("status"))
        for event in events
        if event["event"]["product"]["id"] == product_id
    ]


@pytest.fixture
def world(backend_app) -> World:
    return World(backend_app)


def test_every_lifecycle_change_reaches_the_hub_as_a_signed_conforming_tmf_event(world):
    with Receiver() as listener, Receiver() as plain:
        hub_id, secret = world.hub(listener.url)
        world.seed.endpoint_with_secret("nordlink", plain.url)
        lives = world.create("cust-lives")
        world.activate(lives)
        sub = lives["id"]
        world.post(f"/v1/subscriptions/{sub}/change-plan", {"plan": "premium"})
        world.post(f"/v1/subscriptions/{sub}/suspend")
        world.post(f"/v1/subscriptions/{sub}/resume")
        world.post(f"/v1/subscriptions/{sub}/cancel", {"when": "period_end"})
        world.post(f"/v1/subscriptions/{sub}/revert-cancellation")
        world.post(f"/v1/subscriptions/{sub}/cancel", {"when": "immediately", "reason": "partner_churn"})
        world.purge(sub)
        never = world.create("cust-never")["id"]
        world.post(f"/v1/subscriptions/{never}/cancel", {"when": "immediately", "reason": "partner_churn"})
        world.deliver()

    events = _tmf_events(listener, secret)
    assert _product_story(events, sub) == [
        ("ProductCreateEvent", "pendingActive"),
        ("ProductStateChangeEvent", "active"),
        ("ProductAttributeValueChangeEvent", "active"),
        ("ProductStateChangeEvent", "suspended"),
        ("ProductStateChangeEvent", "active"),
        ("ProductStateChangeEvent", "pendingTerminate"),
        ("ProductStateChangeEvent", "active"),
        ("ProductStateChangeEvent", "terminated"),
        ("ProductDeleteEvent", None),
    ]
    assert _product_story(events, never) == [
        ("ProductCreateEvent", "pendingActive"),
        ("ProductStateChangeEvent", "cancelled"),  # never active: cancelled, not terminated
    ]
    upgraded = [event for event in events if event["eventType"] == "ProductAttributeValueChangeEvent"]
    assert upgraded[0]["event"]["product"]["productOffering"]["id"] == "premium"
    assert {event["correlationId"] for event in events} == {sub, never}

    plain_types = [json.loads(message.body)["type"] for message in plain.events()]
    assert "subscription.created" not in plain_types, "an opt-in event: plain endpoints keep the traffic they had"
    assert len(plain_types) == len(events) - 2, "every change but the two creations"

    with world.store.read() as session:
        to_hub = session.scalars(select(Delivery).where(Delivery.endpoint_id == hub_id)).all()
    assert len(to_hub) == len(events) and {d.status for d in to_hub} == {DeliveryStatus.DELIVERED}
    listed = world.client.get("/v1/deliveries?status=delivered&limit=100", headers=world.partner).json["items"]
    assert sum(item["endpoint_id"] == hub_id for item in listed) == len(events)
    first = min(to_hub, key=lambda delivery: delivery.id)
    detail = world.client.get(f"/v1/deliveries/{first.id}", headers=world.partner).json
    assert detail["endpoint_id"] == hub_id and detail["attempt_log"][0]["http_status"] == 204
    [sent] = [event for event in events if event["eventId"] == first.webhook_id]
    assert detail["event"] == sent, "the delivery's event as it was sent: the TMF event"
    operator = bearer(world.seed.token(KeyKind.OPERATOR))
    assert world.client.get(f"/admin/v1/deliveries/{first.id}", headers=operator).json["event"] == sent


def test_a_hubs_query_lets_through_only_its_event_types(world):
    with Receiver() as states, Receiver() as lifecycle:
        _, states_secret = world.hub(states.url, "eventType=ProductStateChangeEvent")
        _, lifecycle_secret = world.hub(lifecycle.url, "eventType=ProductCreateEvent,ProductDeleteEvent")
        created = world.create("cust-1")
        world.activate(created)
        world.post(f"/v1/subscriptions/{created['id']}/change-plan", {"plan": "premium"})
        world.post(f"/v1/subscriptions/{created['id']}/cancel", {"when": "immediately", "reason": "fraud"})
        world.purge(created["id"])
        world.deliver()

    assert [(e["eventType"], e["event"]["product"]["status"]) for e in _tmf_events(states, states_secret)] == [
        ("ProductStateChangeEvent", "active"),
        ("ProductStateChangeEvent", "terminated"),
    ]
    assert [e["eventType"] for e in _tmf_events(lifecycle, lifecycle_secret)] == [
        "ProductCreateEvent",
        "ProductDeleteEvent",
    ]


def test_without_a_hub_asking_for_creations_no_creation_event_is_recorded(world):
    with Receiver() as states:
        world.hub(states.url, "eventType=ProductStateChangeEvent")
        world.create("cust-1")
    with world.store.read() as session:
        types = set(session.scalars(select(Delivery.event_type)))
        recorded = session.scalars(select(Subscription.id)).all()
    assert recorded and "subscription.created" not in types


def test_a_failing_hub_is_retried_dead_lettered_and_redelivered_with_the_same_event_id(world):
    state = {"up": False}

    def answer(_received, _count):
        return Answer(204) if state["up"] else Answer(503, b"listener down")

    with Receiver(answer) as listener:
        hub_id, secret = world.hub(listener.url, "eventType=ProductStateChangeEvent")
        world.activate(world.create("cust-1"))
        three_tries = RetryPolicy([timedelta(0)] * 2, timedelta(0))
        for _ in range(3):
            world.deliver(retry=three_tries)
        with world.store.read() as session:
            [delivery] = session.scalars(select(Delivery).where(Delivery.endpoint_id == hub_id)).all()
            attempts = session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery.id)).all()
        assert delivery.status == DeliveryStatus.DEAD and "listener down" in delivery.last_error
        assert [attempt.http_status for attempt in attempts] == [503, 503, 503]

        state["up"] = True
        redelivered = world.client.post(f"/v1/deliveries/{delivery.id}/redeliver", headers=world.partner)
        assert redelivered.status_code == 200, redelivered.json
        world.deliver()

    events = _tmf_events(listener, secret)
    assert len(events) == 4 and len({event["eventId"] for event in events}) == 1, "one event, sent four times"
    with world.store.read() as session:
        assert session.get(Delivery, delivery.id).status == DeliveryStatus.DELIVERED


def test_a_removed_hub_gets_nothing_more_and_what_waited_for_it_ends_as_dead_letters(world):
    with Receiver() as listener:
        hub_id, _ = world.hub(listener.url)
        created = world.create("cust-1")
        dispatcher(world.store, retry=IMMEDIATE_RETRY).run_once()  # published, and sent
        assert len(listener.events()) == 1
        world.activate(created)
        with world.store.transaction() as session:  # published, not yet sent
            publish_events(session, utcnow())
        assert world.client.delete(f"{INVENTORY}/hub/{hub_id}", headers=world.partner).status_code == 204
        world.post(f"/v1/subscriptions/{created['id']}/suspend")
        world.deliver()

    assert len(listener.events()) == 1, "only what was sent before the hub was removed"
    with world.store.read() as session:
        deliveries = session.scalars(select(Delivery).where(Delivery.endpoint_id == hub_id).order_by(Delivery.id))
        assert [(d.event_type, d.status) for d in deliveries] == [
            ("subscription.created", DeliveryStatus.DELIVERED),
            ("subscription.activated", DeliveryStatus.DEAD),
        ]


def test_a_batch_partners_hub_is_still_sent_one_tmf_event_at_a_time(backend_app):
    world = World(backend_app, flavour="batch")
    with Receiver() as listener, Receiver() as plain:
        _, secret = world.hub(listener.url)
        world.seed.endpoint_with_secret("nordlink", plain.url)
        for reference in ("cust-1", "cust-2", "cust-3"):
            world.activate(world.create(reference))
        world.deliver(batch_size=10)

    assert len(_tmf_events(listener, secret)) == 6, "three creations, three activations, one request each"
    assert {message.headers["content-type"] for message in plain.events()} == {"application/x-ndjson"}


def test_an_ordering_hub_gets_the_orders_state_and_the_inventory_hub_the_products(world):
    with Receiver() as orders, Receiver() as products:
        _, orders_secret = world.hub(orders.url, api=ORDERING)
        _, products_secret = world.hub(products.url)
        created = world.create("cust-1")
        order = _recorded_order(world, created["id"])
        world.deliver()

    [event] = _tmf_events(orders, orders_secret)
    assert event["eventType"] == "ProductOrderStateChangeEvent" and event["domain"] == "productOrdering"
    assert event["event"]["productOrder"]["id"] == event["correlationId"] == order
    assert event["event"]["productOrder"]["productOrderItem"][0]["product"]["id"] == created["id"]
    assert [e["eventType"] for e in _tmf_events(products, products_secret)] == ["ProductCreateEvent"]


def _recorded_order(world: World, product_id: str) -> str:
    """A completed one-item order's product_order.state_changed, as the ordering use case records it."""
    now = utcnow().isoformat()
    data = {
        "order_id": "po_0123456789abcdef0123",
        "external_id": "ORD-1",
        "state": "completed",
        "order_date": now,
        "completion_date": now,
        "items": [{"id": "1", "action": "add", "state": "completed", "product_id": product_id, "refusal": None}],
    }
    with world.store.transaction() as session:
        record_event(
            session,
            partner_code="nordlink",
            event_type=EventType.PRODUCT_ORDER_STATE_CHANGED,
            occurred_at=utcnow(),
            data=data,
        )
    return data["order_id"]


def test_a_hub_event_that_cannot_be_rendered_is_an_attempt_that_says_so(world):
    """A hub only takes event types that have a TMF form; should a stored event still lack what its form needs,
    the send is recorded as a failed attempt naming why, never a crash or a silent loop."""
    with Receiver(always(Answer(204))) as listener:
        hub_id, _ = world.hub(listener.url, "eventType=ProductStateChangeEvent")
        world.activate(world.create("cust-1"))
        with world.store.transaction() as session:
            event = session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "subscription.activated")).one()
            kept = event.payload
            event.payload = {**kept, "data": {"status": "active"}}  # its plan, and more, lost
        world.deliver(retry=RetryPolicy([], timedelta(0)))
        with world.store.transaction() as session:  # as it was: the store's own check of its events runs after
            session.scalars(select(OutboxEvent).where(OutboxEvent.event_id == kept["id"])).one().payload = kept

    assert listener.events() == []
    with world.store.read() as session:
        [delivery] = session.scalars(select(Delivery).where(Delivery.endpoint_id == hub_id)).all()
        [attempt] = session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery.id)).all()
    assert delivery.status == DeliveryStatus.DEAD
    assert attempt.error_class == "NoTmfForm" and "lacks 'plan'" in attempt.response_excerpt


# -- the demo's TM Forum partner ---------------------------------------------------------------------------------


@pytest.fixture
def demo_receiver():
    """The demo partner receiver (gateway.demo_receiver) on loopback, given the secrets once they are known."""
    secrets: dict[str, list[str]] = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(secrets))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", secrets
    finally:
        server.shutdown()
        server.server_close()


def test_the_demo_tm_forum_partner_gets_its_hubs_events_printed_with_their_status(store, demo_receiver, capsys):
    receiver_url, secrets = demo_receiver
    keys = seed_demo(store, now=utcnow(), receiver_url=receiver_url)
    secrets.update(keys.webhook_secrets)
    with store.read() as session:
        hubs = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.partner_code == "alpennetz")).all()
    assert sorted(hub.hub_api for hub in hubs) == ["productInventory", "productOrdering"]
    assert {hub.url for hub in hubs} == {f"{receiver_url}/alpennetz"} and len(secrets["alpennetz"]) == 2
    dispatcher(store).run(STOP, until_idle=True)

    printed = [line for line in capsys.readouterr().out.splitlines() if "alpennetz" in line]
    # The demo's long-inactive members, created and activated as it seeds them: a TMF event each, verified.
    assert len(printed) == 6 and all(line.endswith("(TM Forum, signature ok)") for line in printed), printed
    assert sum(": ProductCreateEvent sub_" in line and " pendingActive " in line for line in printed) == 3
    assert sum(": ProductStateChangeEvent sub_" in line and " active " in line for line in printed) == 3

    seed_demo(store, now=utcnow(), receiver_url="http://127.0.0.1:1/hooks")  # a rerun, the receiver elsewhere
    with store.read() as session:
        again = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.partner_code == "alpennetz")).all()
    assert {hub.id for hub in again} == {hub.id for hub in hubs}, "no hub registered twice"
    assert {hub.url for hub in again} == {"http://127.0.0.1:1/hooks/alpennetz"}
