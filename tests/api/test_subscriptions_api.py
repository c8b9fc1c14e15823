"""Bundled subscriptions over HTTP: the partner's and the service's side, ETags, idempotency and the outbox."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from gateway import create_app
from gateway.api.shared import subscription_actions
from gateway.domain.clock import utcnow
from gateway.domain.keys import KeyKind, Scope
from gateway.domain.lifecycle import Actor, Command
from gateway.services import subscriptions as subscription_service
from gateway.services.scheduler import run_due_transitions
from gateway.store.models import Base, OutboxEvent, Subscription
from tests.support.api import app_store, bearer
from tests.support.event_validation import check_stored_events

NEW = {"partner_ref": "cust-1", "plan": "standard", "market": "DE", "billing_anchor": "2026-01-15"}


@pytest.fixture
def partner(seed):
    seed.partner("nordlink", markets=["DE", "AT"], locale="de-DE")
    return bearer(seed.token(KeyKind.PARTNER, "nordlink"))


@pytest.fixture
def service(seed):
    return bearer(seed.token(KeyKind.SERVICE))


def create(client, partner, **overrides):
    response = client.post("/v1/subscriptions", json={**NEW, **overrides}, headers=partner)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def activate(client, service, subscription, member_id="member-1"):
    code = subscription["activation"]["code"]
    response = client.post("/v1/service/activations", json={"code": code, "member_id": member_id}, headers=service)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def watched(after: timedelta = timedelta(0)) -> str:
    """A viewing time `after` now: the subscriptions of a test join at the real now, before it is called."""
    return (utcnow() + after).isoformat()


def events(app, subscription_id):
    with app_store(app).read() as session:
        query = select(OutboxEvent).where(OutboxEvent.subscription_id == subscription_id).order_by(OutboxEvent.id)
        return [event.payload for event in session.scalars(query)]


def test_create_returns_the_subscription_with_an_activation_code(client, partner):
    response = client.post("/v1/subscriptions", json=NEW, headers=partner)
    assert response.status_code == 201
    body = response.json
    assert body["status"] == "pending_activation"
    assert body["locale"] == "de-DE"  # the partner's default
    assert body["allowed_actions"] == ["cancel"]
    assert len(body["activation"]["code"]) == 14 and body["activation"]["code"] in body["activation"]["url"]
    expires = datetime.fromisoformat(body["activation"]["expires_at"])
    assert timedelta(days=29, hours=23) < expires - utcnow() <= timedelta(days=30)
    assert response.headers["ETag"] == '"v1"'
    assert response.headers["Location"] == f"/v1/subscriptions/{body['id']}"
    assert client.get(response.headers["Location"], headers=partner).json == body


def test_each_api_names_its_own_callers_actions(client, partner, service):
    subscription = create(client, partner)
    partner_path = f"/v1/subscriptions/{subscription['id']}"
    service_path = f"/v1/service/subscriptions/{subscription['id']}"
    activated = activate(client, service, subscription)  # the service's own answer
    assert activated["allowed_actions"] == ["cancel", "change-plan"]
    assert client.get(partner_path, headers=partner).json["allowed_actions"] == ["cancel", "change-plan", "suspend"]

    scheduled = client.post(f"{partner_path}/cancel", json={}, headers=partner).json
    assert scheduled["allowed_actions"] == ["cancel", "revert-cancellation"]  # the partner bills: it reverts
    cancelled = client.post(
        f"{partner_path}/cancel", json={"when": "immediately", "reason": "partner_churn"}, headers=partner
    ).json
    assert cancelled["allowed_actions"] == []
    assert client.get(service_path, headers=service).json["allowed_actions"] == ["rejoin"]


def test_the_activation_window_is_a_setting(tmp_path, sqlite_database, seed):
    # A second app on the store the `seed` fixture's app has migrated, with a window of its own.
    app = create_app(
        {"INSTANCE_PATH": str(tmp_path / "seven"), "ACTIVATION_WINDOW_DAYS": 7, **sqlite_database.settings()}
    )
    partner = bearer(seed.token(KeyKind.PARTNER, seed.partner("nordlink", markets=["DE"])))
    try:
        body = app.test_client().post("/v1/subscriptions", json=NEW, headers=partner).json
        expires = datetime.fromisoformat(body["activation"]["expires_at"])
        assert timedelta(days=6, hours=23) < expires - utcnow() <= timedelta(days=7)
        report = run_due_transitions(app_store(app), now=expires)
        assert report.counts["activation_expired"] == 1
        expired = app.test_client().get(f"/v1/subscriptions/{body['id']}", headers=partner).json
        assert (expired["status"], expired["status_reason"]) == ("cancelled", "activation_expired")
    finally:
        app_store(app).dispose()


def test_a_partner_ref_is_unique_per_partner(client, partner, seed):
    create(client, partner)
    assert client.post("/v1/subscriptions", json=NEW, headers=partner).status_code == 409
    seed.partner("other", markets=["DE"])
    other = bearer(seed.token(KeyKind.PARTNER, "other"))
    assert client.post("/v1/subscriptions", json=NEW, headers=other).status_code == 201


def test_a_market_the_partner_does_not_sell_in_is_refused(client, partner):
    response = client.post("/v1/subscriptions", json={**NEW, "market": "FR"}, headers=partner)
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "market"


def test_listing_filters_by_partner_ref_and_status_and_pages(client, partner, service):
    made = [create(client, partner, partner_ref=f"cust-{index}") for index in range(5)]
    activate(client, service, made[1])
    by_ref = client.get("/v1/subscriptions?partner_ref=cust-3", headers=partner).json["items"]
    assert [item["id"] for item in by_ref] == [made[3]["id"]]
    active = client.get("/v1/subscriptions?status=active", headers=partner).json["items"]
    assert [item["id"] for item in active] == [made[1]["id"]]
    first = client.get("/v1/subscriptions?limit=3", headers=partner).json
    rest = client.get(f"/v1/subscriptions?limit=3&cursor={first['next_cursor']}", headers=partner).json
    assert [item["id"] for item in first["items"] + rest["items"]] == [item["id"] for item in made]
    assert rest["next_cursor"] is None


def test_the_member_activates_and_the_partner_learns_of_it(app, client, partner, service):
    subscription = create(client, partner)
    active = activate(client, service, subscription)
    assert active["status"] == "active" and active["activation"] is None
    assert active["allowed_actions"] == ["cancel", "change-plan"]  # the service's (for the member or itself)
    partners_view = client.get(f"/v1/subscriptions/{subscription['id']}", headers=partner).json
    assert partners_view["allowed_actions"] == ["cancel", "change-plan", "suspend"]
    [event] = events(app, subscription["id"])
    assert event["type"] == "subscription.activated"
    assert event["sequence"] == 1
    assert event["subscription"] == {"id": subscription["id"], "partner_ref": "cust-1"}
    assert event["data"]["actor"] == "service" and event["data"]["reason"] == "account_linked"
    assert "member_id" not in event["data"]  # the partner gets no member identifiers
    again = client.post(
        "/v1/service/activations", json={"code": subscription["activation"]["code"], "member_id": "x"}, headers=service
    )
    assert again.status_code == 404  # a used code is gone


def test_suspend_and_resume_with_history(client, partner, service):
    started = utcnow()
    subscription = activate(client, service, create(client, partner))
    suspended = client.post(f"/v1/subscriptions/{subscription['id']}/suspend", json={}, headers=partner).json
    assert suspended["status"] == "suspended" and suspended["status_reason"] == "non_payment"
    resumed = client.post(f"/v1/subscriptions/{subscription['id']}/resume", headers=partner).json
    assert resumed["status"] == "active"
    history = client.get(f"/v1/subscriptions/{subscription['id']}/history", headers=partner).json["items"]
    assert [(entry["from_status"], entry["to_status"], entry["actor"]) for entry in history] == [
        (None, "pending_activation", "partner"),
        ("pending_activation", "active", "service"),
        ("active", "suspended", "partner"),
        ("suspended", "active", "partner"),
    ]
    assert [entry["sequence"] for entry in history] == [0, 1, 2, 3]
    assert [entry["reason"] for entry in history] == ["created", "account_linked", "non_payment", "payment_recovered"]
    times = [datetime.fromisoformat(entry["occurred_at"]) for entry in history]
    assert started <= times[0] and times == sorted(times) and times[-1] <= utcnow()


def test_the_history_names_the_console_agent_who_made_a_change_and_null_for_the_others(app, client, partner, service):
    subscription = activate(client, service, create(client, partner))
    with app_store(app).transaction() as session:  # as the agent console runs a partner action (console.actions)
        row = session.get(Subscription, subscription["id"])
        subscription_service.apply_command(
            session, row, Command.SUSPEND, actor=Actor.PARTNER, reason="non_payment", now=utcnow(), agent="Ana (7)"
        )
    client.post(f"/v1/subscriptions/{subscription['id']}/resume", headers=partner)  # over the API: no agent

    history = client.get(f"/v1/subscriptions/{subscription['id']}/history", headers=partner).json["items"]

    assert [(entry["to_status"], entry["agent"]) for entry in history] == [
        ("pending_activation", None),
        ("active", None),
        ("suspended", "Ana (7)"),
        ("active", None),
    ]
    assert all("details" not in entry for entry in history)  # the rest of the entry's details stays the gateway's


def test_an_invalid_transition_is_a_409_naming_the_state_and_what_this_partner_may_do(client, partner):
    subscription = create(client, partner)
    response = client.post(f"/v1/subscriptions/{subscription['id']}/resume", headers=partner)
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.json["current_status"] == "pending_activation"
    # the partner's own actions, named as in its paths and in the representation's allowed_actions: not the
    # service's activation, nor the scheduler's expiry
    assert response.json["allowed_transitions"] == ["cancel"] == subscription["allowed_actions"]
    assert response.json["detail"] == "Cannot resume a subscription that is pending_activation; allowed: cancel."


def test_an_invalid_transition_on_the_service_api_names_the_services_own_actions(client, partner, service):
    subscription = activate(client, service, create(client, partner, billed_by="service"))
    path = f"/v1/service/subscriptions/{subscription['id']}"
    response = client.post(f"{path}/rejoin", headers=service)
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert response.json["current_status"] == "active"
    assert response.json["allowed_transitions"] == ["cancel", "change-plan"]  # no partner's suspend, no scheduler's
    assert response.json["detail"] == "Cannot rejoin a subscription that is active; allowed: cancel, change-plan."
    client.post(f"{path}/cancel", json={}, headers=service)
    again = client.post(f"{path}/cancel", json={}, headers=service)
    assert again.status_code == 409
    assert again.json["current_status"] == "cancellation_scheduled"
    assert again.json["allowed_transitions"] == ["cancel", "revert-cancellation"]  # cancelling at once still is


def test_if_match_guards_actions(client, partner, service):
    subscription = create(client, partner)
    stale = client.get(f"/v1/subscriptions/{subscription['id']}", headers=partner).headers["ETag"]
    activate(client, service, subscription)
    refused = client.post(
        f"/v1/subscriptions/{subscription['id']}/suspend", json={}, headers={**partner, "If-Match": stale}
    )
    assert refused.status_code == 412
    current = client.get(f"/v1/subscriptions/{subscription['id']}", headers=partner)
    assert current.json["status"] == "active"
    accepted = client.post(
        f"/v1/subscriptions/{subscription['id']}/suspend",
        json={},
        headers={**partner, "If-Match": current.headers["ETag"]},
    )
    assert accepted.status_code == 200 and accepted.headers["ETag"] != current.headers["ETag"]


def test_every_representation_carries_its_etag_also_in_a_list(client, partner, service):
    subscription = activate(client, service, create(client, partner))
    header = client.get(f"/v1/subscriptions/{subscription['id']}", headers=partner).headers["ETag"]
    listed = client.get("/v1/subscriptions", query_string={"partner_ref": subscription["partner_ref"]}, headers=partner)
    (item,) = listed.json["items"]
    assert item["etag"] == header == subscription["etag"]
    # What a list gives is good for If-Match, like the header.
    suspended = client.post(
        f"/v1/subscriptions/{subscription['id']}/suspend", json={}, headers={**partner, "If-Match": item["etag"]}
    )
    assert suspended.status_code == 200 and suspended.json["etag"] == suspended.headers["ETag"] != header


def test_a_viewing_report_leaves_the_etag_so_a_partners_if_match_still_holds(client, partner, service):
    subscription = activate(client, service, create(client, partner))
    before = client.get(f"/v1/subscriptions/{subscription['id']}", headers=partner).headers["ETag"]
    viewed = [{"subscription_id": subscription["id"], "last_viewed_at": watched()}]
    assert client.post("/v1/service/activity", json={"items": viewed}, headers=service).json["updated"] == 1
    after = client.get(f"/v1/subscriptions/{subscription['id']}", headers=partner)
    assert after.json["last_viewed_at"] and after.headers["ETag"] == before
    suspended = client.post(
        f"/v1/subscriptions/{subscription['id']}/suspend", json={}, headers={**partner, "If-Match": before}
    )
    assert suspended.status_code == 200 and suspended.headers["ETag"] != before


def test_a_viewing_that_answers_a_warning_is_a_change_and_moves_the_etag(app, client, partner, service):
    subscription = activate(client, service, create(client, partner))
    path = f"/v1/subscriptions/{subscription['id']}"
    with app_store(app).transaction() as session:
        row = session.get(Subscription, subscription["id"])
        row.inactivity_warned_at, row.inactivity_respond_by = (
            utcnow() - timedelta(days=1),
            utcnow() + timedelta(days=13),
        )
        row.version += 1  # as the campaign does when it warns
    warned = client.get(path, headers=partner)
    viewed = [{"subscription_id": subscription["id"], "last_viewed_at": watched()}]
    assert client.post("/v1/service/activity", json={"items": viewed}, headers=service).json["updated"] == 1
    kept = client.get(path, headers=partner)
    assert kept.json["inactivity_warning"] is None and kept.headers["ETag"] != warned.headers["ETag"]
    stale = client.post(f"{path}/suspend", json={}, headers={**partner, "If-Match": warned.headers["ETag"]})
    assert stale.status_code == 412


def test_if_match_guards_the_service_actions_too(client, partner, service):
    subscription = activate(client, service, create(client, partner, billed_by="service"))
    path = f"/v1/service/subscriptions/{subscription['id']}"
    stale = subscription["etag"]
    upgraded = client.post(f"{path}/change-plan", json={"plan": "premium"}, headers=service)
    assert upgraded.status_code == 200
    refused = client.post(f"{path}/cancel", json={}, headers={**service, "If-Match": stale})
    assert refused.status_code == 412
    current = client.get(f"/v1/subscriptions/{subscription['id']}", headers=partner)
    assert current.json["status"] == "active"  # the refused cancellation changed nothing
    accepted = client.post(f"{path}/cancel", json={}, headers={**service, "If-Match": current.headers["ETag"]})
    assert accepted.status_code == 200 and accepted.json["etag"] != current.headers["ETag"]


def test_an_upgrade_applies_at_once_and_a_downgrade_at_the_period_end(app, client, partner, service):
    subscription = activate(client, service, create(client, partner, billing_anchor=utcnow().date().isoformat()))
    upgraded = client.post(
        f"/v1/subscriptions/{subscription['id']}/change-plan", json={"plan": "premium"}, headers=partner
    )
    assert upgraded.json["plan"] == "premium" and upgraded.json["scheduled_plan_change"] is None
    downgraded = client.post(
        f"/v1/subscriptions/{subscription['id']}/change-plan", json={"plan": "standard_with_ads"}, headers=partner
    ).json
    assert downgraded["plan"] == "premium"
    effective = datetime.fromisoformat(downgraded["scheduled_plan_change"]["effective_at"])
    assert utcnow() < effective <= utcnow() + timedelta(days=31)
    plan_events = [event for event in events(app, subscription["id"]) if event["type"] == "subscription.plan_changed"]
    assert [(e["data"]["change"], e["data"]["plan"]) for e in plan_events] == [
        ("upgrade", "premium"),
        ("downgrade", "standard_with_ads"),
    ]
    assert plan_events[1]["data"]["effective_at"] == effective.isoformat()

    run_due_transitions(app_store(app), now=effective - timedelta(seconds=1))
    assert client.get(f"/v1/subscriptions/{subscription['id']}", headers=partner).json["plan"] == "premium"
    run_due_transitions(app_store(app), now=effective)
    after = client.get(f"/v1/subscriptions/{subscription['id']}", headers=partner).json
    assert after["plan"] == "standard_with_ads" and after["scheduled_plan_change"] is None
    # the downgrade taking hold is a change of its own: its event carries the sequence number it took
    applied = events(app, subscription["id"])[-1]
    assert applied["type"] == "subscription.plan_changed" and applied["sequence"] == after["sequence"] == 4
    assert [event["sequence"] for event in events(app, subscription["id"])] == [1, 2, 3, 4]
    assert {name: applied["data"][name] for name in ("actor", "reason", "change", "plan", "previous_plan")} == {
        "actor": "scheduler",
        "reason": "billing_period_ended",
        "change": "downgrade",
        "plan": "standard_with_ads",
        "previous_plan": "premium",
    }
    assert applied["data"]["effective_at"] == effective.isoformat()
    assert applied["data"]["status"] == applied["data"]["previous_status"] == "active"
    history = client.get(f"/v1/subscriptions/{subscription['id']}/history", headers=partner).json["items"]
    assert (history[-1]["command"], history[-1]["actor"], history[-1]["sequence"]) == (
        "apply_downgrade",
        "scheduler",
        4,
    )
    same = client.post(
        f"/v1/subscriptions/{subscription['id']}/change-plan", json={"plan": "standard_with_ads"}, headers=partner
    )
    # The plan it is on is a matter of the subscription's state, not of the input: a 409 like other refusals.
    assert same.status_code == 409
    assert same.json["detail"] == (
        "Cannot change the plan of a subscription that is active: it is already on the standard_with_ads plan; "
        "allowed: cancel, suspend."
    )
    assert same.json["current_status"] == "active"


def test_a_plan_change_refused_by_the_state_reads_as_english_whatever_the_plan(client, partner, service):
    subscription = activate(client, service, create(client, partner))
    path = f"/v1/subscriptions/{subscription['id']}"
    client.post(f"{path}/suspend", json={"reason": "non_payment"}, headers=partner)

    for plan in ("premium", subscription["plan"]):  # another plan, and the one it is on: the state decides
        refused = client.post(f"{path}/change-plan", json={"plan": plan}, headers=partner)
        assert refused.status_code == 409
        assert refused.json["detail"] == (
            "Cannot change the plan of a subscription that is suspended; allowed: cancel, resume."
        )
    reverted = client.post(f"{path}/revert-cancellation", headers=partner)
    assert reverted.json["detail"].startswith("Cannot revert the cancellation of a subscription that is suspended")


def test_the_contract_marks_a_body_optional_where_an_empty_post_is_accepted(app, client, partner, service):
    contract = client.get("/openapi.json").json
    cancel = contract["paths"]["/v1/subscriptions/{subscription_id}/cancel"]["post"]["requestBody"]
    assert cancel["required"] is False
    create_body = contract["paths"]["/v1/subscriptions"]["post"]["requestBody"]
    assert create_body["required"] is True  # partner_ref, plan, market are required: no empty create

    subscription = activate(client, service, create(client, partner))
    empty = client.post(f"/v1/subscriptions/{subscription['id']}/cancel", headers=partner)  # no body at all
    assert empty.status_code == 200 and empty.json["status"] == "cancellation_scheduled"


def test_cancel_at_period_end_keeps_access_then_the_scheduler_cancels(app, client, partner, service):
    subscription = activate(client, service, create(client, partner))
    scheduled = client.post(f"/v1/subscriptions/{subscription['id']}/cancel", json={}, headers=partner).json
    assert scheduled["status"] == "cancellation_scheduled"
    access_until = datetime.fromisoformat(scheduled["access_until"])
    assert access_until.day == 15 and access_until > utcnow()
    run_due_transitions(app_store(app), now=access_until - timedelta(minutes=1))
    assert (
        client.get(f"/v1/subscriptions/{subscription['id']}", headers=partner).json["status"]
        == "cancellation_scheduled"
    )
    run_due_transitions(app_store(app), now=access_until)
    cancelled = client.get(f"/v1/subscriptions/{subscription['id']}", headers=partner).json
    assert cancelled["status"] == "cancelled" and cancelled["status_reason"] == "billing_period_ended"
    last = events(app, subscription["id"])[-1]
    assert last["type"] == "subscription.cancelled" and last["data"]["billing_stop_at"] == access_until.isoformat()
    assert last["data"]["actor"] == "scheduler"


def test_the_member_is_sent_a_confirmation_when_cancelling_and_when_it_takes_effect(app, client, partner, seed):
    """Issue 22, item 2 (seed 004): the FAQ promises a confirmation; both events carry the member's text, in the
    member's language, and the agent sees it in the lookup."""
    service = bearer(seed.token(KeyKind.SERVICE))
    subscription = activate(client, service, create(client, partner, locale="fr-FR"))
    scheduled = client.post(f"/v1/subscriptions/{subscription['id']}/cancel", json={}, headers=partner).json
    access_until = datetime.fromisoformat(scheduled["access_until"])

    [confirmed] = [event for event in events(app, subscription["id"]) if event["type"].endswith("_scheduled")]
    assert confirmed["data"]["notice"]["locale"] == "fr"
    assert confirmed["data"]["notice"]["subject"] == "Votre résiliation Streamly est confirmée"
    assert "Rheinfunk" not in confirmed["data"]["notice"]["body"]  # this partner is Nordlink
    run_due_transitions(app_store(app), now=access_until)
    ended = events(app, subscription["id"])[-1]
    assert ended["data"]["reason"] == "billing_period_ended"
    assert ended["data"]["notice"]["subject"] == "Votre abonnement Streamly a pris fin"
    agent = bearer(seed.token(KeyKind.PARTNER, "nordlink", scopes={"callcenter"}))
    lookup = client.get("/v1/callcenter/lookup", query_string={"partner_ref": "cust-1"}, headers=agent).json
    assert [notice["subject"] for notice in lookup["notices"]][:2] == [
        "Votre abonnement Streamly a pris fin",
        "Votre résiliation Streamly est confirmée",
    ]


