"""The transition table: every status x command, who may act, and the calendar rules around it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from gateway.domain.lifecycle import (
    EVENT_TYPES,
    TRANSITIONS,
    Actor,
    ActorNotAllowed,
    Command,
    InvalidTransition,
    Status,
    allowed_commands,
    check_transition,
)
from gateway.domain.periods import add_months, period_end, retention_end
from gateway.domain.plans import plan_change

S, C = Status, Command

# The lifecycle the issue describes, written out independently of the table it checks.
EXPECTED = {
    (S.PENDING_ACTIVATION, C.ACTIVATE): S.ACTIVE,
    (S.PENDING_ACTIVATION, C.EXPIRE_ACTIVATION): S.CANCELLED,
    (S.PENDING_ACTIVATION, C.CANCEL_NOW): S.CANCELLED,
    (S.ACTIVE, C.SUSPEND): S.SUSPENDED,
    (S.SUSPENDED, C.RESUME): S.ACTIVE,
    (S.ACTIVE, C.SCHEDULE_CANCELLATION): S.CANCELLATION_SCHEDULED,
    (S.CANCELLATION_SCHEDULED, C.REVERT_CANCELLATION): S.ACTIVE,
    (S.CANCELLATION_SCHEDULED, C.END_PERIOD): S.CANCELLED,
    (S.ACTIVE, C.CANCEL_NOW): S.CANCELLED,
    (S.SUSPENDED, C.CANCEL_NOW): S.CANCELLED,
    (S.CANCELLATION_SCHEDULED, C.CANCEL_NOW): S.CANCELLED,
    (S.ACTIVE, C.CHANGE_PLAN): None,
    (S.CANCELLED, C.REJOIN): S.ACTIVE,
    (S.CANCELLED, C.PURGE): S.PURGED,
    (S.ACTIVE, C.WARN_INACTIVITY): None,  # a sub-state of active: warned, with a respond-by date
}
# With an open inactivity warning the member keeps (or the scheduler cancels); nobody warns twice.
EXPECTED_WARNED = {
    **{key: target for key, target in EXPECTED.items() if key != (S.ACTIVE, C.WARN_INACTIVITY)},
    (S.ACTIVE, C.CONFIRM_KEEP): None,
    (S.ACTIVE, C.CANCEL_INACTIVE): S.CANCELLED,
}


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("command", list(Command))
def test_every_status_and_command(status, command):
    transition = TRANSITIONS[command]
    actor = sorted(transition.actors_for("partner"))[0]
    reason = sorted(transition.reasons)[0]
    if (status, command) in EXPECTED:
        assert check_transition(status, command, actor, reason).target == EXPECTED[(status, command)]
    else:
        with pytest.raises(InvalidTransition) as refused:
            check_transition(status, command, actor, reason)
        assert refused.value.extensions["current_status"] == status
        # what this actor may do instead: another actor's commands are not its way out
        assert refused.value.extensions["allowed_transitions"] == [str(c) for c in allowed_commands(status, actor)]


@pytest.mark.parametrize("command", list(Command))
def test_every_command_on_a_warned_active_subscription(command):
    transition = TRANSITIONS[command]
    actor, reason = sorted(transition.actors_for("partner"))[0], sorted(transition.reasons)[0]
    if (S.ACTIVE, command) in EXPECTED_WARNED:
        target = check_transition(S.ACTIVE, command, actor, reason, warned=True).target
        assert target == EXPECTED_WARNED[(S.ACTIVE, command)]
    else:
        with pytest.raises(InvalidTransition) as refused:
            check_transition(S.ACTIVE, command, actor, reason, warned=True)
        assert "open inactivity warning" in refused.value.detail
        assert refused.value.extensions["allowed_transitions"] == [
            str(c) for c in allowed_commands(S.ACTIVE, actor, warned=True)
        ]


def test_keeping_without_a_warning_names_the_missing_sub_state():
    with pytest.raises(InvalidTransition) as refused:
        check_transition(S.ACTIVE, C.CONFIRM_KEEP, Actor.PARTNER, "partner_confirmed")
    assert "without an open inactivity warning" in refused.value.detail
    assert "confirm_keep" not in refused.value.extensions["allowed_transitions"]


def test_a_refusal_names_only_what_the_refused_actor_may_do():
    with pytest.raises(InvalidTransition) as refused:
        check_transition(S.PENDING_ACTIVATION, C.RESUME, Actor.PARTNER, "payment_recovered")
    assert refused.value.extensions == {"current_status": "pending_activation", "allowed_transitions": ["cancel_now"]}
    assert refused.value.detail == "Cannot resume a subscription that is pending_activation; allowed: cancel_now."


def test_a_refusal_by_a_condition_of_the_command_says_why():
    refused = InvalidTransition(S.CANCELLED, C.REJOIN, [], why="it was never activated")
    assert refused.detail == "Cannot rejoin a subscription that is cancelled: it was never activated; allowed: none."
    assert refused.extensions == {"current_status": "cancelled", "allowed_transitions": []}
    assert (refused.status, refused.command, refused.warned) == (S.CANCELLED, C.REJOIN, False)


def test_purged_is_final():
    assert allowed_commands(Status.PURGED) == []


# Who may trigger each transition and with which reason codes, as the issue and the README's table name them.
WHO_AND_WHY = {
    C.ACTIVATE: ({Actor.SERVICE, Actor.MEMBER}, {"account_linked", "account_created"}),
    C.EXPIRE_ACTIVATION: ({Actor.SCHEDULER}, {"activation_expired"}),
    C.SUSPEND: ({Actor.PARTNER}, {"non_payment"}),
    C.RESUME: ({Actor.PARTNER}, {"payment_recovered"}),
    C.SCHEDULE_CANCELLATION: ({Actor.PARTNER, Actor.MEMBER}, {"member_request"}),  # by who bills (below)
    C.REVERT_CANCELLATION: ({Actor.PARTNER, Actor.MEMBER}, {"member_request"}),
    C.END_PERIOD: ({Actor.SCHEDULER}, {"billing_period_ended"}),
    C.CANCEL_NOW: ({Actor.PARTNER, Actor.SERVICE}, {"partner_churn", "account_closed", "fraud"}),
    C.CHANGE_PLAN: ({Actor.PARTNER, Actor.MEMBER}, {"upgrade", "downgrade"}),
    C.REJOIN: ({Actor.MEMBER}, {"member_rejoined"}),
    C.PURGE: ({Actor.SCHEDULER}, {"retention_expired"}),
    C.WARN_INACTIVITY: ({Actor.SCHEDULER}, {"inactivity"}),
    C.CONFIRM_KEEP: ({Actor.MEMBER, Actor.PARTNER}, {"member_confirmed", "partner_confirmed", "viewing_activity"}),
    C.CANCEL_INACTIVE: ({Actor.SCHEDULER}, {"inactivity"}),
}


def test_the_table_names_who_and_why_for_every_command():
    assert set(WHO_AND_WHY) == set(C) == set(TRANSITIONS)


@pytest.mark.parametrize(("command", "who_and_why"), WHO_AND_WHY.items(), ids=[str(c) for c in WHO_AND_WHY])
def test_who_may_trigger_each_transition_and_why(command, who_and_why):
    actors, reasons = who_and_why
    assert (TRANSITIONS[command].actors, TRANSITIONS[command].reasons) == (actors, reasons)


@pytest.mark.parametrize("command", [C.SCHEDULE_CANCELLATION, C.REVERT_CANCELLATION])
def test_a_members_own_cancellation_is_made_with_whoever_bills_the_member(command):
    assert TRANSITIONS[command].actors_for("partner") == {Actor.PARTNER}
    assert TRANSITIONS[command].actors_for("service") == {Actor.MEMBER}
    source = S.ACTIVE if command is C.SCHEDULE_CANCELLATION else S.CANCELLATION_SCHEDULED
    with pytest.raises(ActorNotAllowed, match="with the partner"):
        check_transition(source, command, Actor.MEMBER, "member_request", billed_by="partner")
    with pytest.raises(ActorNotAllowed, match="in the app"):
        check_transition(source, command, Actor.PARTNER, "member_request", billed_by="service")
    assert command not in allowed_commands(source, Actor.MEMBER, billed_by="partner")
    assert command in allowed_commands(source, Actor.MEMBER, billed_by="service")


def test_a_members_request_is_never_an_immediate_cancellation():
    with pytest.raises(ValueError, match="reason"):
        check_transition(S.ACTIVE, C.CANCEL_NOW, Actor.PARTNER, "member_request")


def test_an_actor_outside_the_table_is_refused():
    with pytest.raises(ActorNotAllowed):
        check_transition(S.CANCELLED, C.REJOIN, Actor.PARTNER, "member_rejoined")


def test_a_reason_outside_the_table_is_a_programming_error():
    with pytest.raises(ValueError, match="reason"):
        check_transition(S.ACTIVE, C.SUSPEND, Actor.PARTNER, "boredom")


def test_every_event_the_issue_names_is_emitted():
    names = {
        "activated",
        "plan_changed",
        "suspended",
        "resumed",
        "cancellation_scheduled",
        "cancellation_reverted",
        "cancelled",
        "reactivated",
        "purged",
    }
    inactivity = {"account.inactivity_warning", "account.keep_confirmed"}  # the notices issue's sub-state
    assert set(EVENT_TYPES) == {f"subscription.{name}" for name in names} | inactivity


@pytest.mark.parametrize(
    ("anchor", "after", "expected"),
    [
        (date(2026, 1, 15), datetime(2026, 3, 10, tzinfo=UTC), datetime(2026, 3, 15, tzinfo=UTC)),
        (date(2026, 1, 15), datetime(2026, 3, 15, tzinfo=UTC), datetime(2026, 4, 15, tzinfo=UTC)),
        (date(2026, 1, 31), datetime(2026, 2, 3, tzinfo=UTC), datetime(2026, 2, 28, tzinfo=UTC)),
        (date(2026, 1, 31), datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC)),
        (date(2027, 5, 1), datetime(2026, 3, 1, tzinfo=UTC), datetime(2027, 5, 1, tzinfo=UTC)),
        (date(2025, 12, 20), datetime(2026, 12, 25, tzinfo=UTC), datetime(2027, 1, 20, tzinfo=UTC)),
    ],
)
def test_the_billing_period_ends_on_the_anchor_day(anchor, after, expected):
    assert period_end(anchor, after) == expected


def test_retention_is_ten_months_with_month_end_clamping():
    assert retention_end(datetime(2026, 3, 31, 12, tzinfo=UTC)) == datetime(2027, 1, 31, 12, tzinfo=UTC)
    assert retention_end(datetime(2026, 4, 30, tzinfo=UTC)) == datetime(2027, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2024, 1, 31, tzinfo=UTC), 1) == datetime(2024, 2, 29, tzinfo=UTC)


def test_plan_changes_are_upgrades_or_downgrades():
    assert plan_change("standard", "premium") == "upgrade"
    assert plan_change("standard", "standard_with_ads") == "downgrade"
    with pytest.raises(ValueError, match="already"):
        plan_change("premium", "premium")
