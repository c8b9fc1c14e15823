"""Partner notices of a policy (one per partner briefed): listed for operators and for the partner, and
acknowledged by the partner once its call center is briefed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.domain.errors import NotFound
from gateway.services.sharing.policies import get_policy
from gateway.store.models import Partner, PartnerNotice, SharingPolicy


@dataclass(frozen=True)
class NoticeCounts:
    notified: int = 0
    acknowledged: int = 0


def notice_counts(session: Session, policy_ids: list[str]) -> dict[str, NoticeCounts]:
    """How many partners each policy has briefed, and how many of them have acknowledged."""
    rows = session.execute(
        select(PartnerNotice.policy_id, func.count(), func.count(PartnerNotice.acknowledged_at))
        .where(PartnerNotice.policy_id.in_(policy_ids))
        .group_by(PartnerNotice.policy_id)
    )
    return {policy_id: NoticeCounts(notified, acknowledged) for policy_id, notified, acknowledged in rows}


def _notice_after(after: tuple[datetime, str]):
    announced_at, identifier = after
    return (PartnerNotice.announced_at > announced_at) | (
        (PartnerNotice.announced_at == announced_at) & (PartnerNotice.id > identifier)
    )


def list_policy_notices(
    session: Session,
    policy_id: str,
    *,
    limit: int,
    after: tuple[datetime, str] | None = None,
    acknowledged: bool | None = None,
) -> list[tuple[PartnerNotice, Partner]]:
    """A policy's partner notices (acknowledged or not), in the order they were sent, with their partners."""
    get_policy(session, policy_id)
    query = (
        select(PartnerNotice, Partner)
        .join(Partner, Partner.code == PartnerNotice.partner_code)
        .where(PartnerNotice.policy_id == policy_id)
        .order_by(PartnerNotice.announced_at, PartnerNotice.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(_notice_after(after))
    if acknowledged is not None:
        acknowledged_at = PartnerNotice.acknowledged_at
        query = query.where(acknowledged_at.is_not(None) if acknowledged else acknowledged_at.is_(None))
    return [(notice, partner) for notice, partner in session.execute(query)]


def list_partner_notices(
    session: Session, partner_code: str, *, limit: int, after: tuple[datetime, str] | None = None
) -> list[tuple[PartnerNotice, SharingPolicy]]:
    """A partner's sharing-policy notices, oldest first, after the (announced_at, id) cursor."""
    query = (
        select(PartnerNotice, SharingPolicy)
        .join(SharingPolicy, SharingPolicy.id == PartnerNotice.policy_id)
        .where(PartnerNotice.partner_code == partner_code)
        .order_by(PartnerNotice.announced_at, PartnerNotice.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(_notice_after(after))
    return [(notice, policy) for notice, policy in session.execute(query)]


def _partner_notice_row(
    session: Session, partner_code: str, notice_id: str, *, for_update: bool = False
) -> PartnerNotice:
    query = select(PartnerNotice).where(PartnerNotice.id == notice_id, PartnerNotice.partner_code == partner_code)
    if for_update:
        query = query.with_for_update()
    notice = session.scalar(query)
    if notice is None:  # another partner's notice looks missing too
        raise NotFound("notice", notice_id)
    return notice


def get_partner_notice(session: Session, partner_code: str, notice_id: str) -> tuple[PartnerNotice, SharingPolicy]:
    notice = _partner_notice_row(session, partner_code, notice_id)
    return notice, get_policy(session, notice.policy_id)


def acknowledge(
    session: Session, partner_code: str, notice_id: str, *, key_id: str, now: datetime
) -> tuple[PartnerNotice, SharingPolicy]:
    """The partner has briefed its call center: no more reminders. Acknowledging again changes nothing."""
    notice = _partner_notice_row(session, partner_code, notice_id, for_update=True)
    if notice.acknowledged_at is None:
        notice.acknowledged_at = now
        notice.acknowledged_by = key_id
        notice.next_reminder_at = None
    return notice, get_policy(session, notice.policy_id)


def partners_by_code(session: Session, codes: set[str]) -> dict[str, Partner]:
    return {partner.code: partner for partner in session.scalars(select(Partner).where(Partner.code.in_(codes)))}
