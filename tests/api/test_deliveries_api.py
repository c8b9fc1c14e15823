"""The delivery APIs: signing secrets shown once and rotated, the event feed, deliveries and replays,
pause and test events, operator events, inbound callbacks, and the queue on /metrics."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from gateway import create_app
from gateway.delivery.publisher import publish_events
from gateway.domain.clock import utcnow
from gateway.domain.keys import KeyKind
from gateway.services.scheduler import run_due_transitions
from gateway.store import migrate
from gateway.store.models import InboundEvent
from partners.signing import new_webhook_secret, signed_headers
from tests.support.api import app_store, bearer
from tests.support.delivery import STOP, dispatcher
from tests.support.receivers import Answer, Receiver, always
from tests.support.seeding import Seeder, add_subscription


@pytest.fixture
def private_app(tmp_path, sqlite_database):
    """The gateway allowing loopback endpoints, as tests and demos do."""
    app = create_app(
        {"INSTANCE_PATH": str(tmp_path), "LOG_LEVEL": "WARNING", "ALLOW_PRIVATE_ENDPOINTS": True}
        | sqlite_database.settings()
    )
    migrate.upgrade(app_store(app).engine)
    yield app
    app_store(app).dispose()


class World:
    def __init__(self, app) -> None:
        self.store = app_store(app)
        self.client = app.test_client()
        seed = Seeder(self.store)
        for code in ("nordlink", "southtel"):
            seed.partner(code)
        self.operator = bearer(seed.token(KeyKind.OPERATOR))
        self.partner = bearer(seed.token(KeyKind.PARTNER, "nordlink"))
        self.other = bearer(seed.token(KeyKind.PARTNER, "southtel"))

    def subscription(self, reference="cust-1", partner="nordlink") -> str:
        with self.store.transaction() as session:
            return add_subscription(session, partner, reference).id

    def publish(self) -> None:
        with self.store.transaction() as session:
            publish_events(session, utcnow())


def test_onboarding_shows_each_endpoint_secret_once(app, client):
    operator = bearer(Seeder(app_store(app)).token(KeyKind.OPERATOR))
    body = {
        "code": "nordlink",
        "display_name": "Nordlink",
        "markets": ["DE"],
        "default_locale": "de",
        "webhook_urls": ["https://hooks.nordlink.example/a"],
    }
    created = client.post("/admin/v1/partners", json=body, headers=operator)
    assert created.status_code == 201, created.json
    [endpoint] = created.json["webhook_endpoints"]
    assert endpoint["secret"].startswith("whsec_") and endpoint["url"] == body["webhook_urls"][0]
    listed = client.get("/admin/v1/partners/nordlink/webhook-endpoints", headers=operator).json["items"]
    assert "secret" not in listed[0] and listed[0]["circuit_state"] == "closed"


@pytest.mark.parametrize(
    ("url", "detail"),
    [("http://hooks.nordlink.example/a", "https"), ("https://127.0.0.1/a", "public"), ("https://10.0.0.8/", "public")],
)
def test_internal_or_plain_http_endpoints_are_refused_by_default(app, client, url, detail):
    seed = Seeder(app_store(app))
    seed.partner("nordlink")
    operator = bearer(seed.token(KeyKind.OPERATOR))
    refused = client.post("/admin/v1/partners/nordlink/webhook-endpoints", json={"url": url}, headers=operator)
    assert refused.status_code == 422
    [error] = refused.json["errors"]
    assert error["field"] == "url" and detail in error["detail"]


def test_a_rotated_secret_signs_alongside_the_old_one_during_the_overlap(private_app):
    world = World(private_app)
    with Receiver() as receiver:
        created = world.client.post(
            "/admin/v1/partners/nordlink/webhook-endpoints", json={"url": receiver.url}, headers=world.operator
        ).json
        old = created["secret"]
        rotated = world.client.post(
            f"/admin/v1/webhook-endpoints/{created['id']}/rotate-secret", headers=world.operator
        ).json
        new = rotated["secret"]
        assert new != old and rotated["previous_secret_expires_at"] is not None
        world.subscription()
        dispatcher(world.store).run(STOP, until_idle=True)
    [message] = receiver.events()
    assert len(message.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(message.body, message.headers)


def test_the_feed_gives_a_partner_its_own_events_in_order_and_continues_from_a_cursor(private_app):
    world = World(private_app)
    first, second = world.subscription("a"), world.subscription("b")
    world.subscription("c", partner="southtel")
    feed = world.client.get("/v1/events", headers=world.partner)
    assert feed.json["items"] == [], "events show once published (the dispatcher publishes them)"
    world.publish()

    page = world.client.get("/v1/events?limit=1", headers=world.partner).json
    assert [event["subscription"]["id"] for event in page["items"]] == [first]
    rest = world.client.get(f"/v1/events?after={page['next_cursor']}", headers=world.partner).json
    assert [event["subscription"]["id"] for event in rest["items"]] == [second]
    nothing_new = world.client.get(f"/v1/events?after={rest['next_cursor']}", headers=world.partner).json
    assert nothing_new["items"] == [] and nothing_new["next_cursor"] == rest["next_cursor"]
    assert rest["items"][0]["type"] == "subscription.activated"
    assert world.client.get("/v1/events?type=subscription.cancelled", headers=world.partner).json["items"] == []
    others = world.client.get("/v1/events", headers=world.other).json["items"]
    assert [event["partner"] for event in others] == ["southtel"]
    bad = world.client.get("/v1/events?after=not-a-cursor", headers=world.partner)
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "cursor"


def test_deliveries_are_listed_shown_with_attempts_and_redelivered_on_request(private_app):
    world = World(private_app)
    with Receiver(always(Answer(422, b"unknown customer"))) as receiver:
        Seeder(world.store).endpoint("nordlink", receiver.url)
        world.subscription()
        dispatcher(world.store).run(STOP, until_idle=True)

    [dead] = world.client.get("/v1/deliveries?status=dead", headers=world.partner).json["items"]
    assert dead["event_type"] == "subscription.activated" and "unknown customer" in dead["last_error"]
    detail = world.client.get(f"/v1/deliveries/{dead['id']}", headers=world.partner).json
    assert [a["http_status"] for a in detail["attempt_log"]] == [422]
    assert detail["event"]["id"] == dead["event_id"] == receiver.events()[0].headers["webhook-id"]
    assert world.client.get(f"/v1/deliveries/{dead['id']}", headers=world.other).status_code == 404
    assert world.client.get("/v1/deliveries", headers=world.other).json["items"] == []

    redelivered = world.client.post(f"/v1/deliveries/{dead['id']}/redeliver", headers=world.partner)
    assert redelivered.status_code == 200 and redelivered.json["status"] == "pending"
    assert world.client.post(f"/v1/deliveries/{dead['id']}/redeliver", headers=world.other).status_code == 404
    admin = world.client.get("/admin/v1/deliveries?partner=nordlink&status=pending", headers=world.operator).json
    assert [item["id"] for item in admin["items"]] == [dead["id"]]


def test_an_operator_replays_a_partners_dead_letters_since_a_time(private_app):
    world = World(private_app)
    with Receiver(always(Answer(400))) as receiver:
        Seeder(world.store).endpoint("nordlink", receiver.url)
        world.subscription("a")
        world.subscription("b")
        dispatcher(world.store).run(STOP, until_idle=True)
    since = (utcnow() - timedelta(hours=1)).isoformat()
    body = {"partner": "nordlink", "since": since}
    replayed = world.client.post("/admin/v1/deliveries/replay", json=body, headers=world.operator)
    assert replayed.status_code == 200 and replayed.json == {"replayed": 2}
    later = {"partner": "nordlink", "since": (utcnow() + timedelta(hours=1)).isoformat()}
    assert world.client.post("/admin/v1/deliveries/replay", json=later, headers=world.operator).json == {"replayed": 0}
    naive = world.client.post(
        "/admin/v1/deliveries/replay",
        json={"partner": "nordlink", "since": "2026-11-01T00:00:00"},
        headers=world.operator,
    )
    assert naive.status_code == 422 and naive.json["errors"][0]["field"] == "since"


def test_pause_resume_and_a_test_event_through_the_admin_api(private_app):
    world = World(private_app)
    with Receiver() as receiver:
        Seeder(world.store).endpoint("nordlink", receiver.url)
        paused = world.client.post("/admin/v1/partners/nordlink/deliveries/pause", headers=world.operator)
        assert paused.status_code == 200 and paused.json["deliveries_paused"] is True
        sent = world.client.post("/admin/v1/partners/nordlink/test-event", headers=world.operator)
        assert sent.status_code == 202 and sent.json["event_type"] == "gateway.test"
        dispatcher(world.store).run(STOP, until_idle=True)
        assert receiver.events() == []
        world.client.post("/admin/v1/partners/nordlink/deliveries/resume", headers=world.operator)
        dispatcher(world.store).run(STOP, until_idle=True)
    [message] = receiver.events()
    assert message.headers["webhook-id"] == sent.json["event_id"]
    assert json.loads(message.body)["type"] == "gateway.test"
    assert world.client.post("/admin/v1/partners/nobody/test-event", headers=world.operator).status_code == 404


def test_a_disabled_endpoint_shows_in_the_operator_events(private_app):
    world = World(private_app)
    with Receiver(always(Answer(410))) as receiver:
        endpoint = Seeder(world.store).endpoint("nordlink", receiver.url)
        world.subscription()
        dispatcher(world.store).run(STOP, until_idle=True)
    [alert] = world.client.get("/admin/v1/operator-events", headers=world.operator).json["items"]
    assert alert["kind"] == "endpoint.disabled" and alert["endpoint_id"] == endpoint and "410" in alert["detail"]
    shown = world.client.get("/admin/v1/partners/nordlink/webhook-endpoints", headers=world.operator).json["items"]
    assert shown[0]["status"] == "disabled"
    enabled = world.client.post(f"/admin/v1/webhook-endpoints/{endpoint}/enable", headers=world.operator)
    assert enabled.json["status"] == "enabled" and enabled.json["disabled_reason"] is None


def test_metrics_show_the_delivery_queue(private_app):
    world = World(private_app)
    Seeder(world.store).endpoint("nordlink", "http://127.0.0.1:9/hooks")
    world.subscription("a")
    world.subscription("b")
    world.publish()
    text = world.client.get("/metrics").get_data(as_text=True)
    assert 'gateway_delivery_queue_depth{partner="nordlink"} 2.0' in text
    assert "gateway_delivery_due_lag_seconds" in text


# --- inbound callbacks -------------------------------------------------------------------------------------


def _callback(world, secret, event_id, event_type, data, key=None):
    body = json.dumps({"type": event_type, "data": data})
    headers = {**signed_headers([secret], event_id, utcnow(), body), **(key or world.partner)}
    return world.client.post("/v1/callbacks", data=body, content_type="application/json", headers=headers)


@pytest.fixture
def callback_world(private_app):
    world = World(private_app)
    issued = world.client.post("/admin/v1/partners/nordlink/inbound-secret", headers=world.operator)
    assert issued.status_code == 201
    world.secret = issued.json["secret"]
    return world


def test_a_signed_callback_becomes_a_command_once(callback_world):
    world = callback_world
    subscription = world.subscription()
    applied = _callback(world, world.secret, "msg_1", "subscription.suspend", {"subscription_id": subscription})
    assert applied.status_code == 200, applied.json
    assert applied.json["outcome"] == "applied" and applied.json["subscription"]["status"] == "suspended"
    again = _callback(world, world.secret, "msg_1", "subscription.suspend", {"subscription_id": subscription})
    assert again.json["outcome"] == "duplicate" and again.json["subscription"] == applied.json["subscription"]
    history = world.client.get(f"/v1/subscriptions/{subscription}/history", headers=world.partner).json["items"]
    assert [entry["to_status"] for entry in history].count("suspended") == 1


def test_a_callback_is_remembered_for_the_event_retention_and_then_forgotten(callback_world):
    world = callback_world
    subscription = world.subscription()
    applied = _callback(world, world.secret, "msg_1", "subscription.suspend", {"subscription_id": subscription})
    assert applied.json["outcome"] == "applied"
    received = utcnow()
    retention = timedelta(days=30)
    kept = run_due_transitions(world.store, now=received + retention - timedelta(minutes=1), event_retention=retention)
    assert kept.callbacks_forgotten == 0
    again = _callback(world, world.secret, "msg_1", "subscription.suspend", {"subscription_id": subscription})
    assert again.json["outcome"] == "duplicate"
    later = run_due_transitions(world.store, now=received + retention + timedelta(minutes=1), event_retention=retention)
    assert later.callbacks_forgotten == 1
    with world.store.read() as session:
        assert session.scalars(select(InboundEvent)).all() == []  # and the subscription snapshot it held


def test_callbacks_that_do_not_verify_or_do_not_fit_are_refused_and_change_nothing(callback_world):
    world = callback_world
    subscription = world.subscription()
    forged = _callback(world, new_webhook_secret(), "msg_2", "subscription.suspend", {"subscription_id": subscription})
    assert forged.status_code == 400 and forged.json["type"] == "/problems/invalid-signature"
    unknown = _callback(world, world.secret, "msg_3", "subscription.explode", {"subscription_id": subscription})
    assert unknown.status_code == 422 and unknown.json["errors"][0]["field"] == "type"
    bad_reason = _callback(
        world, world.secret, "msg_4", "subscription.cancel", {"subscription_id": subscription, "reason": "boredom"}
    )
    assert bad_reason.status_code == 422 and bad_reason.json["errors"][0]["field"] == "data.reason"
    members_now = _callback(
        world,
        world.secret,
        "msg_7",
        "subscription.cancel",
        {"subscription_id": subscription, "when": "immediately", "reason": "member_request"},
    )
    assert members_now.status_code == 422 and members_now.json["errors"][0]["field"] == "data.reason"
    assert "takes effect at the period end" in members_now.json["errors"][0]["detail"]
    not_allowed = _callback(world, world.secret, "msg_5", "subscription.resume", {"subscription_id": subscription})
    assert not_allowed.status_code == 409 and not_allowed.json["current_status"] == "active"
    assert not_allowed.json["allowed_transitions"] == ["cancel", "change-plan", "suspend"]  # the partner API's names
    theirs = _callback(
        world, world.secret, "msg_6", "subscription.suspend", {"subscription_id": subscription}, key=world.other
    )
    assert theirs.status_code == 409 and "inbound secret" in theirs.json["detail"]  # southtel has none
    current = world.client.get(f"/v1/subscriptions/{subscription}", headers=world.partner).json
    assert current["status"] == "active"
    # Refused before it was verified: the id is not taken, the partner's real message with it is applied.
    genuine = _callback(world, world.secret, "msg_2", "subscription.suspend", {"subscription_id": subscription})
    assert genuine.status_code == 200 and genuine.json["outcome"] == "applied"


@pytest.fixture
def backend_callback_world(backend_app):
    """callback_world on either backend."""
    backend_app.config["GATEWAY"]["ALLOW_PRIVATE_ENDPOINTS"] = True
    world = World(backend_app)
    issued = world.client.post("/admin/v1/partners/nordlink/inbound-secret", headers=world.operator)
    world.secret = issued.json["secret"]
    return world


def test_a_refused_callback_is_refused_again_on_redelivery_even_when_it_would_now_apply(backend_callback_world):
    world = backend_callback_world
    subscription = world.subscription()
    resume = {"subscription_id": subscription}
    refused = _callback(world, world.secret, "msg_resume", "subscription.resume", resume)
    assert refused.status_code == 409 and refused.json["current_status"] == "active"
    assert "Idempotent-Replayed" not in refused.headers
    suspended = world.client.post(f"/v1/subscriptions/{subscription}/suspend", json={}, headers=world.partner)
    assert suspended.status_code == 200  # a resume would now succeed...

    again = _callback(world, world.secret, "msg_resume", "subscription.resume", resume)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert again.json == refused.json and again.headers["Idempotent-Replayed"] == "true"
    current = world.client.get(f"/v1/subscriptions/{subscription}", headers=world.partner).json
    assert current["status"] == "suspended"  # ...but the redelivered message is not applied
    history = world.client.get(f"/v1/subscriptions/{subscription}/history", headers=world.partner).json["items"]
    assert [entry["to_status"] for entry in history].count("active") == 1  # activated once, never resumed

    fresh = _callback(world, world.secret, "msg_resume_2", "subscription.resume", resume)
    assert fresh.status_code == 200 and fresh.json["outcome"] == "applied"  # a new message is a new command


@pytest.mark.parametrize(
    ("event_type", "data", "status"),
    [
        ("subscription.cancel", {"reason": "boredom"}, 422),  # the data does not fit the command
        ("subscription.explode", {}, 422),  # no such command
        ("subscription." + "x" * 200, {}, 422),  # longer than the type the store keeps
        ("subscription.suspend", {"subscription_id": "sub_nobody"}, 404),
    ],
    ids=["bad data", "unknown type", "unknown long type", "unknown subscription"],
)
def test_every_refusal_of_a_verified_callback_is_remembered(backend_callback_world, event_type, data, status):
    world = backend_callback_world
    data = {"subscription_id": world.subscription(), **data}
    first = _callback(world, world.secret, "msg_x", event_type, data)
    assert first.status_code == status and first.mimetype == "application/problem+json"
    again = _callback(world, world.secret, "msg_x", event_type, data)
    assert (again.status_code, again.json) == (status, first.json)
    assert again.headers["Idempotent-Replayed"] == "true"
    with world.store.read() as session:
        [remembered] = session.scalars(select(InboundEvent)).all()
    assert remembered.status_code == status and remembered.event_id == "msg_x"


def test_an_applied_callback_redelivered_is_a_marked_duplicate(backend_callback_world):
    world = backend_callback_world
    subscription = world.subscription()
    applied = _callback(world, world.secret, "msg_1", "subscription.suspend", {"subscription_id": subscription})
    assert applied.json["outcome"] == "applied" and "Idempotent-Replayed" not in applied.headers
    again = _callback(world, world.secret, "msg_1", "subscription.suspend", {"subscription_id": subscription})
    assert again.status_code == 200 and again.json["outcome"] == "duplicate"
    assert again.headers["Idempotent-Replayed"] == "true"