def test_a_service_billed_member_cancels_and_reverts_in_the_app(client, partner, service):
    subscription = activate(client, service, create(client, partner, billed_by="service"))
    path = f"/v1/service/subscriptions/{subscription['id']}"
    scheduled = client.post(f"{path}/cancel", json={}, headers=service)
    assert scheduled.status_code == 200 and scheduled.json["status"] == "cancellation_scheduled"
    assert scheduled.json["allowed_actions"] == ["cancel", "revert-cancellation"]
    reverted = client.post(f"{path}/revert-cancellation", headers=service)
    assert reverted.json["status"] == "active" and reverted.json["access_until"] is None


def test_a_partner_billed_member_cancels_with_the_partner_not_in_the_app(app, client, partner, service):
    """Seed 004 and the FAQ: the app sends a member whose plan the partner bills to the partner. The service
    API refuses the member's cancellation there, and neither side offers the other's way."""
    subscription = activate(client, service, create(client, partner))
    partner_path, service_path = (f"/v1{prefix}/subscriptions/{subscription['id']}" for prefix in ("", "/service"))
    assert "cancel" in client.get(partner_path, headers=partner).json["allowed_actions"]

    in_app = client.post(f"{service_path}/cancel", json={}, headers=service)

    assert in_app.status_code == 409 and "cancels it, or keeps it, with the partner" in in_app.json["detail"]
    assert client.get(partner_path, headers=partner).json["status"] == "active"
    scheduled = client.post(f"{partner_path}/cancel", json={}, headers=partner).json
    assert scheduled["status"] == "cancellation_scheduled" and "revert-cancellation" in scheduled["allowed_actions"]
    service_view = client.get(service_path, headers=service).json
    assert "revert-cancellation" not in service_view["allowed_actions"]
    refused = client.post(f"{service_path}/revert-cancellation", headers=service)
    assert refused.status_code == 409 and "with the partner" in refused.json["detail"]
    assert [event["type"] for event in events(app, subscription["id"])][-1] == "subscription.cancellation_scheduled"


