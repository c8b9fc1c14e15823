"""The subscriber situation rules and texts (gateway.domain.situation): pure, no I/O."""

from __future__ import annotations

import dataclasses
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.domain.lifecycle import TRANSITIONS, Actor, Command, Status
from gateway.domain.notices import NOTICE_LOCALES, format_date
from gateway.domain.situation import (
    SITUATION_SLUGS,
    Inactivity,
    KeyDates,
    NoticeDelivery,
    SubscriberFacts,
    available_actions,
    explain,
    faq_slugs,
    inactivity,
    notice_delivery,
    text_language,
)
from gateway.domain.situation_texts import TEXTS

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
ARTICLES = Path(__file__).resolve().parents[2] / "gateway" / "faq" / "articles"
REASONS = sorted({reason for transition in TRANSITIONS.values() for reason in transition.reasons} | {"created"})


def facts(status: Status, reason: str = "member_request", **dates) -> SubscriberFacts:
    last = dates.pop("last_inactivity_command", None)
    keep_reason = dates.pop("keep_reason", None)
    pending_plan = dates.pop("pending_plan", None)
    return SubscriberFacts(status, reason, "standard", pending_plan, KeyDates(**dates), last, keep_reason)


@pytest.mark.parametrize("language", NOTICE_LOCALES)
def test_every_status_reason_substate_action_and_actor_has_a_text(language):
    texts = TEXTS[language]
    assert set(texts.status_labels) == set(texts.status_explanations) == {str(status) for status in Status}
    assert set(texts.reasons) == set(REASONS)
    assert set(texts.inactivity) == {str(state) for state in Inactivity}
    assert set(texts.actions) == {str(command) for command in Command}
    assert set(texts.actors) == {str(actor) for actor in Actor}
    every_text = [
        *texts.status_labels.values(),
        *texts.status_explanations.values(),
        texts.cancelled_no_rejoin,
        *texts.reasons.values(),
        *texts.inactivity.values(),
        *texts.actions.values(),
    ]
    assert all(text.strip() and text == text.strip() for text in every_text)


@pytest.mark.parametrize("language", NOTICE_LOCALES)
def test_placeholders_name_key_dates(language):
    texts = TEXTS[language]
    names = {
        field
        for text in (*texts.status_explanations.values(), texts.cancelled_no_rejoin, *texts.inactivity.values())
        for _, field, _, _ in string.Formatter().parse(text)
        if field
    }
    # last_access_day: the day before the period end (access ends at midnight), the date an agent quotes.
    assert names <= {*KeyDates.__dataclass_fields__, "last_access_day"}


def test_languages_say_different_things():
    """A copy of the English table under another name would pass the completeness test: it must not."""
    for language in NOTICE_LOCALES:
        if language != "en":
            assert TEXTS[language].status_explanations["cancelled"] != TEXTS["en"].status_explanations["cancelled"]
            assert TEXTS[language].cancelled_no_rejoin != TEXTS["en"].cancelled_no_rejoin


@pytest.mark.parametrize(
    ("locale", "language"),
    [("de-AT", "de"), ("fr", "fr"), ("ES-mx", "es"), ("ms-MY", "ms"), ("ja-JP", "en"), (None, "en"), ("", "en")],
)
def test_text_language_falls_back_like_the_notices(locale, language):
    assert text_language(locale) == language


@pytest.mark.parametrize("language", NOTICE_LOCALES)
def test_dates_are_written_in_the_language(language):
    scheduled = facts(Status.CANCELLATION_SCHEDULED, access_until=datetime(2026, 12, 24, tzinfo=UTC))
    text = explain(scheduled, language).status_text
    # The period ends at midnight starting 24 December: the last day with access is the 23rd.
    assert "23" in text and "24" not in text and "2026" in text and "{" not in text


def test_a_missing_date_never_breaks_the_text():
    text = explain(facts(Status.CANCELLED), "fr").status_text
    assert "(date inconnue)" in text


