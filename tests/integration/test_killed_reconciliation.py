"""A gunicorn worker killed in the middle of a keyed roster upload, for real: the job it was running and the key
it claimed are given up once their leases run out, and a retry with the key runs the roster afresh."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from contextlib import suppress
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from gateway import create_app
from gateway.api.http import idempotent
from gateway.domain.clock import utcnow
from gateway.domain.keys import KeyKind
from gateway.domain.leases import RUNNER_LEASE
from gateway.services.reconciliation import fail_abandoned_jobs
from gateway.store import migrate
from gateway.store.db import Store, make_engine
from gateway.store.models import IdempotencyRecord, Reconciliation
from tests.support.api import app_store, bearer
from tests.support.seeding import Seeder
from tests.support.serving import GATEWAY, start_gateway, stop_gateway

ROWS = 200_000  # enough chunks that the job is still staging them when the worker is killed
ROSTER = ("partner_ref,status,plan\n" + "".join(f"cust-{index},active,standard\n" for index in range(ROWS))).encode()


def _worker_of(master: int) -> int:
    """The pid of gunicorn's one worker: the process whose parent is the master."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # gone meanwhile
                continue
            if int(fields[1]) == master:
                return int(entry.name)
    raise AssertionError("gunicorn has no worker")


def _running_job(store: Store, timeout: float = 60.0) -> Reconciliation:
    """The job once it has recorded its first chunk (and so has passed its claim and started)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with store.read() as session:
            job = session.query(Reconciliation).one_or_none()
            if job is not None and job.rows > 0:
                return job
        time.sleep(0.005)
    raise AssertionError("the job did not start")


def _post_quietly(url: str, headers: dict[str, str]) -> None:
    """Upload the roster from a thread whose connection dies with the worker: that error is the expected end."""
    with suppress(requests.RequestException):
        _post(url, headers)


def _post(url: str, headers: dict[str, str]) -> requests.Response:
    return requests.post(url, data=ROSTER, headers={**headers, "Content-Type": "text/csv"}, timeout=60)


@pytest.mark.slow
def test_a_worker_killed_mid_job_leaves_a_failed_job_and_a_key_a_retry_can_use(tmp_path, monkeypatch):
    database = f"sqlite:///{tmp_path / 'gateway.sqlite3'}"
    store = Store(make_engine(database))
    migrate.upgrade(store.engine)
    seed = Seeder(store)
    seed.partner("nordlink")
    headers = {**bearer(seed.token(KeyKind.PARTNER, "nordlink")), "Idempotency-Key": "roster-of-monday"}
    environment = {**os.environ, "GATEWAY_INSTANCE_PATH": str(tmp_path / "instance"), "GATEWAY_DATABASE_URL": database}
    server, base = start_gateway(environment, "serve", "--workers", "1")
    try:
        upload = threading.Thread(target=_post_quietly, args=(f"{base}/v1/reconciliations", headers), daemon=True)
        upload.start()
        job = _running_job(store)
        os.kill(_worker_of(server.pid), signal.SIGKILL)
        upload.join(60)

        with store.read() as session:
            killed = session.get(Reconciliation, job.id)
            claim = session.get(IdempotencyRecord, ("partner:nordlink", "roster-of-monday"))
        assert killed.status == "running" and 0 < killed.rows < ROWS, "the kill landed after the job ended"
        assert claim.status_code == 0 and claim.lease_until > utcnow()

        # gunicorn has started another worker; while the leases last, a retry is told the job is in progress.
        deadline = time.monotonic() + 60
        while True:
            try:
                retry = requests.post(
                    f"{base}/v1/reconciliations",
                    data=ROSTER,
                    headers={**headers, "Content-Type": "text/csv"},
                    timeout=60,
                )
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "no worker came back"
                time.sleep(0.1)
        assert retry.status_code == 409 and retry.headers["Location"] == f"/v1/reconciliations/{job.id}"
        scheduler = subprocess.run(
            [GATEWAY, "scheduler", "run"], env=environment, capture_output=True, text=True, timeout=120, check=True
        )
        assert "reconciliations failed, their runner gone: 0" in scheduler.stdout
    finally:
        stop_gateway(server)

    # The leases run out: the scheduler fails the job, and the key is free for a retry of the same roster.
    assert fail_abandoned_jobs(store, now=killed.lease_until) == 1
    with store.read() as session:
        assert session.get(Reconciliation, job.id).status == "failed"
    later = utcnow() + RUNNER_LEASE + timedelta(minutes=1)
    monkeypatch.setattr(idempotent, "utcnow", lambda: later)
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": database, "LOG_LEVEL": "WARNING"})
    try:
        again = app.test_client().post("/v1/reconciliations", data=ROSTER, content_type="text/csv", headers=headers)
    finally:
        app_store(app).dispose()
    assert again.status_code == 201, again.json
    assert again.json["id"] != job.id and again.json["status"] == "completed"
    assert again.json["counts"]["only_at_partner"] == ROWS
    store.dispose()
