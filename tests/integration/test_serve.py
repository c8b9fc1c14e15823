"""The gateway as users run it: `gateway serve` under gunicorn and `gateway demo`, over real HTTP."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.support.serving import GATEWAY, free_port, start_gateway, stop_gateway

TOKEN = re.compile(r"gw_[0-9a-f]{12}_[0-9a-f]{48}")


@pytest.fixture
def environment(tmp_path):
    return {
        **os.environ,
        "GATEWAY_INSTANCE_PATH": str(tmp_path / "instance"),
        "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.sqlite3'}",
        "GATEWAY_MAX_BODY_BYTES": "4096",
    }


def test_demo_seeds_prints_keys_and_serves_them(environment):
    """`gateway demo`: the gateway, a dispatcher and the demo receiver; a test event goes all the way."""
    process, base = start_gateway(environment, "demo", "--receiver-port", str(free_port()))
    try:
        assert requests.get(f"{base}/readyz", timeout=5).json()["status"] == "ready"
        for partner in ("rheinfunk", "selat-mobile"):  # one standard, one batch partner
            subprocess.run([GATEWAY, "deliveries", "test-event", partner], env=environment, check=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            listed = subprocess.run(
                [GATEWAY, "deliveries", "list", "--status", "delivered"],
                env=environment,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            if listed.count("gateway.test") == 2:
                break
            time.sleep(0.3)
        assert listed.count("gateway.test") == 2, listed
    finally:
        output = stop_gateway(process)
    operator, service, first_partner, second_partner = TOKEN.findall(output)[:4]
    assert f"{base}/docs" in output and "curl -s -H 'Authorization: Bearer" in output
    assert "[demo receiver] rheinfunk: gateway.test" in output and "(signature ok)" in output
    # The batch partner's request shows as a batch: how many events it brought, then each.
    assert "[demo receiver] selat-mobile: a batch of 1 event in one request (NDJSON, signature ok)" in output
    assert "[demo receiver]   1. gateway.test" in output
    # The TM Forum partner's hubs: its seeded members' creations, as TMF events with their status.
    assert "[demo receiver] alpennetz: ProductCreateEvent sub_" in output and "(TM Forum, signature ok)" in output
    # The gateway's and the dispatcher's JSON lines went to the log file, which the demo named, not to the terminal.
    log = Path(environment["GATEWAY_INSTANCE_PATH"]) / "demo.log"
    assert f"logs          {log}" in output
    assert '"logger"' not in output and '"path":' not in output
    logged = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert any(line.get("path") == "/readyz" and line.get("status") == 200 for line in logged)
    assert any(line["logger"].startswith("gateway.delivery") for line in logged)

    assert len({operator, service, first_partner, second_partner}) == 4

    # A rerun seeds nothing twice, issues five new keys and revokes the ones printed before.
    rerun = subprocess.run([GATEWAY, "demo", "--no-serve"], env=environment, capture_output=True, text=True, check=True)
    new_operator = TOKEN.findall(rerun.stdout)[0]
    assert len(set(TOKEN.findall(rerun.stdout))) == 5 and operator not in rerun.stdout
    listed = subprocess.run(
        [GATEWAY, "partner", "list"], env=environment, capture_output=True, text=True, check=True
    ).stdout
    assert len(listed.splitlines()) == 4  # header + the three demo partners
    keys = subprocess.run([GATEWAY, "key", "list"], env=environment, capture_output=True, text=True, check=True).stdout
    assert keys.count(" revoked ") == 5 and keys.count(" active ") == 5
    assert new_operator not in keys


def _create_subscription_command(printed: str) -> str:
    """The create-subscription curl `gateway demo` printed, its continued lines joined."""
    [command] = re.findall(r"^  (curl .*\\\n.*/v1/subscriptions \\\n.* -d .*)$", printed, re.MULTILINE)
    return command


def test_demo_saves_its_keys_privately_and_prints_commands_that_work_on_every_run(environment):
    """Rerun, the demo's printed create-subscription command still creates a subscription (a new partner_ref
    each run), and the keys it printed are also in a file only its owner can read."""
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed: the demo's printed commands use it (make test installs it as root)")
    process, base = start_gateway(environment, "serve")
    keys_file = Path(environment["GATEWAY_INSTANCE_PATH"]) / "demo-keys.env"
    try:
        created = []
        for _ in range(2):
            printed = subprocess.run(
                [GATEWAY, "demo", "--no-serve", "--bind", base.removeprefix("http://")],
                env=environment,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            assert keys_file.stat().st_mode & 0o777 == 0o600
            saved = dict(line.split("=", 1) for line in keys_file.read_text().splitlines() if "=" in line)
            assert saved.pop("GATEWAY_URL") == base
            assert set(saved.values()) == set(TOKEN.findall(printed)) and len(saved) == 5  # the keys printed
            assert f"{keys_file}" in printed
            command = _create_subscription_command(printed)
            answer = subprocess.run(["bash", "-c", command], capture_output=True, text=True, check=True).stdout
            created.append(json.loads(answer))
        assert [subscription["status"] for subscription in created] == ["pending_activation"] * 2, created
        assert created[0]["partner_ref"] != created[1]["partner_ref"]
        listed = requests.get(
            f"{base}/v1/subscriptions",
            headers={"Authorization": f"Bearer {saved['PARTNER_KEY_RHEINFUNK']}"},  # the second run's
            timeout=5,
        ).json()["items"]
        assert {subscription["id"] for subscription in created} <= {subscription["id"] for subscription in listed}
    finally:
        stop_gateway(process)


def test_serve_under_gunicorn_authenticates_limits_bodies_and_sums_metrics(environment):
    subprocess.run([GATEWAY, "db", "upgrade"], env=environment, check=True, capture_output=True)
    issued = subprocess.run(
        [GATEWAY, "key", "issue", "--kind", "operator", "--name", "test"],
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    [operator] = TOKEN.findall(issued)
    process, base = start_gateway(environment, "serve", "--workers", "2")
    try:
        headers = {"Authorization": f"Bearer {operator}", "X-Request-Id": "serve-test"}
        session = requests.Session()
        for _ in range(20):  # enough requests that both workers answer some
            listing = session.get(f"{base}/admin/v1/partners", headers=headers, timeout=5)
            assert listing.status_code == 200 and listing.headers["X-Request-Id"] == "serve-test"
            session.close()
        assert requests.get(f"{base}/admin/v1/partners", timeout=5).status_code == 401

        def chunks():
            yield b'{"display_name": "'
            for _ in range(10):
                yield b"x" * 1000
            yield b'"}'

        too_large = requests.post(
            f"{base}/admin/v1/partners",
            data=chunks(),
            timeout=5,
            headers={**headers, "Content-Type": "application/json"},
        )
        assert too_large.status_code == 413
        assert too_large.headers["Content-Type"] == "application/problem+json"
        small = b'{"code": "chunky", "display_name": "Chunky", "markets": ["DE"], "default_locale": "de"}'
        accepted = requests.post(
            f"{base}/admin/v1/partners",
            data=iter([small[:20], small[20:]]),
            timeout=5,
            headers={**headers, "Content-Type": "application/json"},
        )
        assert accepted.status_code == 201, accepted.text  # a chunked body within the limit is read whole

        metrics = requests.get(f"{base}/metrics", timeout=5).text
        counted = re.search(
            r'gateway_http_requests_total\{method="GET",route="/admin/v1/partners",status="200"\} (\S+)',
            metrics,
        )
        assert counted and float(counted.group(1)) == 20.0  # summed over both workers
    finally:
        output = stop_gateway(process)
    assert operator not in output  # the key never reaches the server's logs
    access = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(line.get("request_id") == "serve-test" and line["logger"] == "gateway.access" for line in access)


def test_serve_dev_runs_flasks_own_server(environment):
    subprocess.run([GATEWAY, "db", "upgrade"], env=environment, check=True, capture_output=True)
    process, base = start_gateway(environment, "serve", "--dev")
    try:
        assert requests.get(f"{base}/readyz", timeout=5).status_code == 200
    finally:
        output = stop_gateway(process)
    assert "Running on" in output and "gunicorn" not in output.lower()


def test_stopping_gunicorn_logs_its_own_lines_without_logging_errors(environment):
    """gunicorn's lines print `[%(process)d]`: creating the app in a worker must leave records their process id,
    or every line gunicorn logs while its workers stop is a `--- Logging error ---` traceback."""
    subprocess.run([GATEWAY, "db", "upgrade"], env=environment, check=True, capture_output=True)
    process, base = start_gateway(environment, "serve", "--workers", "2")
    for _ in range(4):
        assert requests.get(f"{base}/readyz", timeout=5).status_code == 200
    output = stop_gateway(process)
    assert "Logging error" not in output and "Traceback" not in output, output
    assert process.returncode == 0
    assert re.search(rf"\[{process.pid}\] \[INFO\] Handling signal: term", output), output
    assert len(set(re.findall(r"\[(\d+)\] \[INFO\] Worker exiting", output))) == 2, output


def test_an_app_leaves_log_records_their_thread_and_process(tmp_path):
    from gateway import create_app

    create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.sqlite3'}"})
    record = logging.getLogger("gunicorn.error").makeRecord("gunicorn.error", logging.INFO, "x", 1, "up", (), None)
    formatted = logging.Formatter("[%(process)d] [%(thread)d] [%(processName)s] %(message)s").format(record)
    assert formatted.startswith(f"[{os.getpid()}] [{threading.get_ident()}] [")


def _queue_lines(base: str) -> list[str]:
    """The delivery queue's lines of one scrape, on a connection of its own (so any worker may answer)."""
    text = requests.get(f"{base}/metrics", timeout=5, headers={"Connection": "close"}).text
    assert text.count("# TYPE gateway_delivery_queue_depth gauge") == 1, text  # one family, not one per source
    return [line for line in text.splitlines() if line.startswith(("gateway_delivery_queue", "gateway_delivery_dead"))]


