"""The scheduler's sharing run: `run_due_sharing_notices` takes each policy as far as `now` allows, in three
steps (announcements, effective_notices, reminders), each in transactions of its own and safe with several
schedulers at once: rows are locked FOR UPDATE SKIP LOCKED on PostgreSQL and re-checked under the lock, and
SQLite has one writer. Each row a step changes records where it stands (a policy's status, a notice's
effective_sent_at and next_reminder_at), so a run that dies part way leaves the rest to the next run: there is
no job row and no lease to keep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.services.sharing.announcements import announce_due
from gateway.services.sharing.effective_notices import send_effective
from gateway.services.sharing.reminders import send_reminders
from gateway.store.db import Store


@dataclass
class SharingReport:
    announced: int = 0  # partners briefed on a policy
    effective: int = 0  # partners told a policy is in effect
    reminders: int = 0  # reminders to acknowledge


def run_due_sharing_notices(
    store: Store, *, now: datetime, reminder_schedule: list[timedelta], batch_size: int = 500
) -> SharingReport:
    """Announce due policies, send effective notices on the day, remind partners that have not acknowledged."""
    first_wait = reminder_schedule[0] if reminder_schedule else None
    report = SharingReport()
    report.announced = announce_due(store, now=now, first_wait=first_wait)
    report.effective = send_effective(store, now=now)
    report.reminders = send_reminders(store, now=now, schedule=reminder_schedule, batch_size=batch_size)
    return report
