"""GET /v1/callcenter/lookup through create_app: every situation, locales, notices, FAQ, escalations, scoping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from gateway.delivery.publisher import publish_events
from gateway.domain.clock import utcnow
from gateway.domain.keys import KeyKind, Scope
from gateway.domain.sharing import POLICY_ARTICLES
from gateway.services.deliveries import remove_expired_events
from gateway.store.models import Delivery
from tests.support.api import app_store, bearer
from tests.support.lookup import SITUATIONS, add_faq_titles, add_open_escalation, subscriber_in
from tests.support.seeding import sharing_policy

LOOKUP = "/v1/callcenter/lookup"


@pytest.fixture
def agent(seed):
    seed.partner("alpha", locale="de-DE")
    seed.partner("beta", locale="en")
    return bearer(seed.token(KeyKind.PARTNER, "alpha", {Scope.CALLCENTER}))


def _lookup(client, headers, partner_ref, locale=None):
    query = {"partner_ref": partner_ref, **({"locale": locale} if locale else {})}
    return client.get(LOOKUP, query_string=query, headers=headers)


# situation -> (status, reason, inactivity state, commands that must be offered, commands that must not)
EXPECTED = {
    "pending_activation": ("pending_activation", "created", "not_warned", {"activate", "expire_activation"}, set()),
    "active": ("active", "account_linked", "not_warned", {"suspend", "schedule_cancellation"}, {"confirm_keep"}),
    "warned": ("active", "account_linked", "warned", {"confirm_keep", "cancel_inactive"}, {"warn_inactivity"}),
    "kept": ("active", "account_linked", "kept", {"suspend"}, {"confirm_keep"}),
    "suspended": ("suspended", "non_payment", "not_warned", {"resume", "cancel_now"}, {"suspend"}),
    "cancellation_scheduled": (
        "cancellation_scheduled",
        "member_request",
        "not_warned",
        {"revert_cancellation", "end_period"},
        {"schedule_cancellation"},
    ),
    "cancelled": ("cancelled", "account_closed", "not_warned", {"rejoin", "purge"}, {"cancel_now"}),
    "cancelled_inactive": ("cancelled", "inactivity", "cancelled", {"rejoin", "purge"}, set()),  # issue 22, item 6
    "purged": ("purged", "retention_expired", "not_warned", set(), {"rejoin"}),
}


def test_every_situation_is_covered():
    assert set(EXPECTED) == set(SITUATIONS)


@pytest.mark.parametrize("situation", sorted(EXPECTED))
def test_lookup_explains_each_situation(app, client, agent, situation):
    status, reason, inactivity, offered, not_offered = EXPECTED[situation]
    with app_store(app).transaction() as session:
        subscriber_in(session, "alpha", situation)
        add_faq_titles(session)

    response = _lookup(client, agent, situation, locale="en")

    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.json
    assert body["locale"] == "en"
    assert body["status"]["code"] == status and body["status"]["label"] and body["status"]["text"]
    assert "{" not in body["status"]["text"] and "(date unknown)" not in body["status"]["text"]
    assert body["reason"]["code"] == reason and body["reason"]["text"] != reason
    assert body["inactivity"]["state"] == inactivity
    assert (body["inactivity"]["text"] is not None) == (status == "active" or inactivity == "cancelled")
    if body["inactivity"]["text"] is not None:
        assert "{" not in body["inactivity"]["text"] and "(date unknown)" not in body["inactivity"]["text"]
    commands = {action["command"] for action in body["actions"]}
    assert offered <= commands and not (not_offered & commands)
    for action in body["actions"]:
        assert action["label"] and action["actors"]
        assert all(actor["actor"] in {"partner", "member", "service", "scheduler"} for actor in action["actors"])
    slugs = [link["slug"] for link in body["faq"]]
    assert slugs and slugs[-1] == "contact-support-escalation"
    assert all(link["title"] == f"en: {link['slug']}" for link in body["faq"])
    assert bool(body["notices"]) == (status != "pending_activation")  # creating one sends no event yet
    assert body["escalations"] == []


def test_the_lookup_suggests_no_sharing_article_before_the_policy_is_announced_in_the_market(app, client, agent):
    """Issue 22, item 11: the embargo holds in the lookup's suggestions too, market by market."""
    with app_store(app).transaction() as session:
        add_faq_titles(session, locales=("en",))
        subscriber_in(session, "alpha", "active")

    def suggested():
        return {link["slug"] for link in _lookup(client, agent, "active", locale="en").json["faq"]}

    assert not suggested() & POLICY_ARTICLES
    sharing_policy(app_store(app), ["FR"])
    assert not suggested() & POLICY_ARTICLES  # announced in France; the subscriber is in Germany
    sharing_policy(app_store(app), ["DE"])
    assert "paid-sharing-household" in suggested()


def test_dates_and_who_does_what(app, client, agent):
    with app_store(app).transaction() as session:
        warned = subscriber_in(session, "alpha", "warned")
        respond_by, joined = warned.inactivity_respond_by, warned.activated_at
    body = _lookup(client, agent, "warned", locale="en").json

    assert body["dates"]["respond_by"] == respond_by.isoformat()
    assert body["dates"]["joined"] == joined.isoformat()
    assert body["dates"]["last_activity"] is not None and body["dates"]["cancelled"] is None
    actions = {action["command"]: action for action in body["actions"]}
    assert [actor["actor"] for actor in actions["confirm_keep"]["actors"]] == ["partner", "member"]
    assert actions["cancel_inactive"]["actors"] == [{"actor": "scheduler", "label": "automatically"}]
    assert actions["cancel_inactive"]["due_at"] == respond_by.isoformat()
    assert body["faq"] == []  # no articles loaded: nothing to point to
    assert respond_by.strftime("%B") in body["inactivity"]["text"]