def test_inactivity_sub_state():
    assert inactivity(facts(Status.ACTIVE)) is Inactivity.NOT_WARNED
    assert inactivity(facts(Status.ACTIVE, respond_by=NOW)) is Inactivity.WARNED
    kept = facts(Status.ACTIVE, last_inactivity_command=Command.CONFIRM_KEEP, keep_reason="viewing_activity")
    assert inactivity(kept) is Inactivity.KEPT
    assert "watched something" in explain(kept, "en").inactivity_text
    rejoined = facts(Status.ACTIVE, "member_rejoined", last_inactivity_command=Command.CANCEL_INACTIVE)
    assert inactivity(rejoined) is Inactivity.NOT_WARNED
    assert explain(facts(Status.SUSPENDED), "en").inactivity_text is None
    cancelled_for_it = facts(
        Status.CANCELLED,
        "inactivity",
        last_inactivity_command=Command.CANCEL_INACTIVE,
        inactivity_warned=NOW - timedelta(days=14),
        cancelled=NOW,
    )
    assert inactivity(cancelled_for_it) is Inactivity.CANCELLED  # not "not warned": issue 22, item 6
    assert "did not answer in time" in explain(cancelled_for_it, "en").inactivity_text
    assert inactivity(facts(Status.CANCELLED, "partner_churn", last_inactivity_command=Command.CANCEL_INACTIVE)) is (
        Inactivity.NOT_WARNED
    )  # cancelled for inactivity once, rejoined, cancelled since for another reason


def test_actions_come_from_the_transition_table_with_who_and_when():
    warned = facts(Status.ACTIVE, respond_by=NOW + timedelta(days=3))
    actions = {action.command: action for action in available_actions(warned, NOW)}
    assert actions[Command.CONFIRM_KEEP].actors == (Actor.PARTNER, Actor.MEMBER)
    assert actions[Command.CANCEL_INACTIVE].actors == (Actor.SCHEDULER,)
    assert actions[Command.CANCEL_INACTIVE].due_at == NOW + timedelta(days=3)
    assert Command.WARN_INACTIVITY not in actions
    assert actions[Command.CANCEL_NOW].actors == (Actor.PARTNER, Actor.SERVICE)


@pytest.mark.parametrize(("billed_by", "who"), [("partner", (Actor.PARTNER,)), ("service", (Actor.MEMBER,))])
def test_the_member_cancels_with_whoever_bills_them_and_the_faq_says_the_same(billed_by, who):
    """Seed 004 and the cancel-partner-billed article: a partner-billed member cancels with the partner (the app
    sends them there); a service-billed one in the app, and that article is not suggested for them."""
    active = dataclasses.replace(facts(Status.ACTIVE), billed_by=billed_by)
    scheduled = dataclasses.replace(facts(Status.CANCELLATION_SCHEDULED), billed_by=billed_by)
    assert {a.command: a for a in available_actions(active, NOW)}[Command.SCHEDULE_CANCELLATION].actors == who
    assert {a.command: a for a in available_actions(scheduled, NOW)}[Command.REVERT_CANCELLATION].actors == who
    for situation in (active, scheduled):
        assert ("cancel-partner-billed" in faq_slugs(situation)) is (billed_by == "partner")


def test_rejoin_is_not_offered_after_a_cancellation_for_fraud_or_the_partners_own():
    inside = {"retention_until": NOW + timedelta(days=30)}
    for reason, by in (("fraud", Actor.SERVICE), ("partner_churn", Actor.PARTNER), ("account_closed", Actor.PARTNER)):
        ended = dataclasses.replace(facts(Status.CANCELLED, reason, **inside), cancelled_by=by)
        assert Command.REJOIN not in {action.command for action in available_actions(ended, NOW)}
    closed = dataclasses.replace(facts(Status.CANCELLED, "account_closed", **inside), cancelled_by=Actor.SERVICE)
    assert Command.REJOIN in {action.command for action in available_actions(closed, NOW)}


