"""What the operator's and the partner's views of sharing-policy notices share: where a notice's announcement
stands, and the cursor notices are paged by."""

from __future__ import annotations

from typing import Any

from gateway.store.models import PartnerNotice


def progress(notice: PartnerNotice) -> dict[str, Any]:
    return {
        "announced_at": notice.announced_at,
        "effective_sent_at": notice.effective_sent_at,
        "acknowledged_at": notice.acknowledged_at,
        "reminders_sent": notice.reminders_sent,
        "next_reminder_at": notice.next_reminder_at,
    }


def notice_cursor(notice: PartnerNotice) -> list[str]:
    return [notice.announced_at.isoformat(), notice.id]