def test_a_partner_cannot_schedule_the_cancellation_of_a_plan_the_service_bills(client, partner, service):
    subscription = activate(client, service, create(client, partner, billed_by="service"))
    path = f"/v1/subscriptions/{subscription['id']}"

    relayed = client.post(f"{path}/cancel", json={}, headers=partner)

    assert relayed.status_code == 409 and "in the app" in relayed.json["detail"]
    # The partner's own reasons still end it at once.
    ended = client.post(f"{path}/cancel", json={"when": "immediately", "reason": "partner_churn"}, headers=partner)
    assert ended.json["status"] == "cancelled"


@pytest.mark.parametrize("caller", ["partner", "service"])
def test_a_cancellation_cannot_be_reverted_once_its_period_has_ended(
    app, client, partner, service, monkeypatch, caller
):
    """Between the period's end and the scheduler's next run the cancellation has taken effect already."""
    # Whoever bills the member takes the cancellation and its revert: the partner, or the service in the app.
    billed_by = "partner" if caller == "partner" else "service"
    headers, prefix = (partner, "/v1") if caller == "partner" else (service, "/v1/service")
    subscription = activate(client, service, create(client, partner, billed_by=billed_by))
    scheduled = client.post(f"{prefix}/subscriptions/{subscription['id']}/cancel", json={}, headers=headers).json
    access_until = datetime.fromisoformat(scheduled["access_until"])
    monkeypatch.setattr(subscription_actions, "utcnow", lambda: access_until + timedelta(seconds=1))

    refused = client.post(f"{prefix}/subscriptions/{subscription['id']}/revert-cancellation", headers=headers)

    assert refused.status_code == 409 and refused.json["current_status"] == "cancellation_scheduled"
    assert f"billing period ended at {access_until.isoformat()}" in refused.json["detail"]
    assert "revert-cancellation" not in refused.json["allowed_transitions"]
    assert events(app, subscription["id"])[-1]["type"] == "subscription.cancellation_scheduled"
    run_due_transitions(app_store(app), now=access_until + timedelta(seconds=1))
    cancelled = client.get(f"/v1/subscriptions/{subscription['id']}", headers=partner).json
    assert cancelled["status"] == "cancelled" and cancelled["status_reason"] == "billing_period_ended"


