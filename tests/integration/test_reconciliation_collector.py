"""While a reconciliation runs, the cycle collector leaves the process's older objects alone; afterwards, and
after a failed job, the collector is as it was (see reconciliation.staging._CollectorHold)."""

from __future__ import annotations

import gc
import io
import threading

import pytest

from gateway.domain.clock import utcnow
from gateway.domain.roster import RosterFormat, read_roster
from gateway.services import reconciliation
from gateway.services.reconciliation import comparison
from gateway.store.db import Store, make_engine
from tests.support.parallel import all_at_once
from tests.support.seeding import Seeder

ROSTER = "partner_ref,status,plan\na,active,standard\nb,active,premium\n"


def _observed_rows(seen: list, fail: bool = False, gate: threading.Barrier | None = None):
    """The roster's rows, noting the collector's state as the job reads them."""
    for row in read_roster(io.StringIO(ROSTER, newline=""), RosterFormat.CSV):
        seen.append((gc.get_freeze_count(), gc.get_threshold()))
        if gate is not None:
            gate.wait()  # both jobs are inside before either ends
        yield row
    if fail:
        raise ConnectionResetError("client went away")


def _job(store) -> str:
    return reconciliation.start(store, "nordlink", RosterFormat.CSV, utcnow())


@pytest.fixture
def sqlite_store(sqlite_database, migrated):
    """One backend is enough: the collector is the process's, whatever the store."""
    migrated(sqlite_database)
    store = Store(make_engine(sqlite_database.url))
    Seeder(store).partner("nordlink")
    yield store
    store.dispose()


def test_the_collector_is_held_back_during_a_job_and_restored_after_it(sqlite_store):
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    seen: list = []
    job = reconciliation.run(sqlite_store, _job(sqlite_store), _observed_rows(seen))
    assert job.status == "completed" and len(seen) == 2  # the job read both rows
    assert all(frozen > 0 and threshold[2] >= 1000 for frozen, threshold in seen)
    assert (gc.get_freeze_count(), gc.get_threshold()) == (0, before)


def test_a_failed_job_restores_the_collector_too(sqlite_store):
    before = gc.get_threshold()
    with pytest.raises(ConnectionResetError):
        reconciliation.run(sqlite_store, _job(sqlite_store), _observed_rows([], fail=True))
    assert (gc.get_freeze_count(), gc.get_threshold()) == (0, before)


def test_two_jobs_at_once_restore_the_collector_when_the_last_one_ends(sqlite_store):
    before = gc.get_threshold()
    gate = threading.Barrier(2)
    seen: list = []
    jobs = [_job(sqlite_store), _job(sqlite_store)]
    finished = all_at_once(
        2, lambda index: reconciliation.run(sqlite_store, jobs[index], _observed_rows(seen, gate=gate))
    )
    assert [job.status for job in finished] == ["completed", "completed"] and len(seen) == 4
    assert all(frozen > 0 and threshold[2] >= 1000 for frozen, threshold in seen)
    assert (gc.get_freeze_count(), gc.get_threshold()) == (0, before)


def test_the_comparison_at_the_end_runs_under_the_usual_collector(sqlite_store, monkeypatch):
    """Its statements hold batches of parameters in SQLAlchemy's reference cycles: held back, the collector
    would let them pile up (at 100,000 rows against 1,000,000 subscriptions, 60 MiB more)."""
    before = gc.get_threshold()
    compared = []

    def observed_compare(*args):
        compared.append((gc.get_freeze_count(), gc.get_threshold()))
        return reconciliation_compare(*args)

    reconciliation_compare = comparison.compare
    monkeypatch.setattr(comparison, "compare", observed_compare)
    seen: list = []
    job = reconciliation.run(sqlite_store, _job(sqlite_store), _observed_rows(seen))
    assert job.counts["only_at_partner"] == 2  # nordlink has no subscriptions: both rows are compared
    assert compared and all(state == (0, before) for state in compared)
    assert all(frozen > 0 for frozen, _ in seen)  # while the rows were read, it was held back
