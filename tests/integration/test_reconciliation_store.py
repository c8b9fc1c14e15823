"""Reconciliation on a real store, SQLite and PostgreSQL, with chunks small enough to cross their borders."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from gateway.domain.clock import utcnow
from gateway.domain.roster import RosterFormat, read_roster
from gateway.services import reconciliation
from gateway.services.partners import add_partner
from gateway.store.models import ReconciliationItem, ReconciliationRef
from tests.conftest import add_subscription

ROSTER = """partner_ref,status,plan
a,active,standard
b,suspended,standard
a,active,standard
c,active,premium
zz,active,standard
b,active,standard
"""


def _seed(store):
    now = utcnow()
    with store.transaction() as session:
        add_partner(
            session, code="nordlink", display_name="N", markets=["DE"], default_locale="de", flavour="standard", now=now
        )
        for ref in ("a", "b", "c", "d"):
            add_subscription(session, "nordlink", ref, now=now)


def test_drift_across_chunk_borders_and_apply(store):
    _seed(store)
    job_id = reconciliation.start(store, "nordlink", RosterFormat.CSV, utcnow())
    progress = []
    job = reconciliation.run(
        store,
        job_id,
        read_roster(io.StringIO(ROSTER, newline=""), RosterFormat.CSV),
        chunk_rows=2,
        progress=progress.append,
    )
    assert job.status == "completed" and job.rows == 6 and progress == [2, 2, 2]
    assert job.counts == {
        "bad_row": 2,
        "only_at_partner": 1,
        "only_at_gateway": 1,
        "status_mismatch": 1,
        "plan_mismatch": 1,
    }
    with store.read() as session:
        bad = session.scalars(
            select(ReconciliationItem.detail)
            .where(ReconciliationItem.kind == "bad_row")
            .order_by(ReconciliationItem.line)
        ).all()
        assert bad == ["duplicate partner_ref (also on line 2)", "duplicate partner_ref (also on line 3)"]

    applied = reconciliation.apply(store, job_id, now=utcnow())
    assert applied.repaired == 3
    assert reconciliation.apply(store, job_id, now=utcnow()).repaired == 3


def test_a_broken_upload_marks_the_job_failed(store):
    _seed(store)
    job_id = reconciliation.start(store, "nordlink", RosterFormat.CSV, utcnow())

    def rows_then_break():
        yield from read_roster(io.StringIO(ROSTER, newline=""), RosterFormat.CSV)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        reconciliation.run(store, job_id, rows_then_break(), chunk_rows=2)
    with store.read() as session:
        assert reconciliation.get(session, job_id).status == "failed"
    assert reconciliation.remove_scratch_rows(store) > 0  # a failed job's scratch rows go too
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(ReconciliationRef)) == 0
