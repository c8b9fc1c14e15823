"""POST /v1/test-event: a partner asks for a gateway.test notification itself, and it travels the normal path
(outbox, publisher, dispatcher, the partner's signed webhook, its feed), so it proves the whole chain."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from standardwebhooks import Webhook

from gateway.domain.clock import utcnow
from gateway.domain.keys import KeyKind
from gateway.services import partners as partner_service
from gateway.store.models import OutboxEvent
from tests.support.api import app_store, bearer
from tests.support.delivery import STOP, dispatcher
from tests.support.receivers import Receiver
from tests.support.seeding import Seeder

URL = "/v1/test-event"


class World:
    """nordlink and southtel, each with a key that may write; an operator."""

    def __init__(self, app) -> None:
        self.store = app_store(app)
        self.client = app.test_client()
        self.seed = Seeder(self.store)
        for code in ("nordlink", "southtel"):
            self.seed.partner(code)
        self.nordlink = bearer(self.seed.token(KeyKind.PARTNER, "nordlink", {"subscriptions:write", "events:read"}))
        self.southtel = bearer(self.seed.token(KeyKind.PARTNER, "southtel"))
        self.operator = bearer(self.seed.token(KeyKind.OPERATOR))

    def test_events(self) -> int:
        with self.store.read() as session:
            return session.scalar(
                select(func.count()).select_from(OutboxEvent).where(OutboxEvent.event_type == "gateway.test")
            )


@pytest.fixture
def world(app) -> World:
    return World(app)


def test_the_partners_endpoint_gets_it_signed_and_the_feed_and_deliveries_show_it(world):
    with Receiver() as own, Receiver() as others:
        endpoint, secret = world.seed.endpoint_with_secret("nordlink", own.url)
        world.seed.endpoint("southtel", others.url)
        asked = world.client.post(URL, headers=world.nordlink)
        assert asked.status_code == 202, asked.json
        assert asked.json["event_type"] == "gateway.test" and asked.json["endpoint_ids"] == [endpoint]
        dispatcher(world.store).run(STOP, until_idle=True)

    [message] = own.events()
    verified = Webhook(secret).verify(message.body, message.headers)
    assert verified["id"] == asked.json["event_id"] == message.headers["webhook-id"]
    assert verified["type"] == "gateway.test" and "No action is needed" in json.loads(message.body)["data"]["message"]
    assert others.events() == [], "another partner's endpoints never get it"

    deliveries = world.client.get("/v1/deliveries?type=gateway.test", headers=world.nordlink)
    [delivery] = deliveries.json["items"]
    assert delivery["status"] == "delivered" and delivery["endpoint_id"] == endpoint
    feed = world.client.get("/v1/events", headers=world.nordlink).json["items"]
    assert [event["id"] for event in feed] == [asked.json["event_id"]]
    assert world.client.get("/v1/events", headers=world.southtel).json["items"] == []


def test_a_retry_with_its_idempotency_key_records_one_event(world):
    headers = {**world.nordlink, "Idempotency-Key": "test-1"}
    first = world.client.post(URL, headers=headers)
    again = world.client.post(URL, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true" and again.json == first.json
    assert world.test_events() == 1
    assert world.client.post(URL, headers={**world.nordlink, "Idempotency-Key": "test-2"}).status_code == 202
    assert world.test_events() == 2


def test_without_an_enabled_endpoint_it_only_reaches_the_feed(world):
    endpoint = world.seed.endpoint("nordlink")
    with world.store.transaction() as session:
        partner_service.remove_endpoint(session, endpoint, now=utcnow())
    asked = world.client.post(URL, headers=world.nordlink)
    assert asked.status_code == 202 and asked.json["endpoint_ids"] == []
    dispatcher(world.store).run(STOP, until_idle=True)  # publishes it
    assert [event["type"] for event in world.client.get("/v1/events", headers=world.nordlink).json["items"]] == [
        "gateway.test"
    ]


@pytest.mark.parametrize(
    ("caller", "status", "problem"),
    [
        ("reader", 403, "/problems/insufficient-scope"),
        ("suspended", 403, None),
        ("operator", 403, None),
        ("nobody", 401, None),
    ],
)
def test_who_may_not_ask(world, caller, status, problem):
    keys = {
        "reader": lambda: bearer(world.seed.token(KeyKind.PARTNER, "nordlink", {"events:read", "subscriptions:read"})),
        "suspended": lambda: world.southtel,
        "operator": lambda: world.operator,
        "nobody": dict,
    }
    if caller == "suspended":
        with world.store.transaction() as session:
            partner_service.set_partner_status(session, "southtel", "suspended", now=utcnow())
    refused = world.client.post(URL, headers=keys[caller]())
    assert refused.status_code == status
    assert refused.headers["Content-Type"] == "application/problem+json"
    if problem:
        assert refused.json["type"] == problem and "subscriptions:write" in refused.json["detail"]
    assert world.test_events() == 0


def test_the_operators_test_event_names_its_endpoints_too(world):
    endpoint = world.seed.endpoint("southtel")
    sent = world.client.post("/admin/v1/partners/southtel/test-event", headers=world.operator)
    assert sent.status_code == 202 and sent.json["endpoint_ids"] == [endpoint]
