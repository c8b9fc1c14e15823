"""Step 3 of the due-notice run: `sharing.acknowledgement_reminder` to partners that have not acknowledged, on
the reminder schedule (the waits between reminders), until they acknowledge or the schedule runs out."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from gateway.domain.events import EventType
from gateway.services.notice_text import Markets
from gateway.services.notices import partner_notice
from gateway.services.outbox import record_event
from gateway.services.sharing.partner_notices import partners_by_code
from gateway.store.db import Store
from gateway.store.models import PartnerNotice, SharingPolicy

ACKNOWLEDGEMENT_REMINDER = EventType.SHARING_ACKNOWLEDGEMENT_REMINDER


def send_reminders(store: Store, *, now: datetime, schedule: list[timedelta], batch_size: int) -> int:
    """A batch of notices per transaction; how many reminders were sent."""
    count = 0
    while True:
        with store.transaction() as session:
            due = session.scalars(
                select(PartnerNotice)
                .where(PartnerNotice.acknowledged_at.is_(None), PartnerNotice.next_reminder_at <= now)
                .order_by(PartnerNotice.next_reminder_at, PartnerNotice.id)
                .limit(batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            policies = {
                policy.id: policy
                for policy in session.scalars(
                    select(SharingPolicy).where(SharingPolicy.id.in_({notice.policy_id for notice in due}))
                )
            }
            partners = partners_by_code(session, {notice.partner_code for notice in due})
            for notice in due:
                policy, partner = policies[notice.policy_id], partners[notice.partner_code]
                notice.reminders_sent += 1
                # The schedule holds the waits before each reminder: the first was used when it was announced.
                sent = notice.reminders_sent
                notice.next_reminder_at = now + schedule[sent] if sent < len(schedule) else None
                text = partner_notice(
                    partner,
                    ACKNOWLEDGEMENT_REMINDER,
                    markets=Markets(notice.markets),
                    effective_at=policy.effective_at,
                    notice_id=notice.id,
                    reminder=sent,
                )
                data = {
                    "notice_id": notice.id,
                    "policy_id": policy.id,
                    "markets": list(notice.markets),
                    "effective_at": policy.effective_at.isoformat(),
                    "reminder": sent,
                    "notice": text,
                }
                record_event(
                    session, partner_code=partner.code, event_type=ACKNOWLEDGEMENT_REMINDER, occurred_at=now, data=data
                )
        count += len(due)
        if len(due) < batch_size:
            return count
