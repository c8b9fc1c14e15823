"""The escalation rules without I/O: the status machine, who may take each action, the SLA and overdue (and the
SLA setting checked when the app is built, on an in-memory store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway import create_app
from gateway.config import ConfigError
from gateway.domain import escalations as rules
from gateway.domain.errors import Conflict
from gateway.domain.escalations import Action, Duration, Priority, Side, Status

WEDNESDAY = datetime(2026, 11, 25, 9, 15, tzinfo=UTC)
FRIDAY = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
SATURDAY = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)

# (action, from, to, side): the whole machine, written out once more by hand.
EXPECTED = {
    (Action.ACKNOWLEDGE, Status.OPEN, Status.ACKNOWLEDGED, Side.SERVICE),
    (Action.START, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Side.SERVICE),
    (Action.RESOLVE, Status.IN_PROGRESS, Status.RESOLVED, Side.SERVICE),
    (Action.CLOSE, Status.RESOLVED, Status.CLOSED, Side.PARTNER),
    (Action.REOPEN, Status.RESOLVED, Status.OPEN, Side.PARTNER),
}


def test_the_transition_table_is_the_documented_machine():
    table = {(t.action, t.source, t.target, t.side) for t in rules.TRANSITIONS.values()}
    assert table == EXPECTED


@pytest.mark.parametrize(("action", "source", "target", "side"), sorted(EXPECTED))
def test_each_allowed_transition_applies(action, source, target, side):
    assert rules.check_transition(source, action, side).target is target


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("action", list(Action))
def test_every_other_status_refuses_the_action_naming_what_is_allowed(status, action):
    transition = rules.TRANSITIONS[action]
    if transition.source is status:
        return
    with pytest.raises(rules.InvalidTransition) as refused:
        rules.check_transition(status, action, transition.side)
    assert refused.value.extensions["current_status"] == status
    assert refused.value.extensions["allowed_transitions"] == [
        str(a) for a in rules.allowed_actions(status, transition.side)
    ]
    assert f"that is {status}" in refused.value.detail


def test_the_refusal_lists_the_sides_own_actions():
    with pytest.raises(rules.InvalidTransition) as refused:
        rules.check_transition(Status.IN_PROGRESS, Action.CLOSE, Side.PARTNER)
    assert refused.value.extensions == {"current_status": "in_progress", "allowed_transitions": []}
    with pytest.raises(rules.InvalidTransition) as refused:
        rules.check_transition(Status.IN_PROGRESS, Action.ACKNOWLEDGE, Side.SERVICE)
    assert refused.value.extensions["allowed_transitions"] == ["resolve"]


@pytest.mark.parametrize(
    ("action", "side"),
    [(Action.ACKNOWLEDGE, Side.PARTNER), (Action.RESOLVE, Side.PARTNER), (Action.CLOSE, Side.SERVICE),
     (Action.REOPEN, Side.SERVICE)],
)  # fmt: skip
def test_a_side_may_not_take_the_other_sides_actions_even_from_the_right_status(action, side):
    with pytest.raises(rules.SideNotAllowed):
        rules.check_transition(rules.TRANSITIONS[action].source, action, side)


def test_allowed_actions_per_side():
    assert rules.allowed_actions(Status.RESOLVED, Side.PARTNER) == [Action.CLOSE, Action.REOPEN]
    assert rules.allowed_actions(Status.RESOLVED, Side.SERVICE) == []
    assert rules.allowed_actions(Status.OPEN, Side.SERVICE) == [Action.ACKNOWLEDGE]
    assert rules.allowed_actions(Status.CLOSED) == []


def test_resolving_and_reopening_need_a_comment_the_others_do_not():
    needing = {action for action, t in rules.TRANSITIONS.items() if t.needs_comment}
    assert needing == {Action.RESOLVE, Action.REOPEN}


@pytest.mark.parametrize("status", [s for s in Status if s is not Status.CLOSED])
def test_comments_are_taken_until_the_case_is_closed(status):
    rules.check_comment(status)  # no error


def test_a_closed_case_takes_no_comment():
    with pytest.raises(Conflict, match="closed"):
        rules.check_comment(Status.CLOSED)


def test_changes_name_every_transition_and_the_opening_and_comments():
    assert set(rules.CHANGES) == {"opened", "commented", "acknowledged", "started", "resolved", "closed", "reopened"}


# -- SLA -----------------------------------------------------------------------------------------------------------


def test_the_default_policy():
    policy = rules.parse_sla_policy(rules.DEFAULT_SLA)
    assert policy.due_at(Priority.URGENT, WEDNESDAY) == WEDNESDAY + timedelta(hours=4)
    assert policy.due_at(Priority.HIGH, WEDNESDAY) == WEDNESDAY + timedelta(days=1)
    assert policy.due_at(Priority.NORMAL, WEDNESDAY) == datetime(2026, 11, 30, 9, 15, tzinfo=UTC)  # Thu, Fri, Mon
    assert policy.due_at("low", WEDNESDAY) == datetime(2026, 12, 2, 9, 15, tzinfo=UTC)


def test_business_days_skip_the_weekend():
    one = Duration(1, business_days=True)
    assert one.after(FRIDAY) == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # Monday
    assert one.after(SATURDAY) == datetime(2026, 11, 30, 11, 0, tzinfo=UTC)  # Monday, not Sunday
    assert Duration(5, business_days=True).after(FRIDAY) == FRIDAY + timedelta(days=7)


def test_hours_and_calendar_days_do_not_skip_the_weekend():
    policy = rules.parse_sla_policy("urgent=4h,high=2d,normal=72h,low=10bd")
    assert policy.due_at("urgent", FRIDAY) == FRIDAY + timedelta(hours=4)
    assert policy.due_at("high", FRIDAY) == FRIDAY + timedelta(days=2)  # Sunday
    assert policy.due_at("normal", FRIDAY) == FRIDAY + timedelta(hours=72)
    assert policy.due_at("low", FRIDAY) == FRIDAY + timedelta(days=14)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("urgent=4h,high=1bd,normal=3bd", "no response time for low"),
        ("urgent=4h,high=1bd,normal=3bd,low=5bd,high=2h", "high is given twice"),
        ("urgent=4h,high=1bd,normal=3bd,low=5w", "'low=5w' is not PRIORITY=DURATION"),
        ("urgent=4h,high=1bd,normal=3bd,critical=1h", "'critical' is not a priority"),
        ("urgent=0h,high=1bd,normal=3bd,low=5bd", "zero"),
        ("", "is not PRIORITY=DURATION"),
    ],
)
def test_a_broken_policy_is_refused_saying_why(text, message):
    with pytest.raises(ValueError, match=message):
        rules.parse_sla_policy(text)


def test_only_unresolved_cases_past_their_due_time_are_overdue():
    due = WEDNESDAY
    later = due + timedelta(seconds=1)
    for status in (Status.OPEN, Status.ACKNOWLEDGED, Status.IN_PROGRESS):
        assert rules.is_overdue(status, due, later)
        assert not rules.is_overdue(status, due, due)
    for status in (Status.RESOLVED, Status.CLOSED):
        assert not rules.is_overdue(status, due, later + timedelta(days=30))


def test_the_open_key_is_per_subscriber_and_category():
    assert rules.open_key("sub_1", rules.Category.BILLING) == "sub_1/billing"
    assert rules.open_key("sub_1", "billing") != rules.open_key("sub_1", "double_billing")


def test_plain_strings_are_as_good_as_the_enumerations():
    """The console passes form values: a plain "partner" must not read as another side."""
    assert rules.check_transition("resolved", "close", "partner").target is Status.CLOSED
    assert rules.allowed_actions("resolved", "partner") == [Action.CLOSE, Action.REOPEN]
    with pytest.raises(rules.InvalidTransition):
        rules.check_transition("open", "close", "partner")
    with pytest.raises(ValueError):
        rules.check_transition("open", "escalate", "partner")


def test_a_broken_sla_setting_stops_the_start_naming_the_variable():
    with pytest.raises(ConfigError, match=r"GATEWAY_ESCALATION_SLA=.*no response time for low"):
        create_app({"DATABASE_URL": "sqlite://", "ESCALATION_SLA": "urgent=4h,high=1bd,normal=3bd"})
