"""Transitions that fall due with time: activation expiry, ends of billing periods, downgrades, purges; and
reconciliations whose runner died, which are failed.

Safe to run from cron on several machines at once: each due row is re-read under a row lock (PostgreSQL:
FOR UPDATE SKIP LOCKED, so machines share the rows instead of queueing on them; SQLite: one writer at a time)
and re-checked before it changes, so every transition happens exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.domain.clock import utcnow
from gateway.domain.delivery import parse_schedule
from gateway.domain.events import EventType
from gateway.domain.lifecycle import Actor, Command, Status
from gateway.services.campaigns import CampaignSettings, run_campaign, runnable_campaign_ids
from gateway.services.deliveries import remove_expired_events
from gateway.services.reconciliation import fail_abandoned_jobs
from gateway.services.sharing import SharingReport, run_due_sharing_notices
from gateway.services.subscriptions import apply_command, apply_pending_downgrade, record_subscription_notice
from gateway.store.db import Store
from gateway.store.models import IdempotencyRecord, InboundEvent, Subscription

S = Subscription


@dataclass(frozen=True)
class DueWork:
    """One kind of due transition: which rows are due, and what to do to one."""

    name: str
    condition: Callable[[datetime, DueSettings], object]
    apply: Callable[[Session, Subscription, datetime, DueSettings], None]


@dataclass(frozen=True)
class DueSettings:
    retention_notice: timedelta = timedelta(days=30)  # account.retention_expiring goes this long before the purge


def _command(command: Command, reason: str) -> Callable[[Session, Subscription, datetime, DueSettings], None]:
    def run(session: Session, subscription: Subscription, now: datetime, _settings: DueSettings) -> None:
        apply_command(session, subscription, command, actor=Actor.SCHEDULER, reason=reason, now=now)

    return run


def _downgrade(session: Session, subscription: Subscription, now: datetime, _settings: DueSettings) -> None:
    apply_pending_downgrade(session, subscription, now)


def _retention_notice(session: Session, subscription: Subscription, now: datetime, _settings: DueSettings) -> None:
    """Tell the member (through the partner) that profile, list and settings go soon unless they rejoin."""
    record_subscription_notice(
        session,
        subscription,
        EventType.ACCOUNT_RETENTION_EXPIRING,
        reason="retention_expiring",
        actor=Actor.SCHEDULER,
        now=now,
        data={"retention_until": subscription.retention_until.isoformat()},
        context={"retention_until": subscription.retention_until},
    )
    subscription.retention_notice_at = now


# fmt: off
DUE_WORK = [
    DueWork("activation_expired",
            lambda now, _: (S.status == Status.PENDING_ACTIVATION) & (S.activation_expires_at <= now),
            _command(Command.EXPIRE_ACTIVATION, "activation_expired")),
    DueWork("period_ended",
            lambda now, _: (S.status == Status.CANCELLATION_SCHEDULED) & (S.access_until <= now),
            _command(Command.END_PERIOD, "billing_period_ended")),
    DueWork("downgrade_applied",
            lambda now, _: (S.status == Status.ACTIVE) & (S.pending_plan_at <= now),
            _downgrade),
    # No answer to an inactivity warning by its date: cancelled, and the partner stops billing.
    DueWork("inactivity_cancelled",
            lambda now, _: (S.status == Status.ACTIVE) & (S.inactivity_respond_by <= now),
            _command(Command.CANCEL_INACTIVE, "inactivity")),
    # Only a member who can rejoin hears of it: a subscription never activated has no one to restore.
    DueWork("retention_expiring",
            lambda now, due: (S.status == Status.CANCELLED) & S.retention_notice_at.is_(None)
            & S.member_id.is_not(None)
            & (S.retention_until <= now + due.retention_notice) & (S.retention_until > now),
            _retention_notice),
    DueWork("purged",
            lambda now, _: (S.status == Status.CANCELLED) & (S.retention_until <= now),
            _command(Command.PURGE, "retention_expired")),
]
# fmt: on


SHARING_REMINDERS = parse_schedule("3d,4d,7d")  # the default of GATEWAY_SHARING_REMINDER_SCHEDULE


@dataclass
class SchedulerReport:
    counts: dict[str, int] = field(default_factory=lambda: {work.name: 0 for work in DUE_WORK})
    idempotency_records_removed: int = 0
    expired_events_removed: int = 0
    callbacks_forgotten: int = 0
    reconciliations_abandoned: int = 0
    sharing: SharingReport = field(default_factory=SharingReport)
    campaigns_run: list[str] = field(default_factory=list)


def run_waiting_campaigns(store: Store, settings: CampaignSettings, *, now: datetime) -> list[str]:
    """Start campaign runs created over HTTP, and resume those whose runner died; the ids of those run."""
    with store.read() as session:
        waiting = runnable_campaign_ids(session, now)
    offset = now - utcnow()  # `now` may be given (tests, catch-up runs); the run's clock still moves from it
    return [
        campaign_id
        for campaign_id in waiting
        if run_campaign(store, campaign_id, settings, clock=lambda: utcnow() + offset)
    ]


def run_due_transitions(
    store: Store,
    *,
    now: datetime,
    batch_size: int = 500,
    idempotency_ttl: timedelta = timedelta(hours=24),
    event_retention: timedelta = timedelta(days=30),
    due: DueSettings = DueSettings(),
    campaigns: CampaignSettings | None = None,
    sharing_reminders: list[timedelta] = SHARING_REMINDERS,
) -> SchedulerReport:
    """Apply everything due at `now`, a batch of rows per transaction; then housekeeping: expired idempotency
    records, events past the feed's retention, and partners' callbacks received longer ago than that."""
    report = SchedulerReport()
    for work in DUE_WORK:
        while True:
            with store.transaction() as session:
                rows = list(
                    session.scalars(
                        select(Subscription)
                        .where(work.condition(now, due))
                        .order_by(Subscription.id)
                        .limit(batch_size)
                        .with_for_update(skip_locked=True)
                    )
                )
                for subscription in rows:
                    work.apply(session, subscription, now, due)
            report.counts[work.name] += len(rows)
            if len(rows) < batch_size:
                break
    report.reconciliations_abandoned = fail_abandoned_jobs(store, now=now, batch_size=batch_size)
    if campaigns is not None:
        report.campaigns_run = run_waiting_campaigns(store, campaigns, now=now)
    with store.transaction() as session:
        removed = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - idempotency_ttl))
        report.idempotency_records_removed = removed.rowcount or 0
    with store.transaction() as session:
        # A callback is remembered so that a redelivery within the retention is not applied twice; past it the
        # record (a snapshot of the subscription, member data included) has no use left and would outlive a purge.
        removed = session.execute(delete(InboundEvent).where(InboundEvent.received_at < now - event_retention))
        report.callbacks_forgotten = removed.rowcount or 0
    while True:
        with store.transaction() as session:
            removed = remove_expired_events(session, now=now, retention=event_retention)
        report.expired_events_removed += removed
        if removed == 0:
            break
    report.sharing = run_due_sharing_notices(store, now=now, reminder_schedule=sharing_reminders, batch_size=batch_size)
    return report
