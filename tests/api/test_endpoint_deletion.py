"""Deleting a webhook endpoint keeps its delivery history: deliveries and attempts stay visible to the operator and
the partner, pending ones end as dead letters saying why, nothing is sent to it or replayed to it again."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.delivery.publisher import publish_events
from gateway.domain.clock import utcnow
from gateway.domain.keys import KeyKind
from gateway.services import partners as partner_service
from gateway.store.models import Delivery, DeliveryAttempt, OutboxEvent, WebhookEndpoint
from tests.support.api import app_store, bearer
from tests.support.seeding import Seeder, add_subscription


def publish_all(store) -> None:
    """Publish every event. On PostgreSQL a publisher skips its turn while another holds the publishers' lock,
    which is taken per database: another test's store, in a schema of its own, may hold it for a moment."""
    for _ in range(100):
        with store.transaction() as session:
            publish_events(session, utcnow())
            if session.scalar(select(OutboxEvent.id).where(OutboxEvent.position.is_(None)).limit(1)) is None:
                return
        time.sleep(0.05)
    raise AssertionError("events stayed unpublished")


class World:
    """nordlink with two endpoints, `gone` (to be deleted) and `kept`, and deliveries to both in every state."""

    def __init__(self, app) -> None:
        self.store = app_store(app)
        self.client = app.test_client()
        seed = Seeder(self.store)
        seed.partner("nordlink")
        self.gone = seed.endpoint("nordlink", "https://hooks.nordlink.example/gone")
        self.kept = seed.endpoint("nordlink", "https://hooks.nordlink.example/kept")
        self.operator = bearer(seed.token(KeyKind.OPERATOR))
        self.partner = bearer(seed.token(KeyKind.PARTNER, "nordlink"))
        now = utcnow()
        with self.store.transaction() as session:
            for reference in ("a", "b", "c", "d"):
                add_subscription(session, "nordlink", reference, now=now)
        publish_all(self.store)
        with self.store.transaction() as session:
            gone = session.scalars(select(Delivery).where(Delivery.endpoint_id == self.gone).order_by(Delivery.id))
            delivered, dead, leased, *waiting = gone.all()
            self._attempt(session, delivered, 204, "delivered")
            delivered.status, delivered.finished_at, delivered.attempts = "delivered", now, 1
            self._attempt(session, dead, 422, "failed")
            dead.status, dead.finished_at, dead.attempts, dead.last_error = "dead", now, 1, "HTTP 422"
            self._attempt(session, leased, 503, "retry")  # being sent again right now by a dispatcher
            leased.attempts, leased.lease_owner, leased.lease_until = 1, "dispatcher-1", now + timedelta(minutes=1)
            kept_dead = session.scalars(select(Delivery).where(Delivery.endpoint_id == self.kept)).first()
            kept_dead.status, kept_dead.finished_at, kept_dead.last_error = "dead", now, "HTTP 400"
            self.delivered, self.dead, self.leased = delivered.id, dead.id, leased.id
            self.waiting = [delivery.id for delivery in waiting]
            self.kept_dead = kept_dead.id
        assert self.waiting, "some deliveries still wait for their first attempt"

    @staticmethod
    def _attempt(session, delivery, status, outcome) -> None:
        session.add(
            DeliveryAttempt(
                delivery_id=delivery.id,
                attempted_at=utcnow(),
                duration_ms=12.0,
                http_status=status,
                outcome=outcome,
                dispatcher="dispatcher-1",
            )
        )

    def deliveries(self, headers, path) -> dict[int, dict]:
        listed = self.client.get(f"{path}?limit=200", headers=headers).json["items"]
        return {item["id"]: item for item in listed}


@pytest.fixture
def world(backend_app) -> World:
    return World(backend_app)


def test_a_deleted_endpoints_deliveries_stay_on_record_and_pending_ones_end_as_dead_letters(world):
    before = world.deliveries(world.operator, "/admin/v1/deliveries")
    deleted = world.client.delete(f"/admin/v1/webhook-endpoints/{world.gone}", headers=world.operator)
    assert deleted.status_code == 204

    for headers, path in ((world.operator, "/admin/v1/deliveries"), (world.partner, "/v1/deliveries")):
        after = world.deliveries(headers, path)
        assert set(after) == set(before), "no delivery vanished"
        assert after[world.delivered]["status"] == "delivered" and after[world.dead]["last_error"] == "HTTP 422"
        for ended in (world.leased, *world.waiting):
            assert after[ended]["status"] == "dead" and after[ended]["finished_at"] is not None
            assert after[ended]["last_error"].startswith("The endpoint was deleted on ")
            assert after[ended]["endpoint_id"] == world.gone
        kept = [item for item in after.values() if item["endpoint_id"] == world.kept and item["id"] != world.kept_dead]
        assert kept and all(item["status"] == "pending" for item in kept)  # the other endpoint's are untouched
    for headers, path in ((world.operator, "/admin/v1/deliveries"), (world.partner, "/v1/deliveries")):
        for delivery, status in ((world.delivered, 204), (world.dead, 422), (world.leased, 503)):
            detail = world.client.get(f"{path}/{delivery}", headers=headers).json
            assert [attempt["http_status"] for attempt in detail["attempt_log"]] == [status]
    dead_letters = world.client.get("/v1/deliveries?status=dead&limit=200", headers=world.partner).json["items"]
    assert {item["id"] for item in dead_letters} == {world.dead, world.leased, *world.waiting, world.kept_dead}

    with world.store.read() as session:
        endpoint = session.get(WebhookEndpoint, world.gone)
        assert endpoint.status == "deleted" and endpoint.deleted_at is not None
        assert endpoint.secret == "" and endpoint.previous_secret is None  # nothing will be signed with it
        leased = session.get(Delivery, world.leased)
        assert leased.lease_owner is None  # the dispatcher sending it cannot move it on (its attempt is recorded)


