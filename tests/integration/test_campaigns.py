"""The inactivity program on SQLite and PostgreSQL: campaign runs, keeping, cancellation, retention notices."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from gateway.domain.inactivity import MarketPolicies, parse_market_policies
from gateway.domain.lifecycle import Actor, Command, InvalidTransition
from gateway.domain.periods import add_months
from gateway.services import campaigns as campaign_service
from gateway.services import subscriptions as subscription_service
from gateway.services.campaigns import CampaignSettings
from gateway.services.scheduler import DueSettings, run_due_transitions, run_waiting_campaigns
from gateway.store.models import Campaign, OutboxEvent, Subscription, SubscriptionChange
from tests.support.seeding import Seeder, add_subscription

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
DEFAULTS = MarketPolicies()


def member(session, partner, ref, *, joined_months_ago, watched_months_ago=None, market="DE", locale="de-DE"):
    """An active member who joined (activated) that long ago and last watched that long ago (None: never)."""
    subscription = add_subscription(session, partner, ref, now=add_months(NOW, -joined_months_ago), market=market)
    subscription.locale = locale
    if watched_months_ago is not None:
        subscription.last_viewed_at = add_months(NOW, -watched_months_ago)
    return subscription.id


@pytest.fixture
def members(store):
    """One member per case of the policy (12 months never watched / 24 months idle) and a few that never count."""
    seed = Seeder(store)
    seed.partner("rheinfunk", markets=["DE", "AT", "FR"], locale="de-DE")
    seed.partner("selat", markets=["MY"], locale="ms-MY")
    with store.transaction() as session:
        ids = {
            "never_watched": member(session, "rheinfunk", "a", joined_months_ago=13),
            "idle": member(session, "rheinfunk", "b", joined_months_ago=40, watched_months_ago=25),
            "idle_at": member(session, "rheinfunk", "c", joined_months_ago=40, watched_months_ago=26, market="AT"),
            "malay": member(session, "selat", "d", joined_months_ago=30, market="MY", locale="ms-MY"),
            "new": member(session, "rheinfunk", "e", joined_months_ago=11),
            "watching": member(session, "rheinfunk", "f", joined_months_ago=40, watched_months_ago=23),
        }
        pending = add_subscription(session, "rheinfunk", "g", now=add_months(NOW, -20), active=False)
        suspended = add_subscription(session, "rheinfunk", "h", now=add_months(NOW, -20))
        subscription_service.apply_command(
            session, suspended, Command.SUSPEND, actor=Actor.PARTNER, reason="non_payment", now=NOW
        )
        ids.update(pending=pending.id, suspended=suspended.id)
    return ids


INACTIVE = {"never_watched", "idle", "idle_at", "malay"}


def warning_events(store) -> list[dict]:
    with store.read() as session:
        query = select(OutboxEvent.payload).where(OutboxEvent.event_type == "account.inactivity_warning")
        return list(session.scalars(query.order_by(OutboxEvent.id)))


def start_and_run(store, *, policies=DEFAULTS, chunk_size=2, now=NOW):
    with store.transaction() as session:
        campaign = campaign_service.start_campaign(session, dry_run=False, policies=policies, respond_days=14, now=now)
    settings = CampaignSettings(policies, chunk_size=chunk_size)
    return campaign_service.run_campaign(store, campaign.id, settings, clock=lambda: now)


def test_a_dry_run_counts_by_partner_and_market_and_changes_nothing(store, members):
    with store.transaction() as session:
        campaign = campaign_service.start_campaign(session, dry_run=True, policies=DEFAULTS, respond_days=14, now=NOW)
    assert campaign.status == "completed" and campaign.candidates == 4 and campaign.warned == 0
    assert campaign.counts == {"rheinfunk/AT": 1, "rheinfunk/DE": 2, "selat/MY": 1}
    assert warning_events(store) == []
    with store.read() as session:
        assert session.scalar(select(Subscription).where(Subscription.inactivity_warned_at.is_not(None))) is None


def test_a_run_warns_each_inactive_member_once_with_a_respond_by_date_and_text(store, members):
    campaign = start_and_run(store)
    assert campaign.status == "completed" and campaign.warned == 4 == campaign.candidates
    assert campaign.counts == {"rheinfunk/AT": 1, "rheinfunk/DE": 2, "selat/MY": 1}
    events = warning_events(store)
    by_subscription = {event["subscription"]["id"]: event for event in events}
    assert set(by_subscription) == {members[name] for name in INACTIVE}
    respond_by = datetime(2026, 12, 6, 23, 59, 59, tzinfo=UTC)
    for event in events:
        assert event["data"]["respond_by"] == respond_by.isoformat()
        assert event["data"]["campaign_id"] == campaign.id
        assert event["sequence"] == 2  # created (0), activated (1), warned (2)
    assert by_subscription[members["never_watched"]]["data"]["inactivity"] == "never_watched"
    assert by_subscription[members["idle"]]["data"]["inactivity"] == "idle"
    german = by_subscription[members["never_watched"]]["data"]["notice"]
    assert german["locale"] == "de" and "6. Dezember 2026" in german["body"]
    assert by_subscription[members["malay"]]["data"]["notice"]["locale"] == "ms"

    with store.read() as session:
        warned = session.get(Subscription, members["idle"])
        assert warned.status == "active" and warned.inactivity_respond_by == respond_by and warned.version == 3
        change = session.scalar(
            select(SubscriptionChange).where(
                SubscriptionChange.subscription_id == warned.id, SubscriptionChange.sequence == 2
            )
        )
        assert (change.command, change.reason, change.actor) == ("warn_inactivity", "inactivity", "scheduler")

    again = start_and_run(store, now=NOW + timedelta(days=1))
    assert again.candidates == 0 and again.warned == 0  # nobody is warned twice
    assert len(warning_events(store)) == 4


def test_a_market_can_have_its_own_policy(store, members):
    with store.transaction() as session:
        member(session, "rheinfunk", "fr", joined_months_ago=7, market="FR")  # inactive only under FR's 6 months
        assert "rheinfunk/FR" not in campaign_service.preview(session, DEFAULTS, NOW)
        found = campaign_service.preview(session, parse_market_policies("AT=48/48,MY=6/12,FR=6/12"), NOW)
    # AT waits 48 months, FR only 6; DE keeps the default
    assert found == {"rheinfunk/DE": 2, "rheinfunk/FR": 1, "selat/MY": 1}


def test_a_run_that_crashes_is_resumed_from_its_cursor_and_warns_nobody_twice(store, members):
    with store.transaction() as session:
        campaign = campaign_service.start_campaign(session, dry_run=False, policies=DEFAULTS, respond_days=14, now=NOW)
    settings = CampaignSettings(DEFAULTS, chunk_size=1, lease=timedelta(minutes=5))
    calls = Counter()

    def crashing_clock():
        calls["now"] += 1
        if calls["now"] == 4:  # the claim, chunk one, chunk two, then the crash in the third chunk
            raise RuntimeError("the machine went away")
        return NOW

    with pytest.raises(RuntimeError):
        campaign_service.run_campaign(store, campaign.id, settings, clock=crashing_clock)
    with store.read() as session:
        stopped = session.get(Campaign, campaign.id)
        assert stopped.status == "running" and stopped.warned == 2 and stopped.cursor is not None
    assert len(warning_events(store)) == 2

    # Another runner cannot take it while the lease lives; the scheduler takes it over once it has run out.
    assert campaign_service.run_campaign(store, campaign.id, settings, clock=lambda: NOW) is None
    later = NOW + timedelta(minutes=6)
    assert run_waiting_campaigns(store, settings, now=later) == [campaign.id]
    with store.read() as session:
        finished = session.get(Campaign, campaign.id)
    assert finished.status == "completed" and finished.warned == 4
    events = warning_events(store)
    assert sorted(event["subscription"]["id"] for event in events) == sorted(members[name] for name in INACTIVE)
    assert run_waiting_campaigns(store, settings, now=later) == []


def test_keeping_clears_the_warning_and_spares_the_member_until_the_idle_window_passes(store, members):
    start_and_run(store)
    with store.transaction() as session:
        subscription = session.get(Subscription, members["idle"])
        subscription_service.apply_command(
            session, subscription, Command.CONFIRM_KEEP, actor=Actor.PARTNER, reason="partner_confirmed", now=NOW
        )
        assert subscription.inactivity_respond_by is None and subscription.inactivity_warned_at == NOW
        with pytest.raises(InvalidTransition):  # kept once; nothing open to keep any more
            subscription_service.apply_command(
                session, subscription, Command.CONFIRM_KEEP, actor=Actor.PARTNER, reason="partner_confirmed", now=NOW
            )
    with store.read() as session:
        kept = session.scalar(select(OutboxEvent.payload).where(OutboxEvent.event_type == "account.keep_confirmed"))
    assert kept["data"]["reason"] == "partner_confirmed" and kept["data"]["notice"]["locale"] == "de"

    with store.transaction() as session:
        assert campaign_service.preview(session, DEFAULTS, NOW + timedelta(days=1)) == {}
        # 25 months on: the kept member again (the idle window has passed since the warning), and the two who
        # were active then; the other warned members still have their warnings open, so are not asked again.
        assert campaign_service.preview(session, DEFAULTS, add_months(NOW, 25)) == {"rheinfunk/DE": 3}


def test_watching_after_the_warning_keeps_the_membership(store, members):
    start_and_run(store)
    with store.transaction() as session:
        updated, unknown, _, _ = subscription_service.record_viewing(
            session,
            [(members["never_watched"], NOW + timedelta(days=2)), (members["idle"], NOW - timedelta(days=1))],
            now=NOW + timedelta(days=3),
        )
    assert updated == 2 and unknown == []
    with store.read() as session:
        watched = session.get(Subscription, members["never_watched"])
        before_warning = session.get(Subscription, members["idle"])
        kept = list(
            session.scalars(select(OutboxEvent.payload).where(OutboxEvent.event_type == "account.keep_confirmed"))
        )
    assert watched.inactivity_respond_by is None
    assert before_warning.inactivity_respond_by is not None  # a viewing from before the warning answers nothing
    assert [(event["subscription"]["id"], event["data"]["reason"]) for event in kept] == [
        (members["never_watched"], "viewing_activity")
    ]


def test_no_answer_by_the_date_cancels_and_billing_stops(store, members):
    start_and_run(store)
    respond_by = datetime(2026, 12, 6, 23, 59, 59, tzinfo=UTC)
    before = run_due_transitions(store, now=respond_by - timedelta(seconds=1))
    assert before.counts["inactivity_cancelled"] == 0
    report = run_due_transitions(store, now=respond_by)
    assert report.counts["inactivity_cancelled"] == 4
    with store.read() as session:
        cancelled = session.get(Subscription, members["idle"])
        events = list(
            session.scalars(
                select(OutboxEvent.payload).where(
                    OutboxEvent.event_type == "subscription.cancelled", OutboxEvent.subscription_id == cancelled.id
                )
            )
        )
    assert cancelled.status == "cancelled" and cancelled.status_reason == "inactivity"
    assert cancelled.inactivity_respond_by is None and cancelled.cancelled_at == respond_by
    [event] = events
    assert event["data"]["reason"] == "inactivity" and event["data"]["billing_stop_at"] == respond_by.isoformat()
    assert event["data"]["retention_until"] == add_months(respond_by, 10).isoformat()
    assert event["data"]["notice"]["locale"] == "de"
    assert run_due_transitions(store, now=respond_by + timedelta(days=1)).counts["inactivity_cancelled"] == 0


def test_the_respond_by_date_is_the_deadline_however_late_the_scheduler_runs(store, members):
    """Issue 22, items 5 and 6: a keep after the respond-by date is refused, as a revert after the period end is;
    a viewing from before it still keeps; billing stops at the date, not when the scheduler got there."""
    start_and_run(store)
    respond_by = datetime(2026, 12, 6, 23, 59, 59, tzinfo=UTC)
    late = respond_by + timedelta(days=3)
    with store.transaction() as session:
        idle = session.get(Subscription, members["idle"])
        with pytest.raises(InvalidTransition, match="respond-by date passed"):
            subscription_service.apply_command(
                session, idle, Command.CONFIRM_KEEP, actor=Actor.PARTNER, reason="partner_confirmed", now=late
            )
    with store.transaction() as session:
        updated, _, _, _ = subscription_service.record_viewing(
            session,
            [(members["never_watched"], respond_by - timedelta(hours=1)), (members["malay"], late)],
            now=late,
        )
    assert updated == 2  # both are stored as the latest viewing time; only the one in time keeps

    report = run_due_transitions(store, now=late)

    assert report.counts["inactivity_cancelled"] == 3  # idle, idle_at and malay; never_watched kept in time
    with store.read() as session:
        kept, idle = (session.get(Subscription, members[name]) for name in ("never_watched", "idle"))
        stops = dict(
            session.execute(
                select(OutboxEvent.subscription_id, OutboxEvent.payload["data"]["billing_stop_at"].as_string()).where(
                    OutboxEvent.event_type == "subscription.cancelled",
                    OutboxEvent.payload["data"]["reason"].as_string() == "inactivity",
                )
            ).all()
        )
    assert kept.status == "active" and kept.inactivity_respond_by is None
    assert idle.cancelled_at == respond_by and stops[idle.id] == respond_by.isoformat()
    assert set(stops.values()) == {respond_by.isoformat()}


def test_retention_expiring_goes_once_before_the_purge_and_a_rejoin_restores(store, members):
    start_and_run(store)
    cancelled_at = datetime(2026, 12, 6, 23, 59, 59, tzinfo=UTC)
    run_due_transitions(store, now=cancelled_at)
    retention_until = add_months(cancelled_at, 10)
    due = DueSettings(retention_notice=timedelta(days=30))
    early = run_due_transitions(store, now=retention_until - timedelta(days=31), due=due)
    assert early.counts["retention_expiring"] == 0
    notices = run_due_transitions(store, now=retention_until - timedelta(days=30), due=due)
    # the four cancelled for inactivity; not the one never activated (expired at the same run): it cannot rejoin
    assert notices.counts["retention_expiring"] == 4
    with store.read() as session:
        never_activated = session.scalars(
            select(OutboxEvent.event_type).where(OutboxEvent.subscription_id == members["pending"])
        ).all()
    assert never_activated == ["subscription.cancelled"]
    again = run_due_transitions(store, now=retention_until - timedelta(days=29), due=due)
    assert again.counts["retention_expiring"] == 0

    with store.transaction() as session:
        returning = session.get(Subscription, members["malay"])
        subscription_service.apply_command(
            session,
            returning,
            Command.REJOIN,
            actor=Actor.MEMBER,
            reason="member_rejoined",
            now=retention_until - timedelta(days=1),
        )
    purged = run_due_transitions(store, now=retention_until, due=due)
    assert purged.counts["purged"] == 4  # all but the member who rejoined
    with store.read() as session:
        payloads = {
            event.event_type: event.payload
            for event in session.scalars(
                select(OutboxEvent).where(OutboxEvent.subscription_id == members["malay"]).order_by(OutboxEvent.id)
            )
        }
    expiring = payloads["account.retention_expiring"]
    assert expiring["data"]["retention_until"] == retention_until.isoformat()
    assert expiring["data"]["notice"]["locale"] == "ms"
    assert payloads["subscription.reactivated"]["data"]["restored"] is True
    assert payloads["subscription.reactivated"]["data"]["notice"]["locale"] == "ms"
    sequences = [payload["sequence"] for payload in payloads.values()]
    assert sequences == sorted(sequences)