def test_an_immediate_cancellation_after_the_period_end_stops_billing_at_the_period_end(
    app, client, partner, service, monkeypatch
):
    subscription = activate(client, service, create(client, partner))
    path = f"/v1/subscriptions/{subscription['id']}"
    access_until = datetime.fromisoformat(client.post(f"{path}/cancel", json={}, headers=partner).json["access_until"])
    monkeypatch.setattr(subscription_actions, "utcnow", lambda: access_until + timedelta(hours=5))

    cancelled = client.post(f"{path}/cancel", json={"when": "immediately", "reason": "partner_churn"}, headers=partner)

    assert cancelled.status_code == 200 and cancelled.json["cancelled_at"] == access_until.isoformat()
    assert events(app, subscription["id"])[-1]["data"]["billing_stop_at"] == access_until.isoformat()


def test_immediate_cancellation_needs_a_partner_reason(client, partner, service):
    subscription = activate(client, service, create(client, partner))
    wrong = client.post(
        f"/v1/subscriptions/{subscription['id']}/cancel",
        json={"when": "period_end", "reason": "fraud"},
        headers=partner,
    )
    assert wrong.status_code == 422
    done = client.post(
        f"/v1/subscriptions/{subscription['id']}/cancel",
        json={"when": "immediately", "reason": "fraud"},
        headers=partner,
    ).json
    assert done["status"] == "cancelled" and done["status_reason"] == "fraud"


