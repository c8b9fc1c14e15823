"""Transitions that fall due with time: activation expiry, ends of billing periods, downgrades, purges.

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

from gateway.domain.lifecycle import Actor, Command, Status
from gateway.services import reconciliation
from gateway.services.deliveries import remove_expired_events
from gateway.services.subscriptions import apply_command, apply_pending_downgrade
from gateway.store.db import Store
from gateway.store.models import IdempotencyRecord, Subscription

S = Subscription


@dataclass(frozen=True)
class DueWork:
    """One kind of due transition: which rows are due, and what to do to one."""

    name: str
    condition: Callable[[datetime], object]
    apply: Callable[[Session, Subscription, datetime], None]


def _command(command: Command, reason: str) -> Callable[[Session, Subscription, datetime], None]:
    def run(session: Session, subscription: Subscription, now: datetime) -> None:
        apply_command(session, subscription, command, actor=Actor.SCHEDULER, reason=reason, now=now)

    return run


# fmt: off
DUE_WORK = [
    DueWork("activation_expired",
            lambda now: (S.status == Status.PENDING_ACTIVATION) & (S.activation_expires_at <= now),
            _command(Command.EXPIRE_ACTIVATION, "activation_expired")),
    DueWork("period_ended",
            lambda now: (S.status == Status.CANCELLATION_SCHEDULED) & (S.access_until <= now),
            _command(Command.END_PERIOD, "billing_period_ended")),
    DueWork("downgrade_applied",
            lambda now: (S.status == Status.ACTIVE) & (S.pending_plan_at <= now),
            apply_pending_downgrade),
    DueWork("purged",
            lambda now: (S.status == Status.CANCELLED) & (S.retention_until <= now),
            _command(Command.PURGE, "retention_expired")),
]
# fmt: on


@dataclass
class SchedulerReport:
    counts: dict[str, int] = field(default_factory=lambda: {work.name: 0 for work in DUE_WORK})
    idempotency_records_removed: int = 0
    reconciliation_scratch_rows_removed: int = 0
    expired_events_removed: int = 0


def run_due_transitions(
    store: Store,
    *,
    now: datetime,
    batch_size: int = 500,
    idempotency_ttl: timedelta = timedelta(hours=24),
    event_retention: timedelta = timedelta(days=30),
) -> SchedulerReport:
    """Apply everything due at `now`, a batch of rows per transaction; then housekeeping: expired idempotency
    records, the scratch rows of finished reconciliations, and events past the feed's retention."""
    report = SchedulerReport()
    for work in DUE_WORK:
        while True:
            with store.transaction() as session:
                due = list(
                    session.scalars(
                        select(Subscription)
                        .where(work.condition(now))
                        .order_by(Subscription.id)
                        .limit(batch_size)
                        .with_for_update(skip_locked=True)
                    )
                )
                for subscription in due:
                    work.apply(session, subscription, now)
            report.counts[work.name] += len(due)
            if len(due) < batch_size:
                break
    with store.transaction() as session:
        removed = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - idempotency_ttl))
        report.idempotency_records_removed = removed.rowcount or 0
    report.reconciliation_scratch_rows_removed = reconciliation.remove_scratch_rows(store)
    while True:
        with store.transaction() as session:
            removed = remove_expired_events(session, now=now, retention=event_retention)
        report.expired_events_removed += removed
        if removed == 0:
            break
    return report
