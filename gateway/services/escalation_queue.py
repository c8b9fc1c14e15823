"""What a partner's agent should look at first among the escalations: the cases past their answer-due time, and the
cases where the streaming service answered and now waits for the partner; and a subscriber's latest case updates."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.domain.escalations import UNRESOLVED, Side, Status
from gateway.store.models import Escalation, EscalationEntry, Subscription

ATTENTION_SHOWN = 50  # of each kind; a longer queue says there are more


class Why(enum.StrEnum):
    OVERDUE = "overdue"  # unresolved past its answer-due time: the service is late, the agent may chase it
    ANSWERED = "answered"  # the service resolved it or commented last: the partner's turn


@dataclass(frozen=True)
class Attention:
    case: Escalation
    partner_ref: str
    why: Why
    since: datetime  # when it fell due, or when the service answered


@dataclass(frozen=True)
class Queue:
    rows: list[Attention]  # overdue first (most overdue first), then answered (longest waiting first)
    more: bool  # more cases of either kind than shown


def _unresolved() -> list[str]:
    return [str(status) for status in UNRESOLVED]


def needing_attention(
    session: Session, *, partner_code: str, now: datetime, status: str | None = None, limit: int = ATTENTION_SHOWN
) -> Queue:
    """The partner's cases an agent should see first (`status`: only those in it)."""
    mine = Escalation.partner_code == partner_code
    if status is not None:
        mine = mine & (Escalation.status == status)
    overdue = session.execute(
        select(Escalation, Subscription.partner_ref)
        .join(Subscription, Subscription.id == Escalation.subscription_id)
        .where(mine, Escalation.status.in_(_unresolved()), Escalation.sla_due_at < now)
        .order_by(Escalation.sla_due_at, Escalation.id)
        .limit(limit + 1)
    ).all()
    # The last entry of each case: a resolution, or a comment from the service on a case still open, is an answer
    # the partner has not taken up yet (the partner's comment, close or reopen would be the last entry then).
    last_entry = (
        select(func.max(EscalationEntry.id).label("id"), EscalationEntry.escalation_id)
        .join(Escalation, Escalation.id == EscalationEntry.escalation_id)
        .where(mine, Escalation.status.in_([*_unresolved(), str(Status.RESOLVED)]))
        .group_by(EscalationEntry.escalation_id)
        .subquery()
    )
    answered = session.execute(
        select(Escalation, Subscription.partner_ref, EscalationEntry.occurred_at)
        .join(last_entry, last_entry.c.escalation_id == Escalation.id)
        .join(EscalationEntry, EscalationEntry.id == last_entry.c.id)
        .join(Subscription, Subscription.id == Escalation.subscription_id)
        .where(
            EscalationEntry.side == str(Side.SERVICE),
            (Escalation.status == str(Status.RESOLVED)) | (EscalationEntry.kind == "comment"),
            # an overdue case is listed as overdue already
            ~(Escalation.status.in_(_unresolved()) & (Escalation.sla_due_at < now)),
        )
        .order_by(EscalationEntry.occurred_at, Escalation.id)
        .limit(limit + 1)
    ).all()
    rows = [Attention(case, ref, Why.OVERDUE, case.sla_due_at) for case, ref in overdue[:limit]]
    rows += [Attention(case, ref, Why.ANSWERED, at) for case, ref, at in answered[:limit]]
    return Queue(rows, more=len(overdue) > limit or len(answered) > limit)


UPDATES_SHOWN = 50  # every update a call may need; older ones are on the cases themselves


@dataclass(frozen=True)
class CaseUpdate:
    entry: EscalationEntry
    case: Escalation


def latest_updates(session: Session, subscription_id: str, limit: int = UPDATES_SHOWN) -> list[CaseUpdate]:
    """The newest entries of the subscriber's escalations (any status), newest first: a list of their own, apart
    from the notices about the subscription."""
    query = (
        select(EscalationEntry, Escalation)
        .join(Escalation, Escalation.id == EscalationEntry.escalation_id)
        .where(Escalation.subscription_id == subscription_id)
        .order_by(EscalationEntry.occurred_at.desc(), EscalationEntry.id.desc())
        .limit(limit)
    )
    return [CaseUpdate(entry, case) for entry, case in session.execute(query)]
