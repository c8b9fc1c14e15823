"""Step 2 of the due-notice run: once a policy's `effective_at` has come, `sharing.policy_effective` to every
partner briefed on it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from gateway.domain.events import EventType
from gateway.services.notice_text import Markets
from gateway.services.notices import partner_notice
from gateway.services.outbox import record_event
from gateway.services.sharing.partner_notices import partners_by_code
from gateway.services.sharing.policies import ANNOUNCED, EFFECTIVE
from gateway.store.db import Store
from gateway.store.models import PartnerNotice, SharingPolicy

POLICY_EFFECTIVE = EventType.SHARING_POLICY_EFFECTIVE


def send_effective(store: Store, *, now: datetime) -> int:
    """One policy per transaction; how many partners were told."""
    count = 0
    while True:
        with store.transaction() as session:
            policy = session.scalar(
                select(SharingPolicy)
                .where(SharingPolicy.status == ANNOUNCED, SharingPolicy.effective_at <= now)
                .order_by(SharingPolicy.effective_at, SharingPolicy.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if policy is None:
                return count
            notices = session.scalars(
                select(PartnerNotice)
                .where(PartnerNotice.policy_id == policy.id, PartnerNotice.effective_sent_at.is_(None))
                .order_by(PartnerNotice.id)
                .with_for_update()
            ).all()
            partners = partners_by_code(session, {notice.partner_code for notice in notices})
            for notice in notices:
                partner = partners[notice.partner_code]
                text = partner_notice(
                    partner,
                    POLICY_EFFECTIVE,
                    markets=Markets(notice.markets),
                    effective_at=policy.effective_at,
                    rule=policy.rule,
                    notice_id=notice.id,
                    acknowledged=notice.acknowledged_at is not None,  # no "if you have not acknowledged yet"
                )
                data = {
                    "notice_id": notice.id,
                    "policy_id": policy.id,
                    "markets": list(notice.markets),
                    "rule": policy.rule,
                    "effective_at": policy.effective_at.isoformat(),
                    "notice": text,
                }
                record_event(
                    session, partner_code=partner.code, event_type=POLICY_EFFECTIVE, occurred_at=now, data=data
                )
                notice.effective_sent_at = now
            policy.status = EFFECTIVE
            count += len(notices)