def test_texts_follow_the_agents_locale_with_fallback(app, client, agent):
    with app_store(app).transaction() as session:
        subscriber_in(session, "alpha", "cancellation_scheduled")
        add_faq_titles(session, locales=("en", "de"))

    german = _lookup(client, agent, "cancellation_scheduled", locale="de-AT").json
    assert german["locale"] == "de"
    assert german["status"]["label"] == "Kündigung vorgemerkt"
    assert german["reason"]["text"] == "Auf Wunsch der Kundin oder des Kunden."
    assert {link["locale"] for link in german["faq"]} == {"de"}
    assert german["actions"][0]["actors"][0]["label"]

    malay = _lookup(client, agent, "cancellation_scheduled", locale="ms-MY").json
    assert malay["locale"] == "ms" and malay["status"]["label"] == "Pembatalan dijadualkan"
    assert {link["locale"] for link in malay["faq"]} == {"en"}  # no Malay articles loaded: English ones

    unknown = _lookup(client, agent, "cancellation_scheduled", locale="ja-JP").json
    assert unknown["locale"] == "en"

    default = _lookup(client, agent, "cancellation_scheduled").json  # the partner's default language, de-DE
    assert default["locale"] == "de"


def test_last_notices_newest_first_with_their_delivery(app, client, agent, seed):
    seed.endpoint("alpha")
    now = utcnow()
    with app_store(app).transaction() as session:
        subscriber_in(session, "alpha", "cancelled", now=now)
        publish_events(session, now)
        session.execute(update(Delivery).where(Delivery.event_type == "subscription.cancelled").values(status="dead"))
    with app_store(app).transaction() as session:
        subscriber_in(session, "alpha", "active", partner_ref="other-customer", now=now)

    notices = _lookup(client, agent, "cancelled").json["notices"]

    assert [notice["type"] for notice in notices] == ["subscription.cancelled", "subscription.activated"]
    assert notices[0]["delivery_status"] == "dead"
    assert notices[0]["deliveries"][0]["status"] == "dead"
    assert all(notice["delivery_status"] == "pending" for notice in notices[1:])
    other = _lookup(client, agent, "other-customer").json["notices"]
    assert other and all(notice["delivery_status"] == "queued" for notice in other)  # not yet published


def test_notices_past_the_feeds_retention_are_still_shown_from_the_history(app, client, agent, seed):
    seed.endpoint("alpha")
    now = utcnow()
    with app_store(app).transaction() as session:
        subscriber_in(session, "alpha", "cancelled", now=now)
        publish_events(session, now)
        session.execute(update(Delivery).values(status="delivered"))
    before = _lookup(client, agent, "cancelled").json["notices"]
    with app_store(app).transaction() as session:  # what `gateway scheduler run` does once the days have passed
        removed = remove_expired_events(session, now=now + timedelta(days=31), retention=timedelta(days=30))
    assert removed == len(before) > 0

    after = _lookup(client, agent, "cancelled").json["notices"]

    assert [(n["type"], n["occurred_at"]) for n in after] == [(n["type"], n["occurred_at"]) for n in before]
    assert all(n["delivery_status"] == "archived" and n["event_id"] is None and n["deliveries"] == [] for n in after)
    assert all(n["delivery_status"] == "delivered" and n["event_id"] for n in before)


def test_open_escalations_are_shown_closed_ones_not(app, client, agent):
    with app_store(app).transaction() as session:
        subscription = subscriber_in(session, "alpha", "active")
        case = add_open_escalation(session, subscription, category="billing")
        closed = add_open_escalation(session, subscription, category="access")
        closed.status, closed.open_key = "closed", None

    escalations = _lookup(client, agent, "active").json["escalations"]

    assert [(item["id"], item["status"], item["priority"]) for item in escalations] == [(case.id, "open", "high")]


def test_another_partners_subscriber_is_not_found(app, client, agent, seed):
    with app_store(app).transaction() as session:
        subscriber_in(session, "beta", "active", partner_ref="beta-customer")

    response = _lookup(client, agent, "beta-customer")

    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "/problems/not-found"
    beta = bearer(seed.token(KeyKind.PARTNER, "beta", {Scope.CALLCENTER}))
    assert _lookup(client, beta, "beta-customer").status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "partner_ref"),
        ({"partner_ref": ""}, "partner_ref"),
        ({"partner_ref": "x", "locale": "not a tag"}, "locale"),
    ],
)
def test_bad_queries_are_validation_problems(client, agent, query, field):
    response = client.get(LOOKUP, query_string=query, headers=agent)

    assert response.status_code == 422
    assert [error["field"] for error in response.json["errors"]] == [field]


def test_needs_the_callcenter_scope(client, seed, agent):
    reader = bearer(seed.token(KeyKind.PARTNER, "alpha", {Scope.SUBSCRIPTIONS_READ}))
    assert _lookup(client, reader, "active").status_code == 403
