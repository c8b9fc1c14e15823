"""Idempotency-Key on the long reconciliation commands, on SQLite and PostgreSQL: concurrent requests with one key
make one job or one apply; a retry while the first request still runs is a 409; afterwards it is the replay."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from gateway.domain.clock import utcnow
from gateway.domain.keys import KeyKind
from gateway.services import reconciliation as reconciliation_service
from gateway.store.models import IdempotencyRecord, OutboxEvent, Reconciliation
from tests.support.api import app_store, bearer
from tests.support.parallel import all_at_once
from tests.support.seeding import Seeder, add_subscription

CALLERS = 6
ROSTER = "partner_ref,status,plan\nc-1,suspended,standard\nc-2,cancelled,standard\nc-3,active,premium\n"


@pytest.fixture
def world(backend_app):
    """nordlink with three active subscriptions the ROSTER would suspend, cancel and upgrade."""
    store = app_store(backend_app)
    seed = Seeder(store)
    seed.partner("nordlink", markets=["DE"])
    with store.transaction() as session:
        for ref in ("c-1", "c-2", "c-3"):
            add_subscription(session, "nordlink", ref, now=utcnow())
    return bearer(seed.token(KeyKind.PARTNER, "nordlink"))


def _upload(app, headers):
    return app.test_client().post("/v1/reconciliations", data=ROSTER, content_type="text/csv", headers=headers)


def _count(app, model) -> int:
    with app_store(app).read() as session:
        return session.scalar(select(func.count()).select_from(model))


def _events(app, event_type: str) -> int:
    with app_store(app).read() as session:
        return session.scalar(select(func.count()).where(OutboxEvent.event_type == event_type))


def _answers(responses) -> set[tuple[int, str]]:
    return {(response.status_code, response.headers.get("Idempotent-Replayed", "")) for response in responses}


def test_parallel_uploads_with_one_key_make_exactly_one_job(backend_app, world):
    headers = {**world, "Idempotency-Key": "one-roster"}

    responses = all_at_once(CALLERS, lambda _index: _upload(backend_app, headers))

    assert _count(backend_app, Reconciliation) == 1 and _count(backend_app, IdempotencyRecord) == 1
    firsts = [response for response in responses if "Idempotent-Replayed" not in response.headers]
    assert [response.status_code for response in firsts].count(201) == 1
    assert _answers(responses) <= {(201, ""), (201, "true"), (409, "")}
    job_id = next(response.json["id"] for response in firsts if response.status_code == 201)
    for response in responses:
        assert (
            response.json["id"] == job_id
            if response.status_code == 201
            else "still in progress" in response.json["detail"]
        )
    assert _upload(backend_app, headers).json["id"] == job_id  # all done: the replay


def test_parallel_applies_with_one_key_repair_once(backend_app, world):
    job_id = _upload(backend_app, world).json["id"]
    headers = {**world, "Idempotency-Key": "one-apply"}
    path = f"/v1/reconciliations/{job_id}/apply"

    responses = all_at_once(CALLERS, lambda _index: backend_app.test_client().post(path, headers=headers))

    assert _answers(responses) <= {(200, ""), (200, "true"), (409, "")}
    assert [response.headers.get("Idempotent-Replayed") for response in responses].count(None) >= 1
    assert [r.status_code for r in responses if "Idempotent-Replayed" not in r.headers].count(200) == 1
    assert _events(backend_app, "subscription.suspended") == 1
    assert _events(backend_app, "subscription.cancelled") == 1
    assert _events(backend_app, "subscription.plan_changed") == 1


def test_a_retry_while_the_apply_still_runs_is_a_409_then_the_replay(backend_app, world, monkeypatch):
    """The first apply is held part way (after its key is claimed) until the retry has been answered."""
    job_id = _upload(backend_app, world).json["id"]
    headers = {**world, "Idempotency-Key": "slow-apply"}
    path = f"/v1/reconciliations/{job_id}/apply"
    running, release = threading.Event(), threading.Event()
    real_apply = reconciliation_service.apply

    def held_apply(*args, **kwargs):
        running.set()
        assert release.wait(30)
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(reconciliation_service, "apply", held_apply)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(lambda: backend_app.test_client().post(path, headers=headers))
        assert running.wait(30)
        retry = backend_app.test_client().post(path, headers=headers)
        other = backend_app.test_client().post(path, json={}, headers=headers)  # another body
        release.set()
        first = first.result(30)

    assert retry.status_code == 409 and retry.mimetype == "application/problem+json"
    assert retry.json["type"] == "/problems/conflict" and "still in progress" in retry.json["detail"]
    assert int(retry.headers["Retry-After"]) > 0
    assert retry.headers["Location"] == f"/v1/reconciliations/{job_id}"
    assert other.status_code == 422 and other.json["errors"][0]["field"] == "Idempotency-Key"
    assert first.status_code == 200 and first.json["repaired"] == 3
    replay = backend_app.test_client().post(path, headers=headers)
    assert (replay.status_code, replay.json, replay.headers["Idempotent-Replayed"]) == (200, first.json, "true")
    assert _events(backend_app, "subscription.suspended") == 1


def test_a_retry_while_the_upload_is_still_compared_is_a_409_naming_the_job(backend_app, world, monkeypatch):
    headers = {**world, "Idempotency-Key": "slow-roster"}
    running, release = threading.Event(), threading.Event()
    real_run = reconciliation_service.run

    def held_run(*args, **kwargs):
        running.set()
        assert release.wait(30)
        return real_run(*args, **kwargs)

    monkeypatch.setattr(reconciliation_service, "run", held_run)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(lambda: _upload(backend_app, headers))
        assert running.wait(30)
        retry = _upload(backend_app, headers)
        release.set()
        first = first.result(30)

    assert retry.status_code == 409 and "still in progress" in retry.json["detail"]
    assert retry.headers["Location"] == f"/v1/reconciliations/{first.json['id']}"
    assert first.status_code == 201 and first.json["status"] == "completed"
    assert _upload(backend_app, headers).json == first.json
    assert _count(backend_app, Reconciliation) == 1


def test_a_failed_run_frees_its_key_and_leaves_no_claim(backend_app, world, monkeypatch):
    headers = {**world, "Idempotency-Key": "broken-run"}
    real_run = reconciliation_service.run

    def broken_run(store, job_id, rows, **kwargs):
        def rows_then_break():
            yield from rows
            raise OSError("the disk went away")

        return real_run(store, job_id, rows_then_break(), **kwargs)

    monkeypatch.setattr(reconciliation_service, "run", broken_run)
    assert _upload(backend_app, headers).status_code == 500
    assert _count(backend_app, IdempotencyRecord) == 0
    monkeypatch.setattr(reconciliation_service, "run", real_run)
    retried = _upload(backend_app, headers)
    assert retried.status_code == 201 and retried.json["status"] == "completed"
    with app_store(backend_app).read() as session:
        assert sorted(session.scalars(select(Reconciliation.status))) == ["completed", "failed"]
