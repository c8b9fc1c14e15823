"""A reconciliation whose runner died (a killed worker, a crash) does not stay running for good, and the
Idempotency-Key its request claimed does not stay in progress: both are leased, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import time
from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import select

from gateway.api.http import idempotent
from gateway.domain.clock import utcnow
from gateway.domain.errors import InvalidInput
from gateway.domain.leases import RUNNER_LEASE
from gateway.domain.roster import RosterFormat, read_roster
from gateway.services import idempotency
from gateway.services import reconciliation as reconciliation_service
from gateway.services.partners import add_partner
from gateway.services.reconciliation import JobAbandoned, fail_abandoned_jobs
from gateway.services.scheduler import run_due_transitions
from gateway.store.models import IdempotencyRecord, Reconciliation, ReconciliationItem
from tests.support.api import app_store
from tests.support.parallel import all_at_once

ROSTER = "partner_ref,status,plan\n" + "".join(f"ref-{index},active,standard\n" for index in range(6))
TTL = timedelta(hours=24)


@pytest.fixture
def nordlink(store):
    with store.transaction() as session:
        add_partner(
            session, code="nordlink", display_name="N", markets=["DE"], default_locale="de", flavour="standard",
            now=utcnow(),
        )  # fmt: skip
    return store


def _job(store, job_id: str) -> Reconciliation:
    with store.read() as session:
        return session.get(Reconciliation, job_id)


def _rows(text: str = ROSTER):
    return read_roster(io.StringIO(text, newline=""), RosterFormat.CSV)


def test_a_job_whose_runner_went_silent_is_failed_once_its_lease_has_run_out(nordlink):
    started = utcnow()
    dead = reconciliation_service.start(nordlink, "nordlink", RosterFormat.CSV, started)  # its runner never ran
    done = reconciliation_service.start(nordlink, "nordlink", RosterFormat.CSV, started)
    reconciliation_service.run(nordlink, done, _rows())

    assert _job(nordlink, dead).lease_until == started + RUNNER_LEASE
    assert fail_abandoned_jobs(nordlink, now=started + RUNNER_LEASE - timedelta(seconds=1)) == 0
    assert _job(nordlink, dead).status == "running"

    expired = started + RUNNER_LEASE
    report = run_due_transitions(nordlink, now=expired)

    assert report.reconciliations_abandoned == 1
    job = _job(nordlink, dead)
    assert (job.status, job.finished_at, job.lease_until) == ("failed", expired, None)
    assert _job(nordlink, done).status == "completed" and _job(nordlink, done).lease_until is None
    assert fail_abandoned_jobs(nordlink, now=expired + timedelta(days=1)) == 0  # a failed job stays as it is


def test_a_running_job_without_a_lease_is_abandoned_a_lease_after_its_start(nordlink):
    """A job started before migration 0011, or by a version without leases during a rolling deploy."""
    started = utcnow()
    job_id = reconciliation_service.start(nordlink, "nordlink", RosterFormat.CSV, started)
    with nordlink.transaction() as session:
        session.get(Reconciliation, job_id).lease_until = None

    assert fail_abandoned_jobs(nordlink, now=started + RUNNER_LEASE - timedelta(seconds=1)) == 0
    assert fail_abandoned_jobs(nordlink, now=started + RUNNER_LEASE) == 1
    assert _job(nordlink, job_id).status == "failed"


def test_every_chunk_the_runner_records_renews_its_lease(nordlink):
    job_id = reconciliation_service.start(nordlink, "nordlink", RosterFormat.CSV, utcnow() - timedelta(hours=1))
    leases = []

    def after_chunk(rows: int) -> None:
        if not rows:
            return  # the comparison's pages after the staging (checked below: the lease ends with the job)
        before = utcnow()
        lease = _job(nordlink, job_id).lease_until
        leases.append(lease)
        assert before - timedelta(seconds=30) + RUNNER_LEASE <= lease <= before + RUNNER_LEASE

    job = reconciliation_service.run(nordlink, job_id, _rows(), chunk_rows=2, progress=after_chunk)

    assert len(leases) == 3 and leases == sorted(leases)
    assert job.status == "completed" and _job(nordlink, job_id).lease_until is None


def test_a_runner_whose_job_was_failed_meanwhile_stops_at_its_next_chunk(nordlink):
    """A runner that only seemed dead (silent past its lease) finds its job failed and writes no more of it."""
    job_id = reconciliation_service.start(nordlink, "nordlink", RosterFormat.CSV, utcnow())

    def scheduler_gives_up(_rows: int) -> None:
        assert fail_abandoned_jobs(nordlink, now=utcnow() + RUNNER_LEASE + timedelta(minutes=1)) == 1

    with pytest.raises(JobAbandoned, match="no progress for 20 minutes"):
        reconciliation_service.run(nordlink, job_id, _rows(), chunk_rows=2, progress=scheduler_gives_up)

    job = _job(nordlink, job_id)
    assert (job.status, job.rows) == ("failed", 2)
    with nordlink.read() as session:
        assert session.scalars(select(ReconciliationItem.partner_ref)).all() == []  # the end passes never ran


def test_schedulers_at_once_fail_each_abandoned_job_once(nordlink):
    started = utcnow()
    jobs = [reconciliation_service.start(nordlink, "nordlink", RosterFormat.CSV, started) for _ in range(12)]

    counts = all_at_once(4, lambda _index: fail_abandoned_jobs(nordlink, now=started + RUNNER_LEASE, batch_size=5))

    assert sum(counts) == len(jobs)
    assert {_job(nordlink, job_id).status for job_id in jobs} == {"failed"}


# --- the Idempotency-Key a long command claimed ---------------------------------------------------------------


def _claim(store, now, fingerprint="roster-1", lease=RUNNER_LEASE, headers=None):
    with store.transaction() as session:
        found = idempotency.claim(
            session, owner="partner:nordlink", key="k", request_fingerprint=fingerprint, now=now, ttl=TTL,
            headers=headers, lease=lease,
        )  # fmt: skip
        return None if found is None else (found.status_code, found.headers)


def _record(store) -> IdempotencyRecord:
    with store.read() as session:
        return session.get(IdempotencyRecord, ("partner:nordlink", "k"))


def test_a_claim_whose_runner_died_is_taken_over_once_its_lease_has_run_out(nordlink):
    claimed = utcnow()
    assert _claim(nordlink, claimed, headers={"Location": "/v1/reconciliations/rec_first"}) is None
    assert _record(nordlink).lease_until == claimed + RUNNER_LEASE

    in_progress = (idempotency.IN_PROGRESS, {"Location": "/v1/reconciliations/rec_first"})
    assert _claim(nordlink, claimed + RUNNER_LEASE - timedelta(seconds=1)) == in_progress
    with pytest.raises(InvalidInput, match="different request"):  # another body never takes a key over
        _claim(nordlink, claimed + RUNNER_LEASE, fingerprint="roster-2")

    retried = claimed + RUNNER_LEASE
    assert _claim(nordlink, retried, headers={"Location": "/v1/reconciliations/rec_second"}) is None
    record = _record(nordlink)
    assert (record.created_at, record.lease_until) == (retried, retried + RUNNER_LEASE)
    assert record.headers == {"Location": "/v1/reconciliations/rec_second"}
    assert _claim(nordlink, retried + timedelta(seconds=1))[0] == idempotency.IN_PROGRESS  # taken: in progress


def test_a_renewed_claim_is_not_taken_over(nordlink):
    claimed = utcnow()
    assert _claim(nordlink, claimed) is None
    with nordlink.transaction() as session:
        renewed = idempotency.renew(
            session, owner="partner:nordlink", key="k", claimed_at=claimed, until=claimed + 2 * RUNNER_LEASE
        )
    assert renewed

    assert _claim(nordlink, claimed + RUNNER_LEASE + timedelta(minutes=1))[0] == idempotency.IN_PROGRESS


def test_a_claim_without_a_lease_or_with_its_response_is_never_taken_over(nordlink):
    claimed = utcnow()
    assert _claim(nordlink, claimed, lease=None) is None  # as a claim from before leases
    assert _claim(nordlink, claimed + TTL - timedelta(minutes=1))[0] == idempotency.IN_PROGRESS

    with nordlink.transaction() as session:
        owned = {"owner": "partner:nordlink", "key": "k", "claimed_at": claimed}
        idempotency.complete(session, **owned, status_code=201, body="{}", headers={})
        assert not idempotency.renew(session, **owned, until=claimed + RUNNER_LEASE)  # a finished claim: no lease
    assert _record(nordlink).lease_until is None
    assert _claim(nordlink, claimed + TTL - timedelta(minutes=1)) == (201, {})


def test_a_runner_whose_claim_was_taken_over_leaves_the_new_one_alone(nordlink):
    """The first runner only looked dead: its renewal, response and release no longer touch the key."""
    claimed = utcnow()
    assert _claim(nordlink, claimed) is None
    retried = claimed + RUNNER_LEASE
    assert _claim(nordlink, retried, headers={"Location": "/job/second"}) is None
    first = {"owner": "partner:nordlink", "key": "k", "claimed_at": claimed}

    with nordlink.transaction() as session:
        assert not idempotency.renew(session, **first, until=retried + 2 * RUNNER_LEASE)
        idempotency.complete(session, **first, status_code=201, body='{"first": true}', headers={})
        idempotency.release(session, **first)

    record = _record(nordlink)
    assert (record.status_code, record.created_at, record.lease_until) == (0, retried, retried + RUNNER_LEASE)
    with nordlink.transaction() as session:
        second = {**first, "claimed_at": retried}
        idempotency.complete(session, **second, status_code=201, body='{"second": true}', headers={})
    assert (_record(nordlink).status_code, _record(nordlink).body) == (201, '{"second": true}')


def test_retries_at_once_take_over_a_dead_claim_exactly_once(nordlink):
    claimed = utcnow()
    assert _claim(nordlink, claimed) is None
    retried = claimed + RUNNER_LEASE + timedelta(seconds=1)

    answers = all_at_once(6, lambda index: _claim(nordlink, retried, headers={"Location": f"/job/{index}"}))

    assert answers.count(None) == 1
    winner = answers.index(None)
    assert _record(nordlink).headers == {"Location": f"/job/{winner}"}
    assert all(answer[0] == idempotency.IN_PROGRESS for answer in answers if answer is not None)


def test_a_long_commands_progress_renews_its_requests_claim_about_once_a_minute(app):
    store = app_store(app)
    claimed = utcnow() - timedelta(minutes=10)
    assert _claim(store, claimed) is None
    with app.test_request_context():
        idempotent.keep_claim(1)  # a request without a key: nothing to renew, nothing fails
        g.idempotency_claim = idempotent._Claim(
            "partner:nordlink", "k", claimed_at=claimed, renewed_at=time.monotonic()
        )
        idempotent.keep_claim(25_000)
        assert _record(store).lease_until == claimed + RUNNER_LEASE  # renewed a moment ago: no write

        g.idempotency_claim.renewed_at -= idempotent.CLAIM_RENEWAL_SECONDS
        before = utcnow()
        idempotent.keep_claim(25_000)
        assert before + RUNNER_LEASE <= _record(store).lease_until <= utcnow() + RUNNER_LEASE
