"""The partner's commands as the console offers them, and the outcome it confirms: decided by the lifecycle, worded
by the situation texts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.domain import partner_actions
from gateway.domain.errors import Conflict
from gateway.domain.lifecycle import PARTNER_BILLED, SERVICE_BILLED, TRANSITIONS, Actor, Command, Status
from gateway.domain.notices import format_date
from gateway.domain.situation import Inactivity, KeyDates, SubscriberFacts, inactivity
from gateway.domain.subscription import SubscriptionState

NOW = datetime(2026, 12, 7, 10, tzinfo=UTC)
ANCHOR = date(2026, 11, 15)  # the period runs to 15 December: the last day of access is 14 December


def _state(status: Status = Status.ACTIVE, **changes) -> SubscriptionState:
    values = {
        "status": status,
        "status_reason": "account_linked",
        "billed_by": PARTNER_BILLED,
        "billing_anchor": ANCHOR,
        "plan": "standard",
        "member_id": "member-1",
        "access_until": None,
        "inactivity_respond_by": None,
        "cancelled_at": None,
        "retention_until": None,
        "pending_plan": None,
        "pending_plan_at": None,
    }
    return SubscriptionState(**{**values, **changes})


def _facts(state: SubscriptionState) -> SubscriberFacts:
    return SubscriberFacts(
        status=state.status,
        reason=state.status_reason,
        plan=state.plan,
        pending_plan=state.pending_plan,
        billed_by=state.billed_by,
        dates=KeyDates(
            joined=NOW - timedelta(days=60),
            inactivity_warned=NOW - timedelta(days=1) if state.inactivity_respond_by else None,
            respond_by=state.inactivity_respond_by,
            access_until=state.access_until,
            cancelled=state.cancelled_at,
            retention_until=state.retention_until,
        ),
    )


def _outcome(state: SubscriptionState, command: Command, reason: str | None = None, **options):
    reason = reason if reason is not None else partner_actions.reason_for(command, "partner_churn")
    return partner_actions.outcome(state, _facts(state), command, reason=reason, now=NOW, locale="en", **options)


def test_the_console_offers_every_command_the_partner_may_issue_and_no_other():
    issued_by_partners = {command for command, transition in TRANSITIONS.items() if Actor.PARTNER in transition.actors}
    assert set(partner_actions.PARTNER_COMMANDS) == issued_by_partners
    for command in partner_actions.PARTNER_COMMANDS:
        reason = partner_actions.reason_for(command, "fraud")
        assert reason == "" if command is Command.CHANGE_PLAN else reason in TRANSITIONS[command].reasons


@pytest.mark.parametrize(
    ("status", "warned", "billed_by", "offered"),
    [
        (
            Status.ACTIVE,
            True,
            PARTNER_BILLED,
            ["confirm_keep", "change_plan", "schedule_cancellation", "suspend", "cancel_now"],
        ),
        (Status.ACTIVE, False, SERVICE_BILLED, ["change_plan", "suspend", "cancel_now"]),
        (Status.CANCELLATION_SCHEDULED, False, PARTNER_BILLED, ["revert_cancellation", "cancel_now"]),
        (Status.SUSPENDED, False, PARTNER_BILLED, ["resume", "cancel_now"]),
        (Status.PENDING_ACTIVATION, False, PARTNER_BILLED, ["cancel_now"]),
        (Status.CANCELLED, False, PARTNER_BILLED, []),
        (Status.PURGED, False, PARTNER_BILLED, []),
    ],
)
def test_what_is_offered_from_each_state(status, warned, billed_by, offered):
    assert partner_actions.offered(status, warned=warned, billed_by=billed_by) == offered


@pytest.mark.parametrize("chosen", [None, "", "member_request", "fraud "])
def test_an_immediate_cancellation_needs_one_of_its_own_reasons(chosen):
    assert partner_actions.reason_for(Command.CANCEL_NOW, chosen) is None
    assert partner_actions.reason_for(Command.CANCEL_NOW, "fraud") == "fraud"
    assert set(partner_actions.cancel_now_reasons("de")) == {"partner_churn", "account_closed", "fraud"}
    assert partner_actions.cancel_now_reasons("de")["fraud"].endswith("Betrugsverdachts beendet.")


def test_a_scheduled_cancellation_says_the_last_day_of_access_and_that_billing_stops():
    outcome = _outcome(_state(), Command.SCHEDULE_CANCELLATION)

    assert outcome.facts.status is Status.CANCELLATION_SCHEDULED
    assert outcome.effective_at == datetime(2026, 12, 15, tzinfo=UTC)
    assert f"up to and including {format_date(datetime(2026, 12, 14), 'en')}" in outcome.explanation.status_text
    assert "not charged after that" in outcome.explanation.status_text
    assert outcome.reason_text == "The customer asked for it."
    german = partner_actions.outcome(
        _state(), _facts(_state()), Command.SCHEDULE_CANCELLATION, reason="member_request", now=NOW, locale="de-AT"
    )
    assert "14. Dezember 2026" in german.explanation.status_text


def test_an_immediate_cancellation_ends_now_and_keeps_the_profile_until_retention_ends():
    outcome = _outcome(_state(), Command.CANCEL_NOW, "partner_churn")

    assert outcome.facts.status is Status.CANCELLED and outcome.facts.cancelled_by is Actor.PARTNER
    assert outcome.facts.dates.cancelled == NOW and outcome.facts.dates.retention_until > NOW
    assert format_date(outcome.facts.dates.retention_until, "en") in outcome.explanation.status_text
    assert outcome.explanation.status_label == "Cancelled"


def test_a_keep_answers_the_warning():
    warned = _state(inactivity_respond_by=NOW + timedelta(days=5))

    outcome = _outcome(warned, Command.CONFIRM_KEEP)

    assert inactivity(_facts(warned)) is Inactivity.WARNED
    assert inactivity(outcome.facts) is Inactivity.KEPT and outcome.facts.dates.respond_by is None
    assert "the membership was kept" in outcome.explanation.inactivity_text
    assert "You confirmed on the customer's behalf." in outcome.explanation.inactivity_text


@pytest.mark.parametrize(("plan", "kind"), [("premium", "upgrade"), ("standard_with_ads", "downgrade")])
def test_a_plan_change_is_an_upgrade_at_once_or_a_downgrade_at_the_period_end(plan, kind):
    outcome = _outcome(_state(), Command.CHANGE_PLAN, plan=plan)

    assert outcome.decision.reason == kind
    if kind == "upgrade":
        assert outcome.facts.plan == "premium" and outcome.effective_at == NOW
        assert outcome.reason_text == "The customer moved to a bigger plan, effective at once."
    else:
        assert outcome.facts.plan == "standard" and outcome.facts.pending_plan == "standard_with_ads"
        assert outcome.effective_at == datetime(2026, 12, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("state", "command"),
    [
        (_state(), Command.RESUME),  # not suspended
        (_state(), Command.CONFIRM_KEEP),  # no warning open
        (_state(inactivity_respond_by=NOW - timedelta(minutes=1)), Command.CONFIRM_KEEP),  # too late
        (_state(Status.CANCELLATION_SCHEDULED, access_until=NOW - timedelta(hours=1)), Command.REVERT_CANCELLATION),
        (_state(billed_by=SERVICE_BILLED), Command.SCHEDULE_CANCELLATION),  # the app takes it
    ],
)
def test_the_outcome_refuses_what_the_lifecycle_refuses(state, command):
    with pytest.raises(Conflict):  # InvalidTransition, or ActorNotAllowed for the app's own cancellation
        _outcome(state, command)


def test_facts_after_keeps_what_the_decision_does_not_touch():
    state = _state(Status.SUSPENDED)
    facts = replace(_facts(state), keep_reason="member_confirmed", last_inactivity_command=Command.CONFIRM_KEEP)

    resumed = partner_actions.outcome(state, facts, Command.RESUME, reason="payment_recovered", now=NOW, locale="en")

    assert resumed.facts.status is Status.ACTIVE and resumed.facts.reason == "payment_recovered"
    assert resumed.facts.keep_reason == "member_confirmed" and resumed.facts.dates.joined == facts.dates.joined
    assert resumed.explanation.status_text == "The membership is running and the customer can watch."
