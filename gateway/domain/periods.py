"""Calendar arithmetic: monthly billing periods from an anchor day, and the retention window."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime

RETENTION_MONTHS = 10  # profile, list and settings are kept this long after cancellation


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` later; the 31st becomes the month's last day where it has fewer."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def period_end(anchor: date, after: datetime) -> datetime:
    """The first monthly anniversary of `anchor` (midnight UTC) strictly after `after`: when the period ends."""
    start = datetime(anchor.year, anchor.month, anchor.day, tzinfo=UTC)
    if start > after:
        return start
    months = (after.year - start.year) * 12 + after.month - start.month
    candidate = add_months(start, months)
    while candidate <= after:
        months += 1
        candidate = add_months(start, months)
    return candidate


def retention_end(cancelled_at: datetime) -> datetime:
    return add_months(cancelled_at, RETENTION_MONTHS)
