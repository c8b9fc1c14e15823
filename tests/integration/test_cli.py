"""The `gateway` command, run through click against a real SQLite store (and PostgreSQL for db upgrade)."""

from __future__ import annotations

import re

from click.testing import CliRunner

from gateway.cli import cli
from gateway.store import migrate
from gateway.store.db import make_engine

TOKEN = re.compile(r"^gw_[0-9a-f]{12}_[0-9a-f]{48}$", re.MULTILINE)


def test_db_upgrade_on_either_backend(database, monkeypatch, tmp_path):
    monkeypatch.setenv("GATEWAY_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("GATEWAY_DATABASE_URL", database.url)
    if database.schema:
        monkeypatch.setenv("GATEWAY_DATABASE_SCHEMA", database.schema)
    result = CliRunner().invoke(cli, ["db", "upgrade"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"store at migration {migrate.head_revision()}" in result.output
    engine = make_engine(database.url, database.schema)
    assert migrate.is_current(engine)
    engine.dispose()
    current = CliRunner().invoke(cli, ["db", "current"], catch_exceptions=False)
    assert current.output.strip() == f"store: {migrate.head_revision()}  code: {migrate.head_revision()}"


def test_partner_add_list_show_suspend_resume(run):
    added = run(
        "partner",
        "add",
        "nordlink",
        "--name",
        "Nordlink",
        "--market",
        "de",
        "--market",
        "AT",
        "--locale",
        "de-at",
        "--webhook",
        "https://hooks.example.net/x",
    )
    assert "added partner nordlink" in added.output
    listing = run("partner", "list").output.splitlines()
    assert listing[0].split() == ["CODE", "NAME", "MARKETS", "LOCALE", "FLAVOUR", "STATUS"]
    assert listing[1].split() == ["nordlink", "Nordlink", "AT,DE", "de-AT", "standard", "active"]
    shown = run("partner", "show", "nordlink").output
    assert "https://hooks.example.net/x" in shown and "status:   active" in shown
    assert "is suspended" in run("partner", "suspend", "nordlink").output
    assert run("partner", "list", "--status", "active").output.strip() == "(none)"
    assert "is active" in run("partner", "resume", "nordlink").output


def test_partner_add_reports_every_bad_field_and_exits_1(run):
    result = run("partner", "add", "Bad", "--name", "x", "--market", "XX", "--locale", "!", ok=False)
    assert result.exit_code == 1
    assert "CODE 'Bad':" in result.output and "--market 'XX':" in result.output and "--locale '!':" in result.output
    assert "Traceback" not in result.output


def test_unknown_partner_is_a_one_line_error(run):
    result = run("partner", "show", "ghost", ok=False)
    assert result.exit_code == 1
    assert result.output.strip() == "Error: No partner 'ghost'."


def test_key_issue_rotate_revoke(run):
    run("partner", "add", "nordlink", "--name", "N", "--market", "DE", "--locale", "de")
    issued = run("key", "issue", "--partner", "nordlink", "--scope", "callcenter", "--name", "agents").output
    [token] = TOKEN.findall(issued)
    key_id = re.search(r"key (key_[0-9a-f]+)", issued).group(1)
    listed = run("key", "list", "--partner", "nordlink").output
    assert key_id in listed and token not in listed and "callcenter" in listed

    rotated = run("key", "rotate", key_id, "--overlap-hours", "1").output
    [successor] = TOKEN.findall(rotated)
    assert successor != token and "stops working in 1 h" in rotated
    assert "expiring" in run("key", "list").output

    assert f"key {key_id} revoked" in run("key", "revoke", key_id).output
    again = run("key", "rotate", key_id, ok=False)
    assert again.exit_code == 1 and "revoked or expired" in again.output


def test_operator_and_service_keys_get_every_scope_of_their_kind_by_default(run):
    operator = run("key", "issue", "--kind", "operator", "--name", "ops").output
    assert "scopes: admin" in operator
    refused = run("key", "issue", "--kind", "service", "--scope", "admin", "--name", "x", ok=False)
    assert "may not hold admin" in refused.output


def test_scheduler_run_applies_due_transitions_and_reports_counts(run, sqlite_database):
    from datetime import timedelta

    from gateway.domain.clock import utcnow
    from gateway.store.db import Store
    from tests.support.seeding import add_subscription

    run("partner", "add", "nordlink", "--name", "N", "--market", "DE", "--locale", "de")
    store = Store(make_engine(sqlite_database.url))
    past = utcnow() - timedelta(days=40)
    with store.transaction() as session:
        add_subscription(session, "nordlink", "late", now=past, active=False)
    store.dispose()
    first = run("scheduler", "run").output
    assert "activation_expired: 1" in first and "purged: 0" in first
    assert "activation_expired: 0" in run("scheduler", "run").output  # nothing is applied twice


def test_reconcile_a_roster_file_dry_run_then_apply(run, tmp_path):
    run("partner", "add", "nordlink", "--name", "N", "--market", "DE", "--locale", "de")
    roster = tmp_path / "roster.csv"
    roster.write_text("partner_ref,status,plan\nunknown,active,standard\nbroken,maybe,standard\n")
    dry = run("reconcile", "nordlink", str(roster)).output
    assert "2 rows, completed" in dry and "only_at_partner: 1" in dry and "bad_row: 1" in dry
    assert "dry run: nothing changed" in dry
    applied = run("reconcile", "nordlink", str(roster), "--apply").output
    assert "repaired: 0" in applied  # nothing found here can be repaired automatically
    ndjson = tmp_path / "roster.ndjson"
    ndjson.write_text('{"partner_ref": "unknown", "status": "cancelled", "plan": "standard"}\n')
    assert "only_at_partner: 0" in run("reconcile", "nordlink", str(ndjson)).output


def test_reconcile_refuses_a_roster_without_its_header(run, tmp_path):
    run("partner", "add", "nordlink", "--name", "N", "--market", "DE", "--locale", "de")
    roster = tmp_path / "roster.csv"
    roster.write_text("unknown,active,standard\n")
    result = run("reconcile", "nordlink", str(roster), ok=False)
    assert result.exit_code == 1 and "header must name" in result.output


def test_delivery_commands_list_show_pause_replay_and_test(run, sqlite_database):
    """An operator's delivery tools from the shell: a test event, a dead letter replayed, a partner paused."""
    from sqlalchemy import update

    from gateway.delivery.publisher import publish_events
    from gateway.domain.clock import utcnow
    from gateway.store.db import Store
    from gateway.store.models import Delivery, Partner
    from tests.support.seeding import Seeder

    store = Store(make_engine(sqlite_database.url))
    Seeder(store).partner("nordlink")
    Seeder(store).endpoint("nordlink")
    assert "recorded" in run("deliveries", "test-event", "nordlink").output
    with store.transaction() as session:
        publish_events(session, utcnow())
        session.execute(update(Delivery).values(status="dead", last_error="HTTP 400"))
    listed = run("deliveries", "list", "--partner", "nordlink", "--status", "dead").output
    assert "gateway.test" in listed and "HTTP 400" in listed
    [delivery_id] = re.findall(r"^(\d+)\s", listed, re.MULTILINE)
    assert "gateway.test to nordlink: dead" in run("deliveries", "show", delivery_id).output
    assert "1 dead letters will be sent again" in run("deliveries", "replay-dead", "--partner", "nordlink").output
    assert "(none)" in run("deliveries", "list", "--status", "dead").output
    assert "will be sent again" in run("deliveries", "replay", delivery_id).output
    run("deliveries", "pause", "nordlink")
    with store.read() as session:
        assert session.get(Partner, "nordlink").deliveries_paused is True
    run("deliveries", "resume", "nordlink")
    with store.read() as session:
        assert session.get(Partner, "nordlink").deliveries_paused is False
    missing = run("deliveries", "show", "999", ok=False)
    assert missing.exit_code == 1 and "No delivery '999'" in missing.output
    store.dispose()


def test_scheduler_run_every_repeats_until_sigterm(run, sqlite_database, tmp_path):
    """The scheduler as a long-running process: a run every second, stopped cleanly by SIGTERM."""
    import os
    import signal
    import subprocess
    import sys
    import time

    run("partner", "add", "nordlink", "--name", "N", "--market", "DE", "--locale", "de")
    environment = {
        **os.environ,
        "GATEWAY_INSTANCE_PATH": str(tmp_path),
        "GATEWAY_DATABASE_URL": sqlite_database.url,
        "GATEWAY_LOG_LEVEL": "WARNING",
    }
    output = tmp_path / "scheduler.out"
    with output.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "scheduler", "run", "--every", "1"],
            env=environment,
            stdout=sink,
            stderr=subprocess.PIPE,
            text=True,
        )
    try:
        deadline = time.monotonic() + 30
        while output.read_text().count("sharing notices") < 2:
            assert process.poll() is None and time.monotonic() < deadline, "a second run never came"
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, errors
    assert output.read_text().count("activation_expired: 0") >= 2


def test_a_bad_setting_is_one_line_naming_it_and_the_rule_not_a_traceback(sqlite_database, tmp_path):
    """Issue 22, item 13: what an operator reads when a setting is wrong, from the real command."""
    import os
    import subprocess
    import sys

    for name, value, rule in (
        ("INACTIVITY_POLICY", "MY=0/18", "months must be at least 1"),
        ("INACTIVITY_RESPOND_DAYS", "-1", "must be at least 1"),
        ("INACTIVITY_RESPOND_DAYS", "two", "expected a whole number"),
    ):
        environment = {
            **os.environ,
            "GATEWAY_INSTANCE_PATH": str(tmp_path),
            "GATEWAY_DATABASE_URL": sqlite_database.url,
            f"GATEWAY_{name}": value,
        }
        finished = subprocess.run(
            [sys.executable, "-m", "gateway", "scheduler", "run"], env=environment, capture_output=True, text=True
        )
        assert finished.returncode == 1
        [line] = finished.stderr.splitlines()
        assert line.startswith(f"Error: GATEWAY_{name}=") and rule in line


def test_help_and_version_are_the_gateways_own_not_flasks():
    """No Flask developer options or commands (-A/--app, -e/--env-file, --debug, run, shell, routes)."""
    from importlib.metadata import version

    shown = CliRunner().invoke(cli, ["--help"], catch_exceptions=False).output
    for option in ("--app", "--env-file", "--debug"):
        assert option not in shown, option
    commands = {line.split()[0] for line in shown.split("Commands:")[1].splitlines() if line.startswith("  ")}
    assert {"serve", "dispatch", "scheduler"} <= commands and not {"run", "shell", "routes"} & commands
    assert CliRunner().invoke(cli, ["--version"]).output.strip() == f"gateway, version {version('partner-gateway')}"
    assert CliRunner().invoke(cli, ["run"]).exit_code == 2
