"""The bookkeeping every long job shares: a reconciliation, an inactivity campaign's run.

A long job is a row (any ORM class with `id`, `status`, `created_at`, `finished_at` and `lease_until`) whose
runner holds a lease on it: it renews the lease as it goes (each chunk, in the chunk's transaction) and gives it
up when the job ends. A runner that stops renewing has died (a killed worker, a crash): once its lease has run
out the job is abandoned, and the scheduler fails it (a reconciliation: the roster has to be sent again) or hands
it to another runner (a campaign: it resumes from its cursor). Where runners compete for a job (campaigns), the
row also names the holder (`lease_owner`), and only the holder may renew.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from gateway.domain.errors import Conflict
from gateway.domain.jobs import JobStatus
from gateway.store.db import Store

FINISHED = (JobStatus.COMPLETED, JobStatus.FAILED)


class LeasedJob(Protocol):
    """A long job's row: where it stands and until when its runner's lease holds."""

    id: Any
    status: str
    finished_at: datetime | None
    lease_until: datetime | None


class HeldJob(LeasedJob, Protocol):
    """A long job's row that names its runner: several runners may compete for it."""

    lease_owner: str | None


Job = TypeVar("Job", bound=LeasedJob)


class LeaseLost(Conflict):
    """The runner no longer holds the job's lease (the job was failed, or another runner took it over while this
    one was silent): it stops without writing."""


def locked(session: Session, model: type[Job], job_id: str) -> Job | None:
    """The job's row locked for the transaction, as the database has it now (not as the session last saw it)."""
    return session.get(model, job_id, with_for_update=True, populate_existing=True)


def take_lease(job: HeldJob, *, owner: str, now: datetime, lease: timedelta) -> bool:
    """Make `owner` the runner of a locked job whose runners name themselves; False when the job has finished or
    another runner's lease is still live (a pending job, or one whose runner went silent, is taken)."""
    if job.status in FINISHED:
        return False
    if job.status == JobStatus.RUNNING and job.lease_owner != owner and job.lease_until > now:
        return False
    job.status = JobStatus.RUNNING
    job.lease_owner, job.lease_until = owner, now + lease
    return True


def renew_lease(
    session: Session,
    model: type[Job],
    job_id: str,
    *,
    now: datetime,
    lease: timedelta,
    lost: Callable[[Job], LeaseLost],
    owner: str | None = None,
) -> Job:
    """The running job's row, locked, its lease renewed to `now + lease`; `lost(job)` is raised when the runner
    no longer holds it: the job is no longer running, or (with `owner`) another runner has taken it."""
    job = locked(session, model, job_id)
    if job.status != JobStatus.RUNNING or (owner is not None and job.lease_owner != owner):
        raise lost(job)
    job.lease_until = now + lease
    return job


def finish(job: LeasedJob, status: JobStatus, now: datetime) -> None:
    """End the job (completed or failed) at `now`; the lease, and the name of its holder if the row keeps one,
    are given up."""
    job.status, job.finished_at, job.lease_until = status, now, None
    if hasattr(job, "lease_owner"):
        job.lease_owner = None


def fail_if_running(session: Session, model: type[LeasedJob], job_id: str, now: datetime) -> None:
    """Fail the job, unless it has ended already: a completed job stays so, whatever went wrong after its last
    commit."""
    job = locked(session, model, job_id)
    if job.status == JobStatus.RUNNING:
        finish(job, JobStatus.FAILED, now)


def abandoned(model: type[LeasedJob], now: datetime, *, leaseless_after: timedelta | None = None) -> ColumnElement:
    """Running jobs whose runner let the lease run out by `now`. With `leaseless_after`, a running job with no
    lease at all (started by a version without leases) counts as leased for that long from its start."""
    ran_out = model.lease_until <= now
    if leaseless_after is not None:
        ran_out = ran_out | (model.lease_until.is_(None) & (model.created_at <= now - leaseless_after))
    return (model.status == JobStatus.RUNNING) & ran_out


def runnable(model: type[LeasedJob], now: datetime) -> ColumnElement:
    """Jobs a runner may take now: those waiting to start, and the abandoned ones (to resume)."""
    return (model.status == JobStatus.PENDING) | abandoned(model, now)


def fail_abandoned(
    store: Store, model: type[LeasedJob], *, now: datetime, leaseless_after: timedelta | None, batch_size: int
) -> int:
    """Fail the abandoned jobs, a batch per transaction, so they no longer show as running for good; how many.
    Safe on several machines at once: PostgreSQL skips the rows another one has locked, and a job whose runner
    is recording a chunk is locked by it."""
    failed = 0
    while True:
        with store.transaction() as session:
            jobs = list(
                session.scalars(
                    select(model)
                    .where(abandoned(model, now, leaseless_after=leaseless_after))
                    .order_by(model.id)
                    .limit(batch_size)
                    .with_for_update(skip_locked=True)
                )
            )
            for job in jobs:
                finish(job, JobStatus.FAILED, now)
        failed += len(jobs)
        if len(jobs) < batch_size:
            return failed
