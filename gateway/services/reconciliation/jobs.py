"""A reconciliation's job row: started running under its runner's lease, renewed with every chunk it records,
completed or failed at the end, failed by the scheduler when its runner died (the shared rules in
gateway.services.jobs)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from gateway.domain.clock import utcnow
from gateway.domain.errors import NotFound
from gateway.domain.ids import new_id
from gateway.domain.jobs import JobStatus
from gateway.domain.leases import RUNNER_LEASE, lease_minutes
from gateway.domain.roster import Drift
from gateway.services import jobs
from gateway.store.db import Store
from gateway.store.models import Reconciliation


def start(store: Store, partner_code: str, roster_format: str, now: datetime) -> str:
    with store.transaction() as session:
        return create_job(session, partner_code, roster_format, now).id


def create_job(session: Session, partner_code: str, roster_format: str, now: datetime) -> Reconciliation:
    """A running job, in the caller's transaction (the API commits it with the request's Idempotency-Key)."""
    job = Reconciliation(
        id=new_id("rec"),
        partner_code=partner_code,
        roster_format=roster_format,
        status=JobStatus.RUNNING,
        rows=0,
        counts={kind.value: 0 for kind in Drift},
        unreadable_rows=0,
        only_at_gateway_withheld=False,
        repaired=0,
        created_at=now,
        lease_until=now + RUNNER_LEASE,
    )
    session.add(job)
    session.flush()
    return job


def withheld_reason(job: Reconciliation) -> str | None:
    """Why the job lists nobody only at the gateway, in a sentence for the CLI and the report; None when it
    lists them."""
    if not job.only_at_gateway_withheld:
        return None
    if job.unreadable_rows:
        rows = "1 row names" if job.unreadable_rows == 1 else f"{job.unreadable_rows} rows name"
        why = f"{rows} no readable partner_ref, and any of them could be a customer missing from the roster"
    else:
        why = "no row of the roster could be compared"
    return (
        f"only_at_gateway withheld: {why}. Who is missing is not listed and applying cancels no one for it: "
        "fix the bad rows and reconcile again to see who is missing."
    )


def get(session: Session, job_id: str, *, partner_code: str | None = None) -> Reconciliation:
    job = session.get(Reconciliation, job_id)
    if job is None or (partner_code is not None and job.partner_code != partner_code):
        raise NotFound("reconciliation", job_id)
    return job


class JobAbandoned(jobs.LeaseLost):
    """The scheduler failed the job while its runner was still at it: the runner had gone silent past its lease."""

    def __init__(self, job: Reconciliation) -> None:
        super().__init__(
            f"Reconciliation {job.id} made no progress for {lease_minutes()} minutes and was failed; send the roster "
            "again."
        )


def running_job(session: Session, job_id: str) -> Reconciliation:
    """The job's row, locked, its lease (RUNNER_LEASE) renewed; JobAbandoned if the scheduler has failed it
    meanwhile. Every chunk the job records passes here."""
    return jobs.renew_lease(session, Reconciliation, job_id, now=utcnow(), lease=RUNNER_LEASE, lost=JobAbandoned)


def complete(session: Session, job_id: str, *, only_at_gateway_withheld: bool) -> Reconciliation:
    """The job's last step, in its last transaction: every finding is recorded, and the job says whether it
    listed who is only at the gateway or withheld it."""
    job = running_job(session, job_id)
    job.only_at_gateway_withheld = only_at_gateway_withheld
    jobs.finish(job, JobStatus.COMPLETED, utcnow())
    return job


def fail(store: Store, job_id: str) -> None:
    """The job says it failed (e.g. the upload broke off) instead of staying "running"; a completed one stays so."""
    with store.transaction() as session:
        jobs.fail_if_running(session, Reconciliation, job_id, utcnow())


def fail_abandoned_jobs(store: Store, *, now: datetime, batch_size: int = 500) -> int:
    """Fail the running jobs whose lease has run out (their process died mid-job: a killed worker, a crash),
    so they no longer show as running for good; how many. A job started by a version without leases has none:
    its lease counts from its start."""
    return jobs.fail_abandoned(store, Reconciliation, now=now, leaseless_after=RUNNER_LEASE, batch_size=batch_size)
