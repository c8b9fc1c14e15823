"""A reconciliation's findings (reconciliation_items): recorded with the job's progress, read back in id order."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from gateway.domain.roster import Drift
from gateway.services.reconciliation.jobs import running_job
from gateway.store.models import ReconciliationItem

# Findings read per transaction by the report and by apply.
CHUNK_ROWS = 10_000


def record(session: Session, job_id: str, items: list[dict], *, rows: int) -> None:
    """Write a chunk's findings and count them, with the roster rows the chunk read and its unreadable rows (bad
    rows naming no usable partner_ref: a duplicate always names one), on the job; the job's lease is renewed
    (JobAbandoned if the scheduler has failed it meanwhile)."""
    if items:
        session.connection().execute(
            insert(ReconciliationItem.__table__),
            [
                {
                    "line": None,
                    "partner_ref": None,
                    "partner_status": None,
                    "partner_plan": None,
                    "subscription_id": None,
                    "gateway_status": None,
                    "gateway_plan": None,
                    "repair": None,
                    **item,
                }
                for item in items
            ],
        )
    job = running_job(session, job_id)
    job.rows += rows
    counts = dict(job.counts)
    for item in items:
        counts[item["kind"]] += 1
        if item["kind"] == Drift.BAD_ROW and item.get("partner_ref") is None:
            job.unreadable_rows += 1
    job.counts = counts


def bad_row(job_id: str, line: int, reason: str, partner_ref: str | None) -> dict:
    return {
        "reconciliation_id": job_id,
        "kind": Drift.BAD_ROW,
        "line": line,
        "partner_ref": partner_ref,
        "detail": reason,
    }


def duplicate(earlier_line: int, earlier_bad: bool) -> str:
    """A duplicate row's reason: the partner's word on that customer is unclear."""
    return f"duplicate partner_ref (also on line {earlier_line}{', a bad row' if earlier_bad else ''})"


def list_items(
    session: Session, job_id: str, *, kind: str | None = None, after_id: int = 0, limit: int | None = None
) -> list[ReconciliationItem]:
    query = (
        select(ReconciliationItem)
        .where(ReconciliationItem.reconciliation_id == job_id, ReconciliationItem.id > after_id)
        .order_by(ReconciliationItem.id)
    )
    if kind is not None:
        query = query.where(ReconciliationItem.kind == kind)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))