@pytest.mark.parametrize("status", ["active", "cancellation_scheduled"])
def test_a_members_request_never_ends_access_early_whoever_relays_it(app, client, partner, service, status):
    """Seed 004: the member cancels with the partner and keeps access until the billing period ends. Relayed
    as "immediately" by the partner (API or callback) or by the service, the request is refused, not applied."""
    subscription = activate(client, service, create(client, partner))
    path = f"/v1/subscriptions/{subscription['id']}"
    if status == "cancellation_scheduled":
        assert client.post(f"{path}/cancel", json={}, headers=partner).json["status"] == status
    before = client.get(path, headers=partner).json

    for relayed in (
        client.post(f"{path}/cancel", json={"when": "immediately", "reason": "member_request"}, headers=partner),
        client.post(
            f"/v1/service/subscriptions/{subscription['id']}/cancel",
            json={"when": "immediately", "reason": "member_request"},
            headers=service,
        ),
    ):
        assert relayed.status_code == 422, relayed.get_data(as_text=True)
        [error] = relayed.json["errors"]
        assert error["field"] == "reason" and "takes effect at the period end" in error["detail"]
    assert client.get(path, headers=partner).json == before
    assert [event["type"] for event in events(app, subscription["id"])][-1] == (
        "subscription.activated" if status == "active" else "subscription.cancellation_scheduled"
    )


def test_rejoin_within_the_window_restores_the_member_plan_and_locale_and_after_it_is_refused(
    app, client, partner, service
):
    subscription = activate(client, service, create(client, partner, plan="premium", locale="en-GB"), "member-9")
    closed = client.post(
        f"/v1/service/subscriptions/{subscription['id']}/cancel",
        json={"when": "immediately", "reason": "account_closed"},  # the member closed the streaming account
        headers=service,
    )
    assert closed.json["status"] == "cancelled"
    rejoined = client.post(f"/v1/service/subscriptions/{subscription['id']}/rejoin", headers=service)
    assert rejoined.status_code == 200 and rejoined.json["status"] == "active"
    assert (rejoined.json["plan"], rejoined.json["locale"]) == ("premium", "en-GB")
    assert rejoined.json["cancelled_at"] is None and rejoined.json["retention_until"] is None
    with app_store(app).read() as session:
        assert session.get(Subscription, subscription["id"]).member_id == "member-9"  # the same streaming account
    event = events(app, subscription["id"])[-1]
    assert event["type"] == "subscription.reactivated" and event["data"]["restored"] is True
    assert event["data"]["notice"]["locale"] == "en"  # the member's text in the member's language

    client.post(
        f"/v1/service/subscriptions/{subscription['id']}/cancel",
        json={"when": "immediately", "reason": "account_closed"},
        headers=service,
    )
    with app_store(app).transaction() as session:
        session.get(Subscription, subscription["id"]).retention_until = utcnow() - timedelta(seconds=1)
    before = len(events(app, subscription["id"]))
    late = client.post(f"/v1/service/subscriptions/{subscription['id']}/rejoin", headers=service)
    assert late.status_code == 409 and late.mimetype == "application/problem+json"
    assert "retention window" in late.json["detail"]
    assert late.json["current_status"] == "cancelled" and late.json["allowed_transitions"] == []
    assert len(events(app, subscription["id"])) == before


@pytest.mark.parametrize(
    ("caller", "reason", "why"),
    [
        ("partner", "fraud", "cancelled for fraud"),
        ("service", "fraud", "cancelled for fraud"),
        ("partner", "partner_churn", "the partner cancelled it for its own reasons (partner_churn)"),
        ("partner", "account_closed", "the partner cancelled it for its own reasons (account_closed)"),
    ],
)
def test_a_member_does_not_undo_a_cancellation_for_fraud_or_the_partners_own(
    app, client, partner, service, caller, reason, why
):
    """Issue 22, item 9: rejoining restores what the member left; what the partner ended, or fraud, stands."""
    subscription = activate(client, service, create(client, partner))
    prefix, headers = ("/v1", partner) if caller == "partner" else ("/v1/service", service)
    cancelled = client.post(
        f"{prefix}/subscriptions/{subscription['id']}/cancel",
        json={"when": "immediately", "reason": reason},
        headers=headers,
    )
    assert cancelled.json["status"] == "cancelled"

    refused = client.post(f"/v1/service/subscriptions/{subscription['id']}/rejoin", headers=service)

    assert refused.status_code == 409 and why in refused.json["detail"]
    assert "subscribes anew with the partner" in refused.json["detail"]
    assert events(app, subscription["id"])[-1]["type"] == "subscription.cancelled"
    looked_up = client.get(f"/v1/service/subscriptions/{subscription['id']}", headers=service).json
    assert looked_up["status"] == "cancelled"


def test_a_subscription_never_activated_cannot_be_rejoined(app, client, partner, service):
    subscription = create(client, partner)
    expires = datetime.fromisoformat(subscription["activation"]["expires_at"])
    run_due_transitions(app_store(app), now=expires)
    expired = client.get(f"/v1/subscriptions/{subscription['id']}", headers=partner).json
    assert expired["status"] == "cancelled" and expired["retention_until"] is not None  # within the window
    refused = client.post(f"/v1/service/subscriptions/{subscription['id']}/rejoin", headers=service)
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert refused.json["current_status"] == "cancelled" and refused.json["allowed_transitions"] == []
    assert "never activated" in refused.json["detail"]
    after = client.get(f"/v1/subscriptions/{subscription['id']}", headers=partner).json
    assert after == expired  # nothing changed
    assert [event["type"] for event in events(app, subscription["id"])] == ["subscription.cancelled"]


def test_purge_after_retention_removes_member_data_and_keeps_the_audit(app, client, partner, service):
    created = create(client, partner, locale="fr-FR")
    code = created["activation"]["code"]
    activation = {"code": code, "member_id": "member-purge-4711"}
    headers = {**service, "Idempotency-Key": "activate-purge"}  # its stored response goes with the key's TTL
    assert client.post("/v1/service/activations", json=activation, headers=headers).status_code == 200
    viewed = {"subscription_id": created["id"], "last_viewed_at": watched()}
    assert client.post("/v1/service/activity", json={"items": [viewed]}, headers=service).json["updated"] == 1
    cancelled = client.post(
        f"/v1/subscriptions/{created['id']}/cancel",
        json={"when": "immediately", "reason": "account_closed"},
        headers=partner,
    ).json
    retention_until = datetime.fromisoformat(cancelled["retention_until"])
    assert timedelta(days=300) < retention_until - utcnow() < timedelta(days=310)
    report = run_due_transitions(app_store(app), now=retention_until)
    assert report.counts["purged"] == 1
    shown = client.get(f"/v1/subscriptions/{created['id']}", headers=partner).json
    assert shown["status"] == "purged" and shown["locale"] == "de-DE"  # the partner's default, not the member's
    assert (shown["last_viewed_at"], shown["activated_at"], shown["activation"]) == (None, None, None)
    assert shown["inactivity_warning"] is None and shown["allowed_actions"] == []
    with app_store(app).read() as session:
        row = session.get(Subscription, created["id"])
        assert row.member_id is None and row.last_viewed_at is None and row.purged_at == retention_until
        stored = [
            (table.name, str(value))
            for table in Base.metadata.sorted_tables
            for found in session.execute(select(table)).all()
            for value in found
            if value is not None
        ]
    assert [table for table, text in stored if "member-purge-4711" in text] == []
    assert [table for table, text in stored if "20:17:43.654321" in text] == []
    assert [table for table, text in stored if "fr-FR" in text] == []
    history = client.get(f"/v1/subscriptions/{created['id']}/history", headers=partner).json["items"]
    assert history[-1]["to_status"] == "purged" and len(history) == 4
    purged = events(app, created["id"])[-1]
    assert purged["type"] == "subscription.purged" and purged["data"]["actor"] == "scheduler"

    # a late viewing report is not applied to the purged subscription
    again = client.post("/v1/service/activity", json={"items": [viewed]}, headers=service).json
    assert again == {"updated": 0, "unknown": [], "skipped": [created["id"]], "before_joining": []}
    assert client.get(f"/v1/subscriptions/{created['id']}", headers=partner).json == shown


