"""The inactivity program over HTTP: campaign jobs for operators, the warning on the subscription, keeping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from gateway.domain.clock import utcnow
from gateway.domain.inactivity import MarketPolicies
from gateway.domain.keys import KeyKind
from gateway.domain.periods import add_months
from gateway.services.campaigns import CampaignSettings
from gateway.services.scheduler import run_due_transitions
from gateway.store.models import OutboxEvent, Subscription
from tests.support.api import app_store, bearer
from tests.support.seeding import add_subscription


@pytest.fixture
def world(app, seed):
    seed.partner("rheinfunk", markets=["DE"], locale="de-DE")
    seed.partner("other", markets=["DE"])
    store = app_store(app)
    long_ago = add_months(utcnow(), -30)
    with store.transaction() as session:
        inactive = add_subscription(session, "rheinfunk", "sleepy", now=long_ago)
        watching = add_subscription(session, "rheinfunk", "busy", now=long_ago)
        watching.last_viewed_at = utcnow() - timedelta(days=3)
        foreign = add_subscription(session, "other", "theirs", now=long_ago)
    return {
        "operator": bearer(seed.token(KeyKind.OPERATOR)),
        "partner": bearer(seed.token(KeyKind.PARTNER, "rheinfunk")),
        "service": bearer(seed.token(KeyKind.SERVICE)),
        "inactive": inactive.id,
        "watching": watching.id,
        "foreign": foreign.id,
    }


def run_scheduler(app):
    run_due_transitions(app_store(app), now=utcnow(), campaigns=CampaignSettings(MarketPolicies()))


def test_a_dry_run_is_a_completed_job_with_counts_by_partner_and_market(client, world):
    response = client.post("/admin/v1/campaigns", json={"kind": "inactivity"}, headers=world["operator"])
    assert response.status_code == 201, response.json
    body = response.json
    assert body["dry_run"] is True and body["status"] == "completed"
    assert body["candidates"] == 2 and body["warned"] == 0
    assert body["counts"] == [
        {"partner": "other", "market": "DE", "members": 1},
        {"partner": "rheinfunk", "market": "DE", "members": 1},
    ]
    assert response.headers["Location"].endswith(f"/admin/v1/campaigns/{body['id']}")
    shown = client.get(response.headers["Location"], headers=world["operator"])
    assert shown.status_code == 200 and shown.json == body


@pytest.mark.parametrize("dry_run", [0, 0.0, 1, "false", "no", None])
def test_dry_run_takes_true_or_false_and_nothing_else(client, world, dry_run):
    """0 or "no" read as false would start a real campaign that warns members: only JSON's own booleans."""
    body = {"kind": "inactivity", "dry_run": dry_run}
    response = client.post("/admin/v1/campaigns", json=body, headers=world["operator"])
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert [error["field"] for error in response.json["errors"]] == ["dry_run"]


def test_a_real_run_waits_for_the_scheduler_then_shows_its_progress(app, client, world):
    created = client.post(
        "/admin/v1/campaigns", json={"kind": "inactivity", "dry_run": False}, headers=world["operator"]
    ).json
    assert created["status"] == "pending" and created["warned"] == 0 and created["started_at"] is None
    run_scheduler(app)
    finished = client.get(f"/admin/v1/campaigns/{created['id']}", headers=world["operator"]).json
    assert finished["status"] == "completed" and finished["warned"] == 2 == finished["candidates"]
    assert finished["finished_at"] is not None
    listed = client.get("/admin/v1/campaigns?limit=1", headers=world["operator"]).json
    assert [item["id"] for item in listed["items"]] == [created["id"]] and listed["next_cursor"] is None


def test_the_partner_sees_the_warning_and_keeps_the_membership(app, client, world):
    client.post("/admin/v1/campaigns", json={"kind": "inactivity", "dry_run": False}, headers=world["operator"])
    run_scheduler(app)
    url = f"/v1/subscriptions/{world['inactive']}"
    warned = client.get(url, headers=world["partner"])
    warning = warned.json["inactivity_warning"]
    assert warning is not None and warning["respond_by"] > warning["warned_at"]
    assert "keep" in warned.json["allowed_actions"]
    assert (
        client.get(f"/v1/subscriptions/{world['watching']}", headers=world["partner"]).json["inactivity_warning"]
        is None
    )

    stale = client.post(f"{url}/keep", json={}, headers={**world["partner"], "If-Match": '"v1"'})
    assert stale.status_code == 412
    kept = client.post(f"{url}/keep", json={}, headers={**world["partner"], "If-Match": warned.headers["ETag"]})
    assert kept.status_code == 200, kept.json
    assert kept.json["inactivity_warning"] is None and "keep" not in kept.json["allowed_actions"]
    assert kept.json["status"] == "active"

    again = client.post(f"{url}/keep", json={}, headers=world["partner"])
    assert again.status_code == 409
    assert again.content_type == "application/problem+json"
    assert again.json["current_status"] == "active" and "confirm_keep" not in again.json["allowed_transitions"]
    assert "without an open inactivity warning" in again.json["detail"]

    with app_store(app).read() as session:
        events = [
            (event.event_type, event.payload["data"]["reason"])
            for event in session.scalars(
                select(OutboxEvent).where(OutboxEvent.subscription_id == world["inactive"]).order_by(OutboxEvent.id)
            )
        ]
    assert events[-2:] == [
        ("account.inactivity_warning", "inactivity"),
        ("account.keep_confirmed", "partner_confirmed"),
    ]


def test_the_service_keeps_for_the_member_and_another_partner_cannot(app, client, world):
    client.post("/admin/v1/campaigns", json={"kind": "inactivity", "dry_run": False}, headers=world["operator"])
    run_scheduler(app)
    foreign = client.post(f"/v1/subscriptions/{world['foreign']}/keep", json={}, headers=world["partner"])
    assert foreign.status_code == 404
    kept = client.post(f"/v1/service/subscriptions/{world['foreign']}/keep", json={}, headers=world["service"])
    assert kept.status_code == 200 and kept.json["inactivity_warning"] is None
    with app_store(app).read() as session:
        assert session.get(Subscription, world["foreign"]).inactivity_respond_by is None


def test_a_campaign_request_with_bad_input_is_a_problem(client, world):
    response = client.post("/admin/v1/campaigns", json={"kind": "sharing"}, headers=world["operator"])
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    assert [error["field"] for error in response.json["errors"]] == ["kind"]
    unknown = client.get("/admin/v1/campaigns/cmp_missing", headers=world["operator"])
    assert unknown.status_code == 404
    assert client.get("/admin/v1/campaigns", headers=world["partner"]).status_code == 403