def test_a_deleted_endpoint_is_gone_from_every_endpoint_operation_and_gets_no_new_events(world):
    world.client.delete(f"/admin/v1/webhook-endpoints/{world.gone}", headers=world.operator)

    for headers, path in ((world.operator, "/admin/v1/partners/nordlink"), (world.partner, "/v1")):
        listed = world.client.get(f"{path}/webhook-endpoints", headers=headers).json["items"]
        assert [endpoint["id"] for endpoint in listed] == [world.kept]
    assert world.client.get(f"/v1/webhook-endpoints/{world.gone}", headers=world.partner).status_code == 404
    for action in ("rotate-secret", "enable"):
        refused = world.client.post(f"/admin/v1/webhook-endpoints/{world.gone}/{action}", headers=world.operator)
        assert refused.status_code == 404
    assert world.client.delete(f"/admin/v1/webhook-endpoints/{world.gone}", headers=world.operator).status_code == 404

    with world.store.transaction() as session:
        later = add_subscription(session, "nordlink", "e").id
    publish_all(world.store)
    with world.store.read() as session:
        fanned_out = session.scalars(select(Delivery.endpoint_id).where(Delivery.subscription_id == later)).all()
    assert fanned_out and set(fanned_out) == {world.kept}


def test_a_dead_letter_of_a_deleted_endpoint_is_not_replayed(world):
    world.client.delete(f"/admin/v1/webhook-endpoints/{world.gone}", headers=world.operator)

    for url, headers in (
        (f"/admin/v1/deliveries/{world.dead}/replay", world.operator),
        (f"/v1/deliveries/{world.leased}/redeliver", world.partner),
    ):
        refused = world.client.post(url, headers=headers)
        assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
        assert refused.json["type"] == "/problems/conflict" and "was deleted on" in refused.json["detail"]
    replayed = world.client.post("/admin/v1/deliveries/replay", json={"partner": "nordlink"}, headers=world.operator)
    assert replayed.json == {"replayed": 1}  # only the other endpoint's dead letter
    with world.store.read() as session:
        assert session.get(Delivery, world.kept_dead).status == "pending"
        gone = session.scalars(select(Delivery.status).where(Delivery.endpoint_id == world.gone)).all()
    assert "pending" not in gone


def test_deleting_waits_for_a_publisher_fanning_out_to_the_endpoint(world, database):
    """On PostgreSQL a publisher may be fanning an event out to the endpoint while it is deleted: the deletion
    waits for the publishers' lock, so that delivery, committed first, ends as a dead letter too instead of
    waiting for good for an endpoint nothing sends to."""
    if database.backend != "postgres":
        pytest.skip("SQLite has one writer at a time: a publisher and a deletion cannot overlap")
    with world.store.transaction() as session:
        late = add_subscription(session, "nordlink", "late").id  # its events are not published yet
    publisher = world.store.engine.connect()
    publishing = Session(bind=publisher)
    while publish_events(publishing, utcnow()) == 0:  # then it holds the lock until it commits
        publishing.rollback()  # another test's publisher had the lock (taken per database): try again
        time.sleep(0.05)

    done = threading.Event()

    def delete() -> None:
        with world.store.transaction() as session:
            partner_service.remove_endpoint(session, world.gone, now=utcnow())
        done.set()

    deleting = threading.Thread(target=delete)
    deleting.start()
    try:
        assert not done.wait(1.0), "the deletion waits while a publisher holds the lock"
    finally:
        publishing.commit()
        publishing.close()
        publisher.close()
        deleting.join(10)
    assert done.is_set()
    with world.store.read() as session:
        fanned_out = session.scalars(
            select(Delivery).where(Delivery.subscription_id == late, Delivery.endpoint_id == world.gone)
        ).all()
    assert fanned_out and all(delivery.status == "dead" for delivery in fanned_out)