def test_the_purge_reaches_the_events_the_feed_still_keeps(app, client, partner, service):
    """Issue 22, item 8: within the feed's retention, a purged member's events keep their shape but lose the
    member's texts and language (and any viewing time), as the escalations lose what agents wrote."""
    subscription = activate(client, service, create(client, partner, locale="fr-FR"))
    path = f"/v1/subscriptions/{subscription['id']}"
    access_until = datetime.fromisoformat(client.post(f"{path}/cancel", json={}, headers=partner).json["access_until"])
    run_due_transitions(app_store(app), now=access_until)
    retention_until = datetime.fromisoformat(client.get(path, headers=partner).json["retention_until"])
    assert any(event["data"].get("notice", {}).get("locale") == "fr" for event in events(app, subscription["id"]))

    run_due_transitions(app_store(app), now=retention_until, event_retention=timedelta(days=3650))

    kept = events(app, subscription["id"])
    assert kept[-1]["type"] == "subscription.purged"
    notices = [event["data"]["notice"] for event in kept if "notice" in event["data"]]
    assert len(notices) == 2  # the cancellation confirmed, and ended
    for notice in notices:
        assert notice == {
            "locale": "de-DE",
            "subject": "(removed with the member's data)",
            "body": "(removed with the member's data)",
            "sms": "(removed with the member's data)",
        }
    feed = client.get("/v1/events", headers=partner).json["items"]
    assert not [event for event in feed if event["data"].get("notice", {}).get("locale") == "fr"]
    check_stored_events(app_store(app).engine)


def test_an_unactivated_subscription_expires(app, client, partner):
    subscription = create(client, partner)
    expires = datetime.fromisoformat(subscription["activation"]["expires_at"])
    assert run_due_transitions(app_store(app), now=expires).counts["activation_expired"] == 1
    expired = client.get(f"/v1/subscriptions/{subscription['id']}", headers=partner).json
    assert expired["status"] == "cancelled" and expired["status_reason"] == "activation_expired"


def test_viewing_activity_in_bulk_keeps_the_latest_time(client, partner, service):
    first, second = (activate(client, service, create(client, partner, partner_ref=ref), ref) for ref in ("a", "b"))
    earlier, later = utcnow(), utcnow() + timedelta(minutes=1)
    items = [
        {"subscription_id": first["id"], "last_viewed_at": earlier.isoformat()},
        {"subscription_id": first["id"], "last_viewed_at": later.astimezone(timezone(timedelta(hours=1))).isoformat()},
        {"subscription_id": second["id"], "last_viewed_at": earlier.isoformat()},
        {"subscription_id": "sub_unknown", "last_viewed_at": earlier.isoformat()},
    ]
    result = client.post("/v1/service/activity", json={"items": items}, headers=service).json
    assert result == {"updated": 2, "unknown": ["sub_unknown"], "skipped": [], "before_joining": []}
    older = [{"subscription_id": first["id"], "last_viewed_at": earlier.isoformat()}]
    assert client.post("/v1/service/activity", json={"items": older}, headers=service).json["updated"] == 0
    seen = client.get(f"/v1/subscriptions/{first['id']}", headers=partner).json["last_viewed_at"]
    assert datetime.fromisoformat(seen) == later


def test_a_viewing_time_before_joining_is_not_stored_and_one_in_the_future_refuses_the_report(
    app, client, partner, service
):
    """Issue 22, item 4: a time before the member joined would make a new member look idle for as long (and
    be warned at once); a time in the future would hold back every true report after it."""
    subscription = activate(client, service, create(client, partner))
    joined = datetime.fromisoformat(subscription["activated_at"])
    before = [{"subscription_id": subscription["id"], "last_viewed_at": (joined - timedelta(days=730)).isoformat()}]

    result = client.post("/v1/service/activity", json={"items": before}, headers=service).json

    assert result == {"updated": 0, "unknown": [], "skipped": [], "before_joining": [subscription["id"]]}
    assert client.get(f"/v1/subscriptions/{subscription['id']}", headers=partner).json["last_viewed_at"] is None
    future = [
        {"subscription_id": subscription["id"], "last_viewed_at": watched()},
        {"subscription_id": subscription["id"], "last_viewed_at": watched(timedelta(days=365))},
    ]
    refused = client.post("/v1/service/activity", json={"items": future}, headers=service)
    assert refused.status_code == 422
    assert [error["field"] for error in refused.json["errors"]] == ["items.1.last_viewed_at"]
    assert client.get(f"/v1/subscriptions/{subscription['id']}", headers=partner).json["last_viewed_at"] is None
    # One stored before the rule (here: written straight to the store) gives way to the next true report.
    with app_store(app).transaction() as session:
        session.get(Subscription, subscription["id"]).last_viewed_at = utcnow() + timedelta(days=365)
    true = [{"subscription_id": subscription["id"], "last_viewed_at": watched()}]
    assert client.post("/v1/service/activity", json={"items": true}, headers=service).json["updated"] == 1
    seen = client.get(f"/v1/subscriptions/{subscription['id']}", headers=partner).json["last_viewed_at"]
    assert datetime.fromisoformat(seen) <= utcnow()


def test_viewing_reports_apply_to_live_subscriptions_only(client, partner, service):
    live = {
        status: activate(client, service, create(client, partner, partner_ref=status), status)["id"]
        for status in ("active", "suspended", "cancellation_scheduled", "cancelled")
    }
    client.post(f"/v1/subscriptions/{live['suspended']}/suspend", headers=partner)
    client.post(f"/v1/subscriptions/{live['cancellation_scheduled']}/cancel", headers=partner)
    client.post(
        f"/v1/subscriptions/{live['cancelled']}/cancel",
        json={"when": "immediately", "reason": "partner_churn"},
        headers=partner,
    )
    pending = create(client, partner, partner_ref="pending")["id"]
    ids = [*live.values(), pending, "sub_unknown"]
    items = [{"subscription_id": identifier, "last_viewed_at": watched()} for identifier in ids]
    result = client.post("/v1/service/activity", json={"items": items}, headers=service).json
    skipped = sorted([live["cancelled"], pending])
    assert result == {"updated": 3, "unknown": ["sub_unknown"], "skipped": skipped, "before_joining": []}
    for status, identifier in live.items():
        seen = client.get(f"/v1/subscriptions/{identifier}", headers=partner).json["last_viewed_at"]
        assert (seen is not None) is (status != "cancelled")
    assert client.get(f"/v1/subscriptions/{pending}", headers=partner).json["last_viewed_at"] is None