def test_queue_gauges_under_gunicorn_have_one_series_per_partner_and_follow_the_store(environment):
    """Every worker's scrape reads the queue from the store: the gauges show one series per partner (no `pid`),
    at 0 once a queue empties, and no worker keeps a value it saw earlier (nor writes the gauges to files)."""
    from gateway.delivery.publisher import publish_events
    from gateway.domain.clock import utcnow
    from gateway.store.db import Store, make_engine
    from gateway.store.models import Delivery
    from tests.support.seeding import Seeder, add_subscription

    subprocess.run([GATEWAY, "db", "upgrade"], env=environment, check=True, capture_output=True)
    store = Store(make_engine(environment["GATEWAY_DATABASE_URL"]))
    seed = Seeder(store)
    for code, waiting in (("alpha", 2), ("beta", 1)):
        seed.partner(code)
        seed.endpoint(code, "https://127.0.0.1:9/hooks")  # nobody dispatches: the deliveries wait
        with store.transaction() as session:
            for number in range(waiting):
                add_subscription(session, code, f"customer-{number}")
    with store.transaction() as session:
        publish_events(session, utcnow())
    process, base = start_gateway(environment, "serve", "--workers", "2")
    try:
        for _ in range(12):  # enough scrapes that both workers answer several
            assert sorted(_queue_lines(base)) == [
                'gateway_delivery_dead_letters{partner="alpha"} 0.0',
                'gateway_delivery_dead_letters{partner="beta"} 0.0',
                'gateway_delivery_queue_depth{partner="alpha"} 2.0',
                'gateway_delivery_queue_depth{partner="beta"} 1.0',
            ]
        with store.transaction() as session:  # alpha's queue empties: one delivered, one a dead letter
            first, second = session.query(Delivery).filter(Delivery.partner_code == "alpha").order_by(Delivery.id)
            first.status, first.finished_at = "delivered", utcnow()
            second.status, second.finished_at = "dead", utcnow()
        for _ in range(12):
            assert sorted(_queue_lines(base)) == [
                'gateway_delivery_dead_letters{partner="alpha"} 1.0',
                'gateway_delivery_dead_letters{partner="beta"} 0.0',
                'gateway_delivery_queue_depth{partner="alpha"} 0.0',
                'gateway_delivery_queue_depth{partner="beta"} 1.0',
            ]
        metrics = requests.get(f"{base}/metrics", timeout=5).text
        assert "gateway_delivery_due_lag_seconds " in metrics and 'pid="' not in metrics
        written = {
            path.name.split("_")[0] for path in (Path(environment["GATEWAY_INSTANCE_PATH"]) / "prometheus").iterdir()
        }
        assert written == {"counter", "histogram"}  # the HTTP metrics' files only
    finally:
        stop_gateway(process)
        store.dispose()