@pytest.mark.parametrize("language", NOTICE_LOCALES)
@pytest.mark.parametrize(
    ("reason", "by"),
    [("partner_churn", Actor.PARTNER), ("account_closed", Actor.PARTNER), ("fraud", Actor.PARTNER), ("fraud", None)],
)
def test_a_cancellation_rejoin_cannot_undo_says_so_and_offers_no_rejoin_article(language, reason, by):
    """The partner's cancel-now (every console reason) and any fraud cancellation: the usual "cancelled" text
    promises that rejoining restores the profile, which lifecycle.rejoin_refusal refuses; the other text says a
    new subscription is needed, and the rejoin article is not suggested."""
    retention = datetime(2027, 10, 1, tzinfo=UTC)
    ended = dataclasses.replace(facts(Status.CANCELLED, reason, retention_until=retention), cancelled_by=by)
    text = explain(ended, language).status_text
    assert text == TEXTS[language].cancelled_no_rejoin.format(retention_until=format_date(retention, language))
    assert text != explain(facts(Status.CANCELLED, retention_until=retention), language).status_text
    assert "rejoin-restore-profile" not in faq_slugs(ended)
    assert faq_slugs(ended)[-1] == "contact-support-escalation"


@pytest.mark.parametrize(("reason", "by"), [("member_request", Actor.MEMBER), ("account_closed", Actor.SERVICE)])
def test_a_cancellation_a_rejoin_undoes_keeps_the_rejoin_text_and_article(reason, by):
    ended = dataclasses.replace(facts(Status.CANCELLED, reason, retention_until=NOW), cancelled_by=by)
    assert "rejoining before then restores them" in explain(ended, "en").status_text
    assert faq_slugs(ended)[0] == "rejoin-restore-profile"


def test_rejoin_is_offered_only_inside_the_retention_window():
    inside = facts(Status.CANCELLED, retention_until=NOW + timedelta(days=1))
    after = facts(Status.CANCELLED, retention_until=NOW - timedelta(days=1))
    assert Command.REJOIN in {action.command for action in available_actions(inside, NOW)}
    assert Command.REJOIN not in {action.command for action in available_actions(after, NOW)}
    assert available_actions(facts(Status.PURGED), NOW) == []


def test_faq_articles_for_a_situation():
    assert faq_slugs(facts(Status.ACTIVE, respond_by=NOW))[:2] == [
        "keep-membership-confirmation",
        "inactive-membership-cancellation",
    ]
    assert faq_slugs(facts(Status.CANCELLED, "inactivity"))[0] == "inactive-membership-cancellation"
    assert faq_slugs(facts(Status.SUSPENDED, "non_payment")) == ["suspended-non-payment", "contact-support-escalation"]
    assert faq_slugs(facts(Status.ACTIVE, pending_plan="standard_with_ads"))[0] == "plan-change-timing"
    for status in Status:
        slugs = faq_slugs(facts(status))
        assert len(slugs) == len(set(slugs)) and slugs[-1] == "contact-support-escalation"


@pytest.mark.parametrize("locale", NOTICE_LOCALES)
def test_every_article_a_situation_points_to_exists(locale):
    assert {path.stem for path in (ARTICLES / locale).glob("*.md")} >= SITUATION_SLUGS


@pytest.mark.parametrize(
    ("published", "statuses", "expected"),
    [
        (False, [], NoticeDelivery.QUEUED),
        (True, [], NoticeDelivery.IN_FEED),
        (True, ["delivered", "pending"], NoticeDelivery.PENDING),
        (True, ["delivered", "dead", "pending"], NoticeDelivery.DEAD),
        (True, ["delivered", "delivered"], NoticeDelivery.DELIVERED),
    ],
)
def test_notice_delivery_names_what_needs_attention_first(published, statuses, expected):
    assert notice_delivery(published, statuses) is expected
