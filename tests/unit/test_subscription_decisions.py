"""The lifecycle decision on its own, without a store: what each command changes, and what still refuses it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.domain.errors import InvalidInput
from gateway.domain.events import EventType
from gateway.domain.lifecycle import Actor, Command, InvalidTransition, Status
from gateway.domain.subscription import (
    MEMBER_FIELDS,
    SubscriptionState,
    decide,
    decide_pending_downgrade,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
ACTIVE = SubscriptionState(
    status=Status.ACTIVE,
    status_reason="account_linked",
    billed_by="partner",
    billing_anchor=date(2026, 1, 15),
    plan="standard",
    member_id="mem_1",
    access_until=None,
    inactivity_respond_by=None,
    cancelled_at=None,
    retention_until=None,
    pending_plan=None,
    pending_plan_at=None,
)
PERIOD_END = datetime(2026, 3, 15, tzinfo=UTC)  # the anchor's next anniversary after NOW


def test_a_members_cancellation_keeps_access_until_the_period_ends():
    decision = decide(ACTIVE, Command.SCHEDULE_CANCELLATION, actor=Actor.PARTNER, reason="member_request", now=NOW)

    assert decision.changes["status"] is Status.CANCELLATION_SCHEDULED
    assert decision.changes["access_until"] == PERIOD_END
    assert decision.effective_at == PERIOD_END
    assert decision.details == {"access_until": PERIOD_END.isoformat()}
    assert decision.event is EventType.SUBSCRIPTION_CANCELLATION_SCHEDULED
    assert decision.previous is Status.ACTIVE


def test_a_cancellation_the_scheduler_reaches_late_stops_billing_at_the_period_end():
    scheduled = replace(ACTIVE, status=Status.CANCELLATION_SCHEDULED, access_until=PERIOD_END)
    late = PERIOD_END + timedelta(days=2)

    decision = decide(scheduled, Command.END_PERIOD, actor=Actor.SCHEDULER, reason="billing_period_ended", now=late)

    assert decision.changes["cancelled_at"] == PERIOD_END
    assert decision.changes["retention_until"] == datetime(2027, 1, 15, tzinfo=UTC)
    assert decision.changes["access_until"] is None
    assert decision.details["billing_stop_at"] == PERIOD_END.isoformat()


def test_a_revert_after_the_period_ended_is_refused_naming_what_else_may_be_done():
    scheduled = replace(ACTIVE, status=Status.CANCELLATION_SCHEDULED, access_until=NOW - timedelta(minutes=1))

    with pytest.raises(InvalidTransition) as refused:
        decide(scheduled, Command.REVERT_CANCELLATION, actor=Actor.PARTNER, reason="member_request", now=NOW)

    assert "its billing period ended at" in str(refused.value)
    assert Command.REVERT_CANCELLATION not in refused.value.allowed
    assert Command.CANCEL_NOW in refused.value.allowed


def test_a_downgrade_waits_for_the_period_end_and_an_upgrade_does_not():
    downgrade = decide(
        ACTIVE, Command.CHANGE_PLAN, actor=Actor.PARTNER, reason="ignored", now=NOW, plan="standard_with_ads"
    )
    upgrade = decide(ACTIVE, Command.CHANGE_PLAN, actor=Actor.PARTNER, reason="ignored", now=NOW, plan="premium")

    assert downgrade.reason == "downgrade"
    assert downgrade.changes == {"pending_plan": "standard_with_ads", "pending_plan_at": PERIOD_END}
    assert upgrade.reason == "upgrade"
    assert upgrade.changes == {"plan": "premium", "pending_plan": None, "pending_plan_at": None}
    assert upgrade.effective_at == NOW


def test_a_plan_change_without_a_new_plan_names_the_field():
    with pytest.raises(InvalidInput) as refused:
        decide(ACTIVE, Command.CHANGE_PLAN, actor=Actor.PARTNER, reason="upgrade", now=NOW)

    assert "plan" in refused.value.errors


def test_the_pending_downgrade_takes_hold_as_the_schedulers_change():
    waiting = replace(ACTIVE, pending_plan="standard_with_ads", pending_plan_at=PERIOD_END)

    decision = decide_pending_downgrade(waiting)

    assert decision.command == "apply_downgrade"
    assert decision.actor is Actor.SCHEDULER
    assert decision.changes == {"plan": "standard_with_ads", "pending_plan": None, "pending_plan_at": None}
    assert decision.details == {"plan": "standard_with_ads", "previous_plan": "standard", "change": "downgrade"}
    with pytest.raises(ValueError):
        decide_pending_downgrade(ACTIVE)


CANCELLED = replace(
    ACTIVE,
    status=Status.CANCELLED,
    status_reason="member_request",
    cancelled_at=NOW - timedelta(days=30),
    retention_until=NOW + timedelta(days=200),
)


def test_a_rejoin_within_the_retention_window_restores_the_membership():
    decision = decide(CANCELLED, Command.REJOIN, actor=Actor.MEMBER, reason="member_rejoined", now=NOW)

    assert decision.changes["status"] is Status.ACTIVE
    assert decision.changes["cancelled_at"] is None
    assert decision.details == {"restored": True}


@pytest.mark.parametrize(
    ("state", "why"),
    [
        (replace(CANCELLED, retention_until=NOW - timedelta(seconds=1)), "its retention window ended at"),
        (replace(CANCELLED, status_reason="fraud"), "it was cancelled for fraud"),
        (
            replace(CANCELLED, status_reason="partner_churn", cancelled_by=Actor.PARTNER),
            "the partner cancelled it for its own reasons (partner_churn)",
        ),
        (replace(CANCELLED, member_id=None), "it was never activated"),
    ],
)
def test_a_rejoin_is_refused_with_the_reason_that_stands(state, why):
    with pytest.raises(InvalidTransition) as refused:
        decide(state, Command.REJOIN, actor=Actor.MEMBER, reason="member_rejoined", now=NOW)

    assert why in str(refused.value)
    assert refused.value.allowed == []


def test_a_keep_after_the_respond_by_date_is_refused_unless_the_member_watched_in_time():
    warned = replace(ACTIVE, inactivity_respond_by=NOW - timedelta(hours=1))

    with pytest.raises(InvalidTransition) as refused:
        decide(warned, Command.CONFIRM_KEEP, actor=Actor.MEMBER, reason="member_confirmed", now=NOW)
    kept = decide(warned, Command.CONFIRM_KEEP, actor=Actor.MEMBER, reason="viewing_activity", now=NOW)

    assert "respond-by date passed" in str(refused.value)
    assert kept.changes == {"inactivity_respond_by": None}


def test_an_open_warning_is_moot_once_the_membership_is_suspended():
    warned = replace(ACTIVE, inactivity_respond_by=NOW + timedelta(days=5))

    decision = decide(warned, Command.SUSPEND, actor=Actor.PARTNER, reason="non_payment", now=NOW)

    assert decision.changes == {
        "status": Status.SUSPENDED,
        "status_reason": "non_payment",
        "inactivity_respond_by": None,
    }


def test_a_purge_clears_the_members_data_on_the_row_and_asks_for_the_rest():
    expired = replace(CANCELLED, retention_until=NOW - timedelta(days=1))

    decision = decide(expired, Command.PURGE, actor=Actor.SCHEDULER, reason="retention_expired", now=NOW)

    assert decision.forgets_member
    assert decision.changes["purged_at"] == NOW
    assert all(decision.changes[name] is None for name in MEMBER_FIELDS)
    assert not decide(ACTIVE, Command.SUSPEND, actor=Actor.PARTNER, reason="non_payment", now=NOW).forgets_member
