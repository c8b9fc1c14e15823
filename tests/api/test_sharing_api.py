"""Sharing policies over HTTP: operators schedule and follow them, partners read and acknowledge their notices,
the scheduler announces on time, and the service sends per-account household and extra-member notices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from gateway.domain.clock import utcnow
from gateway.domain.delivery import parse_schedule
from gateway.domain.keys import KeyKind
from gateway.domain.lifecycle import Actor, Command
from gateway.services import subscriptions as subscription_service
from gateway.services.partners import set_partner_status
from gateway.services.sharing import run_due_sharing_notices
from gateway.store.models import OutboxEvent, Subscription
from tests.support.api import app_store, bearer
from tests.support.seeding import add_subscription
from tests.support.sharing import assert_notice, policy_body

REMINDERS = parse_schedule("3d,4d,7d")
POLICIES = "/admin/v1/sharing-policies"


@pytest.fixture
def world(app, seed):
    """Operator, service and partner keys; partners in DE (German), AT (English), FR, and a suspended one in DE."""
    seed.partner("rheinfunk", markets=["DE"], locale="de-DE")
    seed.partner("alpenwelle", markets=["AT", "CH"], locale="en")
    seed.partner("hexagone", markets=["FR"], locale="fr-FR")
    seed.partner("schlummer", markets=["DE"], locale="de-DE")
    with app_store(app).transaction() as session:
        set_partner_status(session, "schlummer", "suspended", now=utcnow())
    return {
        "operator": bearer(seed.token(KeyKind.OPERATOR)),
        "service": bearer(seed.token(KeyKind.SERVICE)),
        "rheinfunk": bearer(seed.token(KeyKind.PARTNER, "rheinfunk")),
        "alpenwelle": bearer(seed.token(KeyKind.PARTNER, "alpenwelle")),
        "hexagone": bearer(seed.token(KeyKind.PARTNER, "hexagone")),
    }


def create_policy(client, world, **overrides):
    response = client.post(POLICIES, json=policy_body(utcnow(), **overrides), headers=world["operator"])
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def run(app, at: datetime):
    return run_due_sharing_notices(app_store(app), now=at, reminder_schedule=REMINDERS)


def partner_events(app, partner_code: str, event_type: str | None = None) -> list[dict]:
    with app_store(app).read() as session:
        query = select(OutboxEvent).where(OutboxEvent.partner_code == partner_code).order_by(OutboxEvent.id)
        if event_type is not None:
            query = query.where(OutboxEvent.event_type == event_type)
        return [event.payload for event in session.scalars(query)]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- creating and reading policies ---------------------------------------------------------------------------


def test_a_policy_is_scheduled_a_lead_time_before_it_takes_effect(client, world):
    policy = create_policy(client, world)

    assert policy["id"].startswith("shp_")
    assert policy["status"] == "scheduled"
    assert at(policy["announce_at"]) == at(policy["effective_at"]) - timedelta(days=30)
    assert policy["extra_member"] == {
        "plans": ["standard", "premium"],
        "prices": {"AT": {"amount": "4.99", "currency": "EUR"}, "DE": {"amount": "4.99", "currency": "EUR"}},
        "partner_billed_eligible": False,
    }
    assert policy["rule_description"].startswith("An account is shared by one household")
    assert (policy["partners_notified"], policy["partners_acknowledged"], policy["announced_at"]) == (0, 0, None)
    response = client.get(f"{POLICIES}/{policy['id']}", headers=world["operator"])
    assert response.json == policy
    listed = client.get(POLICIES, headers=world["operator"]).json
    assert [item["id"] for item in listed["items"]] == [policy["id"]]
    assert client.get(f"{POLICIES}?status=effective", headers=world["operator"]).json["items"] == []


def test_the_lead_time_can_be_chosen_and_amounts_are_written_with_two_decimals(client, world):
    policy = create_policy(
        client,
        world,
        lead_days=7,
        markets=["DE"],
        extra_member={"plans": ["premium"], "prices": {"DE": {"amount": "5", "currency": "EUR"}}},
    )

    assert at(policy["announce_at"]) == at(policy["effective_at"]) - timedelta(days=7)
    assert policy["extra_member"]["prices"] == {"DE": {"amount": "5.00", "currency": "EUR"}}


def test_creating_with_the_same_idempotency_key_schedules_one_policy(client, world):
    headers = {**world["operator"], "Idempotency-Key": "policy-1"}
    body = policy_body(utcnow())
    first = client.post(POLICIES, json=body, headers=headers)
    again = client.post(POLICIES, json=body, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json["id"] == first.json["id"]
    assert again.headers["Location"] == first.headers["Location"] == f"{POLICIES}/{first.json['id']}"
    assert len(client.get(POLICIES, headers=world["operator"]).json["items"]) == 1


def _days(days: int) -> str:
    return (utcnow() + timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"markets": ["DE", "XX"]}, "markets.1"),
        ({"markets": []}, "markets"),
        ({"markets": ["DE", "DE"]}, "markets"),
        ({"rule": "no_sharing"}, "rule"),
        (
            {"extra_member": {"plans": ["standard"], "prices": {"DE": {"amount": "4.99", "currency": "eur"}}}},
            "extra_member.prices.DE.value.currency",
        ),
        (
            {"extra_member": {"plans": ["standard"], "prices": {"DE": {"amount": "4.999", "currency": "EUR"}}}},
            "extra_member.prices.DE.value.amount",
        ),
        (
            {"extra_member": {"plans": ["standard"], "prices": {"DE": {"amount": "0.00", "currency": "EUR"}}}},
            "extra_member.prices.DE.amount",
        ),
        ({"extra_member": {"plans": ["family"], "prices": {}}}, "extra_member.plans.0"),
        (
            {"extra_member": {"plans": [], "prices": {"DE": {"amount": "4.99", "currency": "EUR"}}}},
            "extra_member.plans",
        ),
        (
            {"extra_member": {"plans": ["standard"], "prices": {"FR": {"amount": "4.99", "currency": "EUR"}}}},
            "extra_member.prices",
        ),
        ({"effective_at": _days(-1)}, "effective_at"),
        ({"effective_at": "2030-01-01T00:00:00"}, "effective_at"),  # no offset: refused, not guessed
        ({"effective_at": _days(10), "publish_at": _days(11)}, "publish_at"),
        ({"lead_days": -1}, "lead_days"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_an_invalid_policy_is_refused_naming_the_field(client, world, overrides, field):
    response = client.post(POLICIES, json=policy_body(utcnow(), **overrides), headers=world["operator"])

    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json["type"].endswith("/validation-error")
    assert field in [error["field"] for error in response.json["errors"]], response.json
    assert client.get(POLICIES, headers=world["operator"]).json["items"] == []


def test_an_unknown_policy_is_404(client, world):
    response = client.get(f"{POLICIES}/shp_missing", headers=world["operator"])
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert client.get(f"{POLICIES}/shp_missing/notices", headers=world["operator"]).status_code == 404


# --- announcing: embargo, lead time, who hears of it ----------------------------------------------------------


def test_nothing_is_announced_before_the_lead_time(app, client, world):
    policy = create_policy(client, world)
    announce_at = at(policy["announce_at"])

    assert run(app, announce_at - timedelta(seconds=1)).announced == 0
    assert partner_events(app, "rheinfunk") == []
    assert run(app, announce_at).announced == 2
    assert len(partner_events(app, "rheinfunk", "sharing.policy_announced")) == 1


def test_the_embargo_holds_the_announcement_until_publish_time(app, client, world):
    effective = utcnow() + timedelta(days=20)  # within the 30-day lead at once...
    publish = utcnow() + timedelta(days=5)  # ...but embargoed for five days
    policy = create_policy(client, world, effective_at=effective.isoformat(), publish_at=publish.isoformat())
    assert at(policy["announce_at"]) == at(policy["publish_at"])

    assert run(app, utcnow()).announced == 0
    assert run(app, at(policy["publish_at"]) - timedelta(seconds=1)).announced == 0
    assert partner_events(app, "rheinfunk") == []
    assert run(app, at(policy["publish_at"])).announced == 2
    [event] = partner_events(app, "rheinfunk")
    assert event["type"] == "sharing.policy_announced"


def test_only_active_partners_in_the_markets_are_told_each_once(app, client, world):
    policy = create_policy(client, world)
    announce_at = at(policy["announce_at"])

    first, second = run(app, announce_at), run(app, announce_at + timedelta(hours=1))

    assert (first.announced, second.announced) == (2, 0)
    assert len(partner_events(app, "rheinfunk")) == len(partner_events(app, "alpenwelle")) == 1
    assert partner_events(app, "hexagone") == []  # FR: not in the policy's markets
    assert partner_events(app, "schlummer") == []  # suspended
    shown = client.get(f"{POLICIES}/{policy['id']}", headers=world["operator"]).json
    assert shown["status"] == "announced" and shown["partners_notified"] == 2
    assert at(shown["announced_at"]) == announce_at


def test_the_announcement_names_the_partners_markets_prices_and_text_in_its_locale(app, client, world):
    policy = create_policy(client, world)
    run(app, at(policy["announce_at"]))

    [event] = partner_events(app, "alpenwelle")
    data = event["data"]
    assert "subscription" not in event and "sequence" not in event
    assert set(data) == {
        "notice_id",
        "policy_id",
        "markets",
        "rule",
        "rule_description",
        "effective_at",
        "publish_at",
        "extra_member",
        "notice",
    }
    assert data["policy_id"] == policy["id"] and data["notice_id"].startswith("ntc_")
    assert data["markets"] == ["AT"]  # alpenwelle also serves CH, which the policy does not cover
    assert data["extra_member"] == {
        "plans": ["standard", "premium"],
        "prices": {"AT": {"amount": "4.99", "currency": "EUR"}},
        "partner_billed_eligible": False,
    }
    assert at(data["effective_at"]) == at(policy["effective_at"])
    assert_notice(data["notice"], "policy_announced", "en")
    [german] = partner_events(app, "rheinfunk")
    assert_notice(german["data"]["notice"], "policy_announced", "de-DE")
    assert german["data"]["notice"]["locale"].startswith("de")
    assert "4,99 €" in german["data"]["notice"]["body"]  # as German writes euros


def test_a_partner_that_becomes_eligible_before_the_effective_date_is_told_later(app, client, world):
    policy = create_policy(client, world)
    announce_at = at(policy["announce_at"])
    run(app, announce_at)
    with app_store(app).transaction() as session:
        set_partner_status(session, "schlummer", "active", now=utcnow())

    assert run(app, announce_at + timedelta(hours=1)).announced == 1
    assert len(partner_events(app, "schlummer", "sharing.policy_announced")) == 1
    assert run(app, announce_at + timedelta(hours=2)).announced == 0


# --- the effective date ---------------------------------------------------------------------------------------


def test_partners_are_told_on_the_effective_date(app, client, world):
    policy = create_policy(client, world)
    effective = at(policy["effective_at"])
    run(app, at(policy["announce_at"]))

    assert run(app, effective - timedelta(seconds=1)).effective == 0
    assert run(app, effective).effective == 2
    assert run(app, effective + timedelta(minutes=1)).effective == 0

    [event] = partner_events(app, "rheinfunk", "sharing.policy_effective")
    assert set(event["data"]) == {"notice_id", "policy_id", "markets", "rule", "effective_at", "notice"}
    assert event["data"]["markets"] == ["DE"]
    assert_notice(event["data"]["notice"], "policy_effective", "de-DE")
    shown = client.get(f"{POLICIES}/{policy['id']}", headers=world["operator"]).json
    assert shown["status"] == "effective"
    notice = client.get(f"/v1/notices/{event['data']['notice_id']}", headers=world["rheinfunk"]).json
    assert at(notice["effective_sent_at"]) == effective


def test_the_effective_day_notice_thanks_a_partner_that_acknowledged_instead_of_asking_again(app, client, world):
    """Issue 22, item 12: "if you have not acknowledged yet" went to partners that had."""
    policy = create_policy(client, world, markets=["DE", "AT"])
    run(app, at(policy["announce_at"]))
    [announced] = partner_events(app, "rheinfunk", "sharing.policy_announced")
    notice_id = announced["data"]["notice_id"]
    acknowledged = client.post(f"/v1/notices/{notice_id}/acknowledgement", headers=world["rheinfunk"])
    assert acknowledged.status_code == 200, acknowledged.get_data(as_text=True)

    run(app, at(policy["effective_at"]))

    [thanked] = partner_events(app, "rheinfunk", "sharing.policy_effective")
    [reminded] = partner_events(app, "alpenwelle", "sharing.policy_effective")
    assert "Vielen Dank" in thanked["data"]["notice"]["body"]
    assert "noch nicht bestätigt" not in thanked["data"]["notice"]["body"]
    assert "If you have not yet acknowledged" in reminded["data"]["notice"]["body"]


def test_a_policy_found_late_is_announced_then_made_effective_in_one_run(app, client, world):
    policy = create_policy(client, world)
    report = run(app, at(policy["effective_at"]) + timedelta(hours=1))

    assert (report.announced, report.effective) == (2, 2)
    types = [event["type"] for event in partner_events(app, "rheinfunk")]
    assert types == ["sharing.policy_announced", "sharing.policy_effective"]


# --- partners' notices and acknowledgements ---------------------------------------------------------------------


def _announced(app, client, world):
    policy = create_policy(client, world)
    run(app, at(policy["announce_at"]))
    [notice] = client.get("/v1/notices", headers=world["rheinfunk"]).json["items"]
    return policy, notice


def test_a_partner_reads_its_notices(app, client, world):
    policy, notice = _announced(app, client, world)

    assert notice["id"].startswith("ntc_") and notice["policy_id"] == policy["id"]
    assert notice["markets"] == ["DE"]
    assert notice["extra_member"]["prices"] == {"DE": {"amount": "4.99", "currency": "EUR"}}
    assert notice["acknowledged_at"] is None and notice["reminders_sent"] == 0
    assert at(notice["next_reminder_at"]) == at(notice["announced_at"]) + timedelta(days=3)
    assert client.get(f"/v1/notices/{notice['id']}", headers=world["rheinfunk"]).json == notice
    assert client.get("/v1/notices", headers=world["hexagone"]).json == {"items": [], "next_cursor": None}


def test_notices_are_paged(app, client, world):
    for days in (40, 50, 60):
        policy = create_policy(client, world, effective_at=_days(days), lead_days=days)
        run(app, at(policy["announce_at"]))

    first = client.get("/v1/notices?limit=2", headers=world["rheinfunk"]).json
    rest = client.get(f"/v1/notices?limit=2&cursor={first['next_cursor']}", headers=world["rheinfunk"]).json

    assert len(first["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert len({item["id"] for item in first["items"] + rest["items"]}) == 3


def test_another_partners_notice_is_not_found(app, client, world):
    _, notice = _announced(app, client, world)

    for response in (
        client.get(f"/v1/notices/{notice['id']}", headers=world["alpenwelle"]),
        client.post(f"/v1/notices/{notice['id']}/acknowledgement", headers=world["alpenwelle"]),
    ):
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
    assert client.get(f"/v1/notices/{notice['id']}", headers=world["rheinfunk"]).json["acknowledged_at"] is None


def test_acknowledging_stops_reminders_and_is_idempotent(app, client, world):
    policy, notice = _announced(app, client, world)
    path = f"/v1/notices/{notice['id']}/acknowledgement"

    first = client.post(path, headers=world["rheinfunk"])
    again = client.post(path, json={}, headers=world["rheinfunk"])

    assert first.status_code == again.status_code == 200
    assert first.json["acknowledged_at"] is not None and first.json["next_reminder_at"] is None
    assert again.json == first.json
    shown = client.get(f"{POLICIES}/{policy['id']}", headers=world["operator"]).json
    assert (shown["partners_notified"], shown["partners_acknowledged"]) == (2, 1)
    assert run(app, at(notice["announced_at"]) + timedelta(days=30)).reminders == 1  # alpenwelle's only
    assert partner_events(app, "rheinfunk", "sharing.acknowledgement_reminder") == []


def test_operators_see_who_has_not_acknowledged(app, client, world):
    policy, notice = _announced(app, client, world)
    client.post(f"/v1/notices/{notice['id']}/acknowledgement", headers=world["rheinfunk"])
    notices = f"{POLICIES}/{policy['id']}/notices"

    pending = client.get(f"{notices}?acknowledged=false", headers=world["operator"]).json["items"]
    done = client.get(f"{notices}?acknowledged=true", headers=world["operator"]).json["items"]
    everyone = client.get(notices, headers=world["operator"]).json["items"]

    assert [item["partner"] for item in pending] == ["alpenwelle"]
    assert pending[0]["partner_name"] == "Alpenwelle" and pending[0]["acknowledged_by"] is None
    assert [item["partner"] for item in done] == ["rheinfunk"]
    assert done[0]["acknowledged_by"].startswith("key_")
    assert sorted(item["partner"] for item in everyone) == ["alpenwelle", "rheinfunk"]


# --- reminders ---------------------------------------------------------------------------------------------------


def test_reminders_follow_the_schedule_until_it_runs_out(app, client, world):
    _, notice = _announced(app, client, world)
    announced = at(notice["announced_at"])
    reminders = []

    for moment, expected in [
        (announced + timedelta(days=3) - timedelta(seconds=1), 0),
        (announced + timedelta(days=3), 2),  # both partners, first reminder
        (announced + timedelta(days=6), 0),
        (announced + timedelta(days=7), 2),  # 4 days later
        (announced + timedelta(days=13), 0),
        (announced + timedelta(days=14), 2),  # 7 days later: the last
        (announced + timedelta(days=60), 0),
    ]:
        assert run(app, moment).reminders == expected, moment
        reminders = partner_events(app, "rheinfunk", "sharing.acknowledgement_reminder")

    assert [event["data"]["reminder"] for event in reminders] == [1, 2, 3]
    data = reminders[0]["data"]
    assert set(data) == {"notice_id", "policy_id", "markets", "effective_at", "reminder", "notice"}
    assert data["notice_id"] == notice["id"]
    assert_notice(data["notice"], "acknowledgement_reminder", "de-DE")
    shown = client.get(f"/v1/notices/{notice['id']}", headers=world["rheinfunk"]).json
    assert (shown["reminders_sent"], shown["next_reminder_at"]) == (3, None)


def test_reminders_stop_once_acknowledged(app, client, world):
    _, notice = _announced(app, client, world)
    announced = at(notice["announced_at"])
    run(app, announced + timedelta(days=3))
    client.post(f"/v1/notices/{notice['id']}/acknowledgement", headers=world["rheinfunk"])

    for days in (7, 14, 30):
        run(app, announced + timedelta(days=days))

    assert len(partner_events(app, "rheinfunk", "sharing.acknowledgement_reminder")) == 1
    assert len(partner_events(app, "alpenwelle", "sharing.acknowledgement_reminder")) == 3


# --- per-account notices from the service -----------------------------------------------------------------------


def _subscription(app, partner_code="rheinfunk", ref="member-1", *, plan="standard", billed_by="partner", locale=None):
    now = utcnow()
    with app_store(app).transaction() as session:
        subscription = add_subscription(session, partner_code, ref, now=now)
        subscription.plan = plan
        subscription.billed_by = billed_by
        if locale is not None:
            subscription.locale = locale
        return subscription.id


def _effective_policy(app, client, world, **overrides):
    policy = create_policy(client, world, **overrides)
    run(app, at(policy["effective_at"]))
    return policy


def _notify(client, world, subscription_id, **body):
    return client.post(f"/v1/service/subscriptions/{subscription_id}/notices", json=body, headers=world["service"])


def _subscription_events(app, subscription_id):
    with app_store(app).read() as session:
        query = select(OutboxEvent).where(OutboxEvent.subscription_id == subscription_id).order_by(OutboxEvent.id)
        return [event.payload for event in session.scalars(query)]


def test_household_verification_is_sent_with_a_deadline_in_the_members_language(app, client, world):
    _effective_policy(app, client, world)
    subscription_id = _subscription(app, locale="en-GB")

    response = _notify(client, world, subscription_id, type="household_verification_required")

    assert response.status_code == 202, response.get_data(as_text=True)
    body = response.json
    assert body["type"] == "sharing.household_verification_required"
    assert body["subscription_id"] == subscription_id and body["event_id"].startswith("evt_")
    event = _subscription_events(app, subscription_id)[-1]
    assert event["id"] == body["event_id"] and event["sequence"] == body["sequence"]
    data = event["data"]
    assert (data["status"], data["reason"], data["actor"]) == ("active", "household_verification_required", "service")
    assert timedelta(days=13, hours=23) < at(data["verify_by"]) - utcnow() <= timedelta(days=14)
    assert_notice(data["notice"], "household_verification_required", "en-GB")
    history = client.get(f"/v1/subscriptions/{subscription_id}/history", headers=world["rheinfunk"]).json["items"]
    assert history[-1]["command"] == "notice" and history[-1]["sequence"] == body["sequence"]


def test_household_verification_takes_a_chosen_deadline_in_the_future_only(app, client, world):
    _effective_policy(app, client, world)
    subscription_id = _subscription(app)
    verify_by = (utcnow() + timedelta(days=5)).replace(microsecond=0)

    chosen = _notify(
        client, world, subscription_id, type="household_verification_required", verify_by=verify_by.isoformat()
    )
    past = _notify(client, world, subscription_id, type="household_verification_required", verify_by=_days(-1))
    misplaced = _notify(client, world, subscription_id, type="extra_member_removed", verify_by=_days(5))

    assert chosen.status_code == 202
    assert at(_subscription_events(app, subscription_id)[-1]["data"]["verify_by"]) == verify_by
    assert past.status_code == misplaced.status_code == 422
    assert past.json["errors"][0]["field"] == misplaced.json["errors"][0]["field"] == "verify_by"


def test_an_extra_member_on_a_partner_billed_plan_is_refused_with_the_reason(app, client, world):
    _effective_policy(app, client, world)
    subscription_id = _subscription(app)  # billed by the partner

    response = _notify(client, world, subscription_id, type="extra_member_added")

    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.json["detail"] == "Partner-billed plans may not add an extra member."
    assert len(_subscription_events(app, subscription_id)) == 1  # the activation only


def test_an_extra_member_on_a_plan_the_policy_does_not_name_is_refused(app, client, world):
    _effective_policy(app, client, world)
    subscription_id = _subscription(app, plan="standard_with_ads", billed_by="service")

    response = _notify(client, world, subscription_id, type="extra_member_added")

    assert response.status_code == 409
    assert "standard_with_ads plan may not add an extra member" in response.json["detail"]


def test_an_extra_member_needs_a_policy_in_effect_in_the_market(app, client, world):
    policy = create_policy(client, world)
    run(app, at(policy["announce_at"]))  # announced, not yet in effect
    subscription_id = _subscription(app, billed_by="service")

    response = _notify(client, world, subscription_id, type="extra_member_added")

    assert response.status_code == 409
    assert response.json["detail"].startswith("No sharing policy is in effect in DE")


@pytest.mark.parametrize("stage", ["scheduled", "announced"])
def test_no_household_notice_goes_out_before_a_policy_takes_effect_in_the_market(app, client, world, stage):
    """Issue 22, item 10: the embargo holds for per-account notices too: asking a member to verify their
    household tells the partner, and the member, of a policy nobody may know of yet."""
    policy = create_policy(client, world)
    if stage == "announced":
        run(app, at(policy["announce_at"]))
    subscription_id = _subscription(app)
    before = _subscription_events(app, subscription_id)

    response = _notify(client, world, subscription_id, type="household_verification_required")

    assert response.status_code == 409 and "No sharing policy is in effect in DE" in response.json["detail"]
    assert _subscription_events(app, subscription_id) == before
    run(app, at(policy["effective_at"]))
    assert _notify(client, world, subscription_id, type="household_verification_required").status_code == 202


def test_an_extra_member_on_a_service_billed_eligible_plan_is_added_then_removed(app, client, world):
    _effective_policy(app, client, world)
    subscription_id = _subscription(app, plan="premium", billed_by="service")

    added = _notify(client, world, subscription_id, type="extra_member_added")
    removed = _notify(client, world, subscription_id, type="extra_member_removed")

    assert added.status_code == removed.status_code == 202
    assert removed.json["sequence"] == added.json["sequence"] + 1
    *_, added_event, removed_event = _subscription_events(app, subscription_id)
    assert added_event["type"] == "sharing.extra_member_added"
    assert added_event["data"]["price"] == {"amount": "4.99", "currency": "EUR"}
    assert_notice(added_event["data"]["notice"], "extra_member_added", "de-DE")
    assert "4,99 €" in added_event["data"]["notice"]["body"]
    assert removed_event["type"] == "sharing.extra_member_removed"
    assert set(removed_event["data"]) == {"status", "reason", "actor", "notice"}
    assert_notice(removed_event["data"]["notice"], "extra_member_removed", "de-DE")


def test_account_notices_are_refused_for_memberships_that_ended_or_never_started(app, client, world):
    now = utcnow()
    with app_store(app).transaction() as session:
        pending = add_subscription(session, "rheinfunk", "pending", now=now, active=False)
        cancelled = add_subscription(session, "rheinfunk", "gone", now=now)
        subscription_service.apply_command(
            session, cancelled, Command.CANCEL_NOW, actor=Actor.PARTNER, reason="partner_churn", now=now
        )
        ids = pending.id, cancelled.id

    for subscription_id in ids:
        response = _notify(client, world, subscription_id, type="household_verification_required")
        assert response.status_code == 409
        assert response.json["current_status"] in ("pending_activation", "cancelled")
    assert _notify(client, world, "sub_missing", type="extra_member_removed").status_code == 404
    assert _notify(client, world, ids[0], type="household_check").status_code == 422


def test_the_lookup_shows_the_household_deadline_and_whether_an_extra_member_is_on_the_account(app, client, world):
    """Issue 22, item 12: the agent sees verify_by and the extra-member status, not only the notices' subjects."""
    _effective_policy(app, client, world)
    subscription_id = _subscription(app, plan="premium", billed_by="service")

    def standing():
        query = {"partner_ref": "member-1", "locale": "en"}
        return client.get("/v1/callcenter/lookup", query_string=query, headers=world["rheinfunk"]).json["sharing"]

    assert standing() == {"household_verify_by": None, "extra_member": False}
    verify_by = (utcnow() + timedelta(days=5)).replace(microsecond=0)
    _notify(client, world, subscription_id, type="household_verification_required", verify_by=verify_by.isoformat())
    _notify(client, world, subscription_id, type="extra_member_added")
    assert standing() == {"household_verify_by": verify_by.isoformat(), "extra_member": True}
    _notify(client, world, subscription_id, type="extra_member_removed")
    assert standing()["extra_member"] is False


def test_a_suspended_or_ending_membership_still_gets_notices(app, client, world):
    _effective_policy(app, client, world)
    subscription_id = _subscription(app)
    with app_store(app).transaction() as session:
        subscription = session.get(Subscription, subscription_id)
        subscription_service.apply_command(
            session, subscription, Command.SUSPEND, actor=Actor.PARTNER, reason="non_payment", now=utcnow()
        )

    response = _notify(client, world, subscription_id, type="household_verification_required")

    assert response.status_code == 202
    assert _subscription_events(app, subscription_id)[-1]["data"]["status"] == "suspended"


def test_times_given_with_an_offset_are_utc_in_events(app, client, world):
    effective = (utcnow() + timedelta(days=40)).astimezone(UTC).replace(microsecond=0)
    local = effective.astimezone(timezone(timedelta(hours=2))).isoformat()  # e.g. ...T14:00:00+02:00
    policy = create_policy(client, world, effective_at=local)
    run(app, at(policy["announce_at"]))

    [event] = partner_events(app, "rheinfunk")
    assert event["data"]["effective_at"] == effective.isoformat()
