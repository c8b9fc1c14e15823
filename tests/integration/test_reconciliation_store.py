"""Reconciliation on a real store, SQLite and PostgreSQL, with chunks small enough to cross their borders."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from gateway.domain.clock import utcnow
from gateway.domain.lifecycle import Actor, Command
from gateway.domain.roster import RosterFormat, read_roster
from gateway.services import reconciliation
from gateway.services.partners import add_partner
from gateway.services.subscriptions import apply_command
from gateway.store.models import OutboxEvent, ReconciliationItem, ReconciliationRef, Subscription
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


def _compared(store):
    """The ROSTER compared: b to suspend (line 3), c to upgrade (line 5), d to cancel (only at the gateway)."""
    _seed(store)
    job_id = reconciliation.start(store, "nordlink", RosterFormat.CSV, utcnow())
    reconciliation.run(store, job_id, read_roster(io.StringIO(ROSTER, newline=""), RosterFormat.CSV))
    with store.read() as session:
        ids = dict(session.execute(select(Subscription.partner_ref, Subscription.id)).all())
    return job_id, ids


def _items_by_ref(store, job_id):
    with store.read() as session:
        return {item.partner_ref: item for item in reconciliation.list_items(session, job_id) if item.kind != "bad_row"}


def test_a_repair_whose_plan_moved_on_is_skipped_and_the_others_are_made(store):
    job_id, ids = _compared(store)
    with store.transaction() as session:  # after the comparison, c is upgraded by another path
        apply_command(
            session,
            session.get(Subscription, ids["c"]),
            Command.CHANGE_PLAN,
            actor=Actor.PARTNER,
            reason="",
            now=utcnow(),
            plan="premium",
        )

    job = reconciliation.apply(store, job_id, now=utcnow())

    assert job.repaired == 2
    items = _items_by_ref(store, job_id)
    assert items["c"].repaired_at is None and items["c"].repair is None
    assert items["c"].detail.endswith("not repaired: the subscription changed since the comparison")
    assert items["b"].repaired_at is not None and items["d"].repaired_at is not None
    with store.read() as session:
        assert session.get(Subscription, ids["b"]).status == "suspended"
        assert session.get(Subscription, ids["d"]).status == "cancelled"
    assert reconciliation.apply(store, job_id, now=utcnow()).repaired == 2  # a retry: nothing more, no error


def test_a_repair_the_lifecycle_refuses_is_recorded_on_its_item_and_the_others_are_made(store):
    job_id, ids = _compared(store)
    with store.transaction() as session:  # a repair the state machine refuses: resume an active subscription
        item = session.scalars(
            select(ReconciliationItem).where(
                ReconciliationItem.reconciliation_id == job_id,
                ReconciliationItem.partner_ref == "b",
                ReconciliationItem.kind == "status_mismatch",
            )
        ).one()
        item.repair = "resume"
        item.gateway_status = "active"
        sequence_before = session.get(Subscription, ids["b"]).sequence

    job = reconciliation.apply(store, job_id, now=utcnow())

    assert job.repaired == 2
    items = _items_by_ref(store, job_id)
    assert items["b"].repaired_at is None and items["b"].repair is None
    assert "not repaired: Cannot resume a subscription that is active" in items["b"].detail
    with store.read() as session:
        b = session.get(Subscription, ids["b"])
        assert b.status == "active" and b.sequence == sequence_before  # nothing half-done: no history, no event
        assert session.get(Subscription, ids["c"]).plan == "premium"
        assert session.get(Subscription, ids["d"]).status == "cancelled"
        resumed = select(func.count()).where(OutboxEvent.event_type == "subscription.resumed")
        assert session.scalar(resumed) == 0