def test_ten_thousand_viewing_times_fit_in_one_request(app, client, partner, service):
    subscription = activate(client, service, create(client, partner))
    viewed = watched()
    items = [{"subscription_id": f"sub_{index:020d}", "last_viewed_at": viewed} for index in range(9_999)]
    items.append({"subscription_id": subscription["id"], "last_viewed_at": watched(timedelta(seconds=1))})
    body = json.dumps({"items": items}, indent=2)
    assert len(body) > app.config["MAX_CONTENT_LENGTH"]  # larger than other JSON bodies may be
    response = client.post("/v1/service/activity", data=body, content_type="application/json", headers=service)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["updated"] == 1 and len(response.json["unknown"]) == 9_999
    too_many = client.post("/v1/service/activity", json={"items": [*items, items[0]]}, headers=service)
    assert too_many.status_code == 422 and too_many.json["errors"][0]["field"] == "items"


def test_viewing_times_without_a_time_zone_are_refused(client, service):
    items = [{"subscription_id": "sub_x", "last_viewed_at": "2026-11-01T20:00:00"}]
    response = client.post("/v1/service/activity", json={"items": items}, headers=service)
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "items.0.last_viewed_at"


def test_every_transition_writes_one_event_with_consecutive_sequence_numbers(app, client, partner, service):
    subscription = activate(client, service, create(client, partner))
    path = f"/v1/subscriptions/{subscription['id']}"
    client.post(f"{path}/suspend", headers=partner)
    client.post(f"{path}/resume", headers=partner)
    client.post(f"{path}/cancel", headers=partner)
    client.post(f"{path}/revert-cancellation", headers=partner)
    client.post(f"{path}/cancel", json={"when": "immediately", "reason": "partner_churn"}, headers=partner)
    sent = events(app, subscription["id"])
    assert [event["type"].split(".")[1] for event in sent] == [
        "activated",
        "suspended",
        "resumed",
        "cancellation_scheduled",
        "cancellation_reverted",
        "cancelled",
    ]
    assert [event["sequence"] for event in sent] == [1, 2, 3, 4, 5, 6]
    assert len({event["id"] for event in sent}) == 6


def test_a_refused_action_writes_no_event(app, client, partner):
    subscription = create(client, partner)
    assert client.post(f"/v1/subscriptions/{subscription['id']}/suspend", headers=partner).status_code == 409
    assert events(app, subscription["id"]) == []


def test_another_partners_subscription_is_not_found(client, partner, seed):
    subscription = create(client, partner)
    seed.partner("other", markets=["DE"])
    other = bearer(seed.token(KeyKind.PARTNER, "other"))
    for path in ("", "/history"):
        assert client.get(f"/v1/subscriptions/{subscription['id']}{path}", headers=other).status_code == 404
    assert client.post(f"/v1/subscriptions/{subscription['id']}/cancel", headers=other).status_code == 404
    assert client.get("/v1/subscriptions?partner_ref=cust-1", headers=other).json["items"] == []


class TestIdempotency:
    def test_a_retry_replays_the_first_response_and_creates_nothing_more(self, app, client, partner):
        headers = {**partner, "Idempotency-Key": "create-cust-1"}
        first = client.post("/v1/subscriptions", json=NEW, headers=headers)
        retry = client.post("/v1/subscriptions", json=NEW, headers=headers)
        assert (retry.status_code, retry.json) == (first.status_code, first.json)
        assert retry.headers["ETag"] == first.headers["ETag"] and retry.headers["Location"] == first.headers["Location"]
        assert retry.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
        with app_store(app).read() as session:
            assert len(session.scalars(select(Subscription)).all()) == 1

    def test_the_same_key_with_another_body_is_a_422(self, client, partner):
        headers = {**partner, "Idempotency-Key": "k-1"}
        client.post("/v1/subscriptions", json=NEW, headers=headers)
        reused = client.post("/v1/subscriptions", json={**NEW, "partner_ref": "cust-2"}, headers=headers)
        assert reused.status_code == 422
        assert reused.json["errors"] == [
            {"location": "header", "field": "Idempotency-Key", "detail": reused.json["errors"][0]["detail"]}
        ]

    def test_an_action_retried_after_success_is_not_applied_twice(self, app, client, partner, service):
        subscription = activate(client, service, create(client, partner))
        headers = {**partner, "Idempotency-Key": "suspend-1"}
        first = client.post(f"/v1/subscriptions/{subscription['id']}/suspend", json={}, headers=headers)
        retry = client.post(f"/v1/subscriptions/{subscription['id']}/suspend", json={}, headers=headers)
        assert first.status_code == retry.status_code == 200
        assert [event["type"] for event in events(app, subscription["id"])].count("subscription.suspended") == 1

    @pytest.mark.parametrize(
        ("action", "body", "before", "event"),
        [
            ("change-plan", {"plan": "premium"}, None, "subscription.plan_changed"),
            ("suspend", {}, None, "subscription.suspended"),
            ("resume", {}, "suspend", "subscription.resumed"),
            ("cancel", {}, None, "subscription.cancellation_scheduled"),
            ("cancel", {"when": "immediately", "reason": "fraud"}, None, "subscription.cancelled"),
            ("revert-cancellation", {}, "cancel", "subscription.cancellation_reverted"),
        ],
    )
    def test_every_partner_action_retried_with_its_key_replays_and_applies_once(
        self, app, client, partner, service, action, body, before, event
    ):
        subscription = activate(client, service, create(client, partner))
        path = f"/v1/subscriptions/{subscription['id']}"
        if before:
            assert client.post(f"{path}/{before}", json={}, headers=partner).status_code == 200
        headers = {**partner, "Idempotency-Key": f"{action}-1"}
        first = client.post(f"{path}/{action}", json=body, headers=headers)
        retry = client.post(f"{path}/{action}", json=body, headers=headers)
        assert first.status_code == 200, first.get_data(as_text=True)
        assert (retry.status_code, retry.json, retry.headers["ETag"]) == (200, first.json, first.headers["ETag"])
        assert retry.headers["Idempotent-Replayed"] == "true"
        assert [found["type"] for found in events(app, subscription["id"])].count(event) == 1

    def test_every_post_but_key_issuing_and_signed_callbacks_documents_the_idempotency_key(self, app):
        spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
        without = sorted(
            path
            for path, operations in spec["paths"].items()
            if "post" in operations
            and "Idempotency-Key"
            not in [parameter.get("name") for parameter in operations["post"].get("parameters", [])]
        )
        # Key issuing and rotation keep no stored response (it would hold the token); callbacks are applied once
        # per webhook-id, the Standard Webhooks way.
        assert without == ["/admin/v1/keys", "/admin/v1/keys/{key_id}/rotate", "/v1/callbacks"]

    def test_a_request_refused_for_its_input_leaves_the_key_free(self, client, partner):
        headers = {**partner, "Idempotency-Key": "k-2"}
        assert client.post("/v1/subscriptions", json={**NEW, "market": "FR"}, headers=headers).status_code == 422
        assert client.post("/v1/subscriptions", json={**NEW, "plan": None}, headers=headers).status_code == 422
        created = client.post("/v1/subscriptions", json=NEW, headers=headers)
        assert created.status_code == 201 and "Idempotent-Replayed" not in created.headers

    def test_a_refused_action_is_replayed_even_once_the_state_would_allow_it(self, app, client, partner, service):
        subscription = create(client, partner)  # pending: it cannot be suspended yet
        path = f"/v1/subscriptions/{subscription['id']}/suspend"
        headers = {**partner, "Idempotency-Key": "suspend-early"}
        refused = client.post(path, json={}, headers=headers)
        assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
        activate(client, service, subscription)

        retry = client.post(path, json={}, headers=headers)

        assert (retry.status_code, retry.json, retry.headers["Idempotent-Replayed"]) == (409, refused.json, "true")
        assert retry.mimetype == "application/problem+json"
        assert "subscription.suspended" not in [event["type"] for event in events(app, subscription["id"])]
        assert client.post(path, json={}, headers={**partner, "Idempotency-Key": "suspend-now"}).status_code == 200

    def test_a_stale_if_match_and_an_unknown_subscription_are_replayed(self, client, partner, service):
        subscription = activate(client, service, create(client, partner))
        path = f"/v1/subscriptions/{subscription['id']}/suspend"
        stale = {**partner, "Idempotency-Key": "stale", "If-Match": '"999"'}
        assert client.post(path, json={}, headers=stale).status_code == 412
        current = client.get(f"/v1/subscriptions/{subscription['id']}", headers=partner).headers["ETag"]
        retry = client.post(path, json={}, headers={**stale, "If-Match": current})  # a new attempt needs a new key
        assert (retry.status_code, retry.headers["Idempotent-Replayed"]) == (412, "true")
        unknown = {**partner, "Idempotency-Key": "nobody"}
        assert client.post("/v1/subscriptions/sub_none/suspend", json={}, headers=unknown).status_code == 404
        again = client.post("/v1/subscriptions/sub_none/suspend", json={}, headers=unknown)
        assert (again.status_code, again.headers["Idempotent-Replayed"]) == (404, "true")

    def test_keys_belong_to_their_partner(self, client, partner, seed):
        seed.partner("other", markets=["DE"])
        other = bearer(seed.token(KeyKind.PARTNER, "other"))
        first = client.post("/v1/subscriptions", json=NEW, headers={**partner, "Idempotency-Key": "shared"})
        second = client.post("/v1/subscriptions", json=NEW, headers={**other, "Idempotency-Key": "shared"})
        assert second.status_code == 201 and second.json["id"] != first.json["id"]

    def test_keys_expire_after_the_configured_time(self, app, client, partner):
        headers = {**partner, "Idempotency-Key": "old"}
        client.post("/v1/subscriptions", json=NEW, headers=headers)
        kept = run_due_transitions(app_store(app), now=utcnow() + timedelta(hours=23, minutes=59))
        assert kept.idempotency_records_removed == 0
        assert client.post("/v1/subscriptions", json=NEW, headers=headers).headers["Idempotent-Replayed"] == "true"
        report = run_due_transitions(app_store(app), now=utcnow() + timedelta(hours=24, seconds=1))
        assert report.idempotency_records_removed == 1
        reused = client.post("/v1/subscriptions", json={**NEW, "partner_ref": "cust-2"}, headers=headers)
        assert reused.status_code == 201

    @pytest.mark.parametrize("key", ["has space", "x" * 256, "ü"])
    def test_an_unusable_key_is_a_422(self, client, partner, key):
        response = client.post("/v1/subscriptions", json=NEW, headers={**partner, "Idempotency-Key": key})
        assert response.status_code == 422
        assert response.json["errors"][0]["field"] == "Idempotency-Key"


