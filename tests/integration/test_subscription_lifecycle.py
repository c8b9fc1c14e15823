"""A whole subscription lifecycle on SQLite and PostgreSQL: gapless event sequences, and a purge that leaves no
member data behind."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from gateway.delivery.publisher import publish_events
from gateway.domain import escalations as escalation_rules
from gateway.domain.inactivity import MarketPolicies
from gateway.domain.lifecycle import Actor, Command, Status
from gateway.domain.periods import add_months
from gateway.services import campaigns as campaign_service
from gateway.services import escalations as escalation_service
from gateway.services import sharing as sharing_service
from gateway.services import subscriptions as subscription_service
from gateway.services.campaigns import CampaignSettings
from gateway.services.scheduler import run_due_transitions
from gateway.services.subscriptions import PURGED_TEXT
from gateway.store.models import Base, Escalation, EscalationEntry, OutboxEvent, Subscription, SubscriptionChange
from tests.support.seeding import Seeder, add_subscription, sharing_policy

JOINED = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
MEMBER_ID = "member-7f3c9a"  # distinctive, so a scan of every table finds any copy of it
WATCHED = datetime(2026, 2, 16, 21, 17, 43, 123456, tzinfo=UTC)  # the microseconds make it findable too


def apply(store, subscription_id: str, command: Command, actor: Actor, reason: str, now: datetime, **more):
    with store.transaction() as session:
        subscription = subscription_service.get_subscription(session, subscription_id, for_update=True)
        subscription_service.apply_command(session, subscription, command, actor=actor, reason=reason, now=now, **more)


def live_a_whole_life(store) -> str:
    """Every kind of change a subscription can go through, scheduled ones included, ending in the purge."""
    Seeder(store).partner("rheinfunk", markets=["DE"], locale="de-DE")
    with store.transaction() as session:
        subscription = subscription_service.create_subscription(
            session,
            partner_code="rheinfunk",
            partner_ref="cust-1",
            plan="standard",
            market="DE",
            billing_anchor=date(2025, 1, 10),
            now=JOINED,
            activation_window=timedelta(days=30),
            locale="en-GB",
        )
        code, subscription_id = subscription.activation_code, subscription.id
    with store.transaction() as session:
        subscription_service.activate_by_code(session, code, member_id=MEMBER_ID, reason="account_linked", now=JOINED)
    apply(store, subscription_id, Command.CHANGE_PLAN, Actor.PARTNER, "", JOINED + timedelta(days=1), plan="premium")
    apply(store, subscription_id, Command.CHANGE_PLAN, Actor.MEMBER, "", JOINED + timedelta(days=2), plan="standard")
    assert run_due_transitions(store, now=datetime(2025, 2, 10, tzinfo=UTC)).counts["downgrade_applied"] == 1

    # Never watched in the 12 months since joining: warned, then watching keeps the membership.
    warned_at = datetime(2026, 2, 15, 8, 0, tzinfo=UTC)
    with store.transaction() as session:
        campaign = campaign_service.start_campaign(
            session, dry_run=False, policies=MarketPolicies(), respond_days=14, now=warned_at
        )
    campaign_service.run_campaign(store, campaign.id, CampaignSettings(MarketPolicies()), clock=lambda: warned_at)
    with store.transaction() as session:
        reported = WATCHED + timedelta(hours=3)  # the service reports in batches, some time after
        result = subscription_service.record_viewing(session, [(subscription_id, WATCHED)], now=reported)
    assert result.updated == 1
    # A sharing policy in effect in DE: per-account notices may go out.
    sharing_policy(store, ["DE"], now=datetime(2026, 1, 20, tzinfo=UTC), in_effect=True)
    with store.transaction() as session:
        sharing_service.send_account_notice(
            session, subscription_id, sharing_service.HOUSEHOLD_VERIFICATION, now=datetime(2026, 2, 20, tzinfo=UTC)
        )

    apply(store, subscription_id, Command.SUSPEND, Actor.PARTNER, "non_payment", datetime(2026, 3, 1, tzinfo=UTC))
    apply(store, subscription_id, Command.RESUME, Actor.PARTNER, "payment_recovered", datetime(2026, 3, 2, tzinfo=UTC))
    for day in (3, 4):
        apply(
            store,
            subscription_id,
            Command.SCHEDULE_CANCELLATION,
            Actor.PARTNER,
            "member_request",
            datetime(2026, 3, day, tzinfo=UTC),
        )
        if day == 3:
            apply(
                store,
                subscription_id,
                Command.REVERT_CANCELLATION,
                Actor.PARTNER,
                "member_request",
                datetime(2026, 3, 3, 12, tzinfo=UTC),
            )
    assert run_due_transitions(store, now=datetime(2026, 3, 10, tzinfo=UTC)).counts["period_ended"] == 1
    apply(store, subscription_id, Command.REJOIN, Actor.MEMBER, "member_rejoined", datetime(2026, 4, 1, tzinfo=UTC))
    cancelled_at = datetime(2026, 4, 2, tzinfo=UTC)
    apply(store, subscription_id, Command.CANCEL_NOW, Actor.SERVICE, "account_closed", cancelled_at)
    retention_until = add_months(cancelled_at, 10)
    assert run_due_transitions(store, now=retention_until - timedelta(days=10)).counts["retention_expiring"] == 1
    assert run_due_transitions(store, now=retention_until).counts["purged"] == 1
    return subscription_id


def test_every_event_of_a_whole_lifecycle_has_the_next_sequence_number(store):
    subscription_id = live_a_whole_life(store)
    with store.read() as session:
        events = list(
            session.scalars(
                select(OutboxEvent).where(OutboxEvent.subscription_id == subscription_id).order_by(OutboxEvent.id)
            )
        )
        changes = list(
            session.scalars(
                select(SubscriptionChange)
                .where(SubscriptionChange.subscription_id == subscription_id)
                .order_by(SubscriptionChange.sequence)
            )
        )
        last = session.get(Subscription, subscription_id).sequence
    assert [event.sequence for event in events] == list(range(1, last + 1))  # 1, 2, 3, ... with no number missing
    assert [event.payload["sequence"] for event in events] == list(range(1, last + 1))
    # every change after the creation is one event, with the change's number
    assert [change.sequence for change in changes] == list(range(0, last + 1))
    assert [event.event_type for event in events] == [
        "subscription.activated",
        "subscription.plan_changed",  # upgrade
        "subscription.plan_changed",  # downgrade asked for
        "subscription.plan_changed",  # downgrade taking hold at the period end
        "account.inactivity_warning",
        "account.keep_confirmed",
        "sharing.household_verification_required",
        "subscription.suspended",
        "subscription.resumed",
        "subscription.cancellation_scheduled",
        "subscription.cancellation_reverted",
        "subscription.cancellation_scheduled",
        "subscription.cancelled",
        "subscription.reactivated",
        "subscription.cancelled",
        "account.retention_expiring",
        "subscription.purged",
    ]
    applied = events[3].payload["data"]
    assert (applied["actor"], applied["reason"], applied["change"]) == (
        "scheduler",
        "billing_period_ended",
        "downgrade",
    )
    assert (applied["plan"], applied["previous_plan"]) == ("standard", "premium")
    assert applied["effective_at"] == datetime(2025, 2, 10, tzinfo=UTC).isoformat()


def _every_stored_value(session) -> list[tuple[str, str]]:
    """(table, text of one value) for every column of every row of every table."""
    found = []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)).all():
            found.extend((table.name, str(value)) for value in row if value is not None)
    return found


def test_after_the_purge_no_member_data_is_left_anywhere_in_the_store(store):
    subscription_id = live_a_whole_life(store)
    with store.read() as session:
        purged = session.get(Subscription, subscription_id)
        assert purged.status == Status.PURGED
        assert purged.member_id is None
        assert purged.last_viewed_at is None
        assert purged.activated_at is None
        assert (purged.activation_code, purged.activation_expires_at) == (None, None)
        assert (purged.inactivity_warned_at, purged.inactivity_respond_by) == (None, None)
        assert purged.retention_notice_at is None
        assert purged.locale == "de-DE"  # the member's own language is gone; the partner's default stands in
        # the audit trail is kept, without member data
        details = session.scalars(
            select(SubscriptionChange.details).where(SubscriptionChange.subscription_id == subscription_id)
        ).all()
        assert len(details) == 18 and all("member_id" not in entry for entry in details)
        stored = _every_stored_value(session)
    assert [table for table, text in stored if MEMBER_ID in text] == []
    watched_texts = (WATCHED.isoformat(), str(WATCHED), str(WATCHED.replace(tzinfo=None)))
    assert [table for table, text in stored if any(watched in text for watched in watched_texts)] == []
    assert [table for table, text in stored if "en-GB" in text] == []


@pytest.mark.parametrize("status", [Status.PENDING_ACTIVATION, Status.CANCELLED, Status.PURGED])
def test_viewing_reports_for_a_subscription_that_is_not_live_are_skipped(store, status):
    Seeder(store).partner("rheinfunk", markets=["DE"], locale="de-DE")
    now = datetime(2026, 5, 1, tzinfo=UTC)
    with store.transaction() as session:
        subscription = add_subscription(session, "rheinfunk", "cust-1", now=now, active=False)
        if status is not Status.PENDING_ACTIVATION:
            subscription_service.apply_command(
                session, subscription, Command.CANCEL_NOW, actor=Actor.PARTNER, reason="partner_churn", now=now
            )
        if status is Status.PURGED:
            subscription_service.apply_command(
                session,
                subscription,
                Command.PURGE,
                actor=Actor.SCHEDULER,
                reason="retention_expired",
                now=subscription.retention_until,
            )
        subscription_id, version = subscription.id, subscription.version
    with store.transaction() as session:
        result = subscription_service.record_viewing(session, [(subscription_id, WATCHED)], now=now)
    assert (result.updated, result.unknown, result.skipped) == (0, [], [subscription_id])
    with store.read() as session:
        row = session.get(Subscription, subscription_id)
        assert row.last_viewed_at is None and row.version == version


def test_the_purge_removes_what_agents_wrote_about_the_member_and_keeps_the_cases_course(store):
    Seeder(store).partner("rheinfunk", markets=["DE"], locale="de-DE")
    written = ["Anna Beispiel, Lindenweg 4, calls about a double charge", "Anna Beispiel sent her IBAN DE02 1203"]
    opened_at = datetime(2026, 1, 5, tzinfo=UTC)
    sla = escalation_rules.parse_sla_policy(escalation_rules.DEFAULT_SLA)
    with store.transaction() as session:
        subscription = add_subscription(session, "rheinfunk", "cust-1", now=opened_at)
        subscription_id = subscription.id
        case = escalation_service.open_escalation(
            session, partner_code="rheinfunk", partner_ref="cust-1", category="billing", priority="normal",
            description=written[0], agent_ref="agent-7", now=opened_at, sla=sla,
        ).escalation  # fmt: skip
        escalation_service.add_comment(
            session, case, side="service", author="support", comment=written[1], now=opened_at + timedelta(hours=1)
        )
        case_id, version = case.id, case.version
    cancelled_at = opened_at + timedelta(days=1)
    apply(store, subscription_id, Command.CANCEL_NOW, Actor.PARTNER, "partner_churn", cancelled_at)
    with store.transaction() as session:
        publish_events(session, cancelled_at)  # as the dispatcher does; published events expire after 30 days

    assert run_due_transitions(store, now=add_months(cancelled_at, 10)).counts["purged"] == 1

    with store.read() as session:
        case = session.get(Escalation, case_id)
        entries = session.scalars(select(EscalationEntry).where(EscalationEntry.escalation_id == case_id)).all()
        stored = _every_stored_value(session)
    assert case.description == PURGED_TEXT and case.version == version + 1
    assert [(entry.kind, entry.side, entry.author) for entry in entries] == [
        ("opened", "partner", "agent-7"),
        ("comment", "service", "support"),
    ]
    assert [entry.comment for entry in entries if entry.kind == "comment"] == [PURGED_TEXT]
    assert [table for table, text in stored if "Anna Beispiel" in text] == []
