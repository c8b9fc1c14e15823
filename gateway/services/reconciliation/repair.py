"""Applying a job: every repair its comparison found, made through the state machine so each emits its event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from gateway.domain.errors import Conflict, GatewayError
from gateway.domain.jobs import JobStatus
from gateway.domain.lifecycle import Actor, Command
from gateway.services.reconciliation.findings import CHUNK_ROWS, list_items
from gateway.services.reconciliation.jobs import get
from gateway.services.subscriptions import apply_command
from gateway.store.db import Store
from gateway.store.models import Reconciliation, ReconciliationItem, Subscription

REPAIR_REASONS = {
    Command.CANCEL_NOW: "partner_churn",
    Command.SUSPEND: "non_payment",
    Command.RESUME: "payment_recovered",
    Command.CHANGE_PLAN: "",  # upgrade or downgrade, decided by the plans
}


def apply(
    store: Store,
    job_id: str,
    *,
    partner_code: str | None = None,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> Reconciliation:
    """Make every repair the job found, through the state machine so each emits its event.

    Idempotent: a repaired item is marked and skipped next time. An item whose subscription has moved on since
    the comparison (another status or plan), or whose repair the lifecycle refuses, is left for a person: its
    detail says why, and the other repairs go ahead. `progress` hears how many items each chunk went through.
    """
    with store.read() as session:
        check_applicable(session, job_id, partner_code=partner_code)
    last_id = 0
    while True:
        with store.transaction() as session:
            # The job's row first: two applies of one job take turns chunk by chunk, each seeing what the
            # other repaired, so no repair is made twice.
            job = session.get(Reconciliation, job_id, with_for_update=True)
            page = list_items(session, job_id, after_id=last_id, limit=CHUNK_ROWS)
            if not page:
                break
            last_id = page[-1].id
            pending = [item for item in page if item.repair is not None and item.repaired_at is None]
            job.repaired += sum(_repair(session, item, now) for item in pending)
            job.applied_at = now
        if progress:
            progress(len(page))
    with store.read() as session:
        return get(session, job_id)


def check_applicable(session: Session, job_id: str, *, partner_code: str | None = None) -> Reconciliation:
    job = get(session, job_id, partner_code=partner_code)
    if job.status != JobStatus.COMPLETED:
        raise Conflict(f"Reconciliation {job_id} is {job.status}; only a completed one can be applied.")
    return job


def _repair(session: Session, item: ReconciliationItem, now: datetime) -> bool:
    """Make one item's repair; False (the reason on the item) when it is not made. Never raises a domain error:
    one item's refusal must not roll back the chunk's other repairs or block every later apply."""
    subscription = session.get(Subscription, item.subscription_id, with_for_update=True)
    command = Command(item.repair)
    if (
        subscription is None
        or (subscription.status, subscription.plan) != (item.gateway_status, item.gateway_plan)
        # The partner's plan is the one scheduled since (a downgrade): the comparison would now find no drift,
        # and changing the plan again would only schedule the same downgrade a second time.
        or (command is Command.CHANGE_PLAN and subscription.pending_plan == item.partner_plan)
    ):
        return _not_repaired(item, "the subscription changed since the comparison")
    try:
        with session.begin_nested():  # a refusal leaves nothing of this repair behind
            apply_command(
                session,
                subscription,
                command,
                actor=Actor.PARTNER,
                reason=REPAIR_REASONS[command],
                now=now,
                plan=item.partner_plan if command is Command.CHANGE_PLAN else None,
            )
    except GatewayError as error:
        return _not_repaired(item, error.detail)
    item.repaired_at = now
    return True


def _not_repaired(item: ReconciliationItem, reason: str) -> bool:
    item.detail += f"; not repaired: {reason}"
    item.repair = None  # for a person to look at; applying again skips it
    return False