def test_the_status_lookup_body_equals_the_schema_dump_with_every_field_set(client, partner, service):
    subscription = activate(client, service, create(client, partner))
    path = f"/v1/subscriptions/{subscription['id']}"
    downgraded = client.post(f"{path}/change-plan", json={"plan": "standard_with_ads"}, headers=partner)
    assert downgraded.json["scheduled_plan_change"] is not None
    assert client.get(path, headers=partner).json == downgraded.json
    client.post(
        "/v1/service/activity",
        json={"items": [{"subscription_id": subscription["id"], "last_viewed_at": watched()}]},
        headers=service,
    )
    client.post(f"{path}/change-plan", json={"plan": "premium"}, headers=partner)
    dumped = client.post(f"{path}/cancel", json={}, headers=partner)  # through the marshmallow schema
    looked_up = client.get(path, headers=partner)  # serialised directly
    assert looked_up.json == dumped.json
    assert looked_up.headers["ETag"] == dumped.headers["ETag"]
    assert looked_up.json["access_until"] and looked_up.json["last_viewed_at"] and looked_up.json["activated_at"]


def test_a_purged_member_comes_back_under_the_same_partner_ref(app, client, partner, service, seed):
    """Issue 22, item 7: once purged, a subscription leaves its partner_ref free. The member cannot rejoin it
    (nothing is left to restore), so the partner subscribes them anew under the reference it knows them by;
    look-ups and cases by that reference reach the new subscription, and it stays one live subscription."""
    old = activate(client, service, create(client, partner, partner_ref="comes-back"), "member-back")
    path = f"/v1/subscriptions/{old['id']}"
    cancelled = client.post(f"{path}/cancel", json={"when": "immediately", "reason": "account_closed"}, headers=partner)
    run_due_transitions(app_store(app), now=datetime.fromisoformat(cancelled.json["retention_until"]))
    assert client.get(path, headers=partner).json["status"] == "purged"
    refused = client.post(f"/v1/service/subscriptions/{old['id']}/rejoin", headers=service)
    assert refused.status_code == 409 and "subscribes anew with the partner" in refused.json["detail"]

    new = create(client, partner, partner_ref="comes-back")
    assert new["id"] != old["id"] and new["status"] == "pending_activation"
    again = client.post("/v1/subscriptions", json={**NEW, "partner_ref": "comes-back"}, headers=partner)
    assert again.status_code == 409 and new["id"] in again.json["detail"]  # one live subscription per reference
    listed = client.get("/v1/subscriptions?partner_ref=comes-back", headers=partner).json["items"]
    assert [(item["id"], item["status"]) for item in listed] == [
        (old["id"], "purged"),
        (new["id"], "pending_activation"),
    ]

    agent = bearer(seed.token(KeyKind.PARTNER, "nordlink", {Scope.CALLCENTER}))
    looked_up = client.get("/v1/callcenter/lookup?partner_ref=comes-back", headers=agent)
    assert looked_up.status_code == 200 and looked_up.json["subscription"]["id"] == new["id"]
    case = {"partner_ref": "comes-back", "category": "billing", "description": "Billed twice?", "agent_ref": "a-1"}
    opened = client.post("/v1/callcenter/escalations", json=case, headers=agent)
    assert opened.status_code == 201 and opened.json["subscription"]["id"] == new["id"]
