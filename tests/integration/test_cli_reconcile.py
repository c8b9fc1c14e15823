"""`gateway reconcile PARTNER FILE` against a real SQLite store: progress on stderr, repairs made through the
lifecycle with --apply, and --report writing the same CSV the API serves at /report.csv."""

from __future__ import annotations

import csv
import re

import pytest
from sqlalchemy import select

from gateway import create_app
from gateway.domain.keys import KeyKind
from gateway.store.db import Store, make_engine
from gateway.store.models import OutboxEvent, Subscription, SubscriptionChange
from tests.support.api import app_store, bearer
from tests.support.seeding import Seeder, add_subscription

ROSTER = "partner_ref,status,plan\nto-suspend,suspended,standard\nto-upgrade,active,premium\nbroken,maybe,standard\n"


@pytest.fixture
def store(run, sqlite_database):
    """The CLI's store, with nordlink and three active subscriptions: to-suspend, to-upgrade and forgotten."""
    run("partner", "add", "nordlink", "--name", "N", "--market", "DE", "--locale", "de")
    store = Store(make_engine(sqlite_database.url))
    with store.transaction() as session:
        for ref in ("to-suspend", "to-upgrade", "forgotten"):
            add_subscription(session, "nordlink", ref)
    yield store
    store.dispose()


def _by_ref(store) -> dict[str, Subscription]:
    with store.read() as session:
        return {subscription.partner_ref: subscription for subscription in session.scalars(select(Subscription))}


def test_progress_of_the_bytes_read_goes_to_stderr(run, store, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER + "".join(f"gone-{i},cancelled,standard\n" for i in range(5000)))
    size = roster.stat().st_size  # about 120 KB: read in several blocks

    result = run("reconcile", "nordlink", str(roster))

    steps = re.findall(r"^reading roster\.csv: (\d+) of (\d+) bytes \((\d+)%\)$", result.stderr, re.MULTILINE)
    assert len(steps) >= 3 and {int(total) for _, total, _ in steps} == {size}
    done = [int(read) for read, _, _ in steps]
    assert done == sorted(done) and done[-1] == size and steps[-1][2] == "100"
    assert "reading roster.csv" not in result.stdout  # the report stays clean for a pipe
    assert "5003 rows, completed" in result.stdout


def test_apply_makes_the_repairs_through_the_lifecycle_with_progress(run, store, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)

    result = run("reconcile", "nordlink", str(roster), "--apply")

    assert "repaired: 3" in result.stdout
    assert re.search(r"^applying repairs: 4 of 4 items \(100%\)$", result.stderr, re.MULTILINE)
    subscriptions = _by_ref(store)
    assert subscriptions["to-suspend"].status == "suspended"
    assert subscriptions["to-upgrade"].plan == "premium"
    assert subscriptions["forgotten"].status == "cancelled"
    with store.read() as session:
        events = session.execute(select(OutboxEvent.event_type, OutboxEvent.payload)).all()
        changes = session.scalars(
            select(SubscriptionChange.command).where(SubscriptionChange.command.not_in(["create", "activate"]))
        )
        assert sorted(changes) == ["cancel_now", "change_plan", "suspend"]
    emitted = {event_type: payload for event_type, payload in events if event_type != "subscription.activated"}
    assert sorted(emitted) == ["subscription.cancelled", "subscription.plan_changed", "subscription.suspended"]
    assert emitted["subscription.suspended"]["data"]["reason"] == "non_payment"
    assert emitted["subscription.cancelled"]["data"]["reason"] == "partner_churn"
    assert {payload["data"]["actor"] for payload in emitted.values()} == {"partner"}
    again = run("reconcile", "nordlink", str(roster), "--apply")  # a new job: nothing is left to repair
    assert "repaired: 0" in again.stdout


def test_report_writes_the_same_csv_as_the_api(run, store, tmp_path):
    roster, report = tmp_path / "roster.csv", tmp_path / "out" / "report.csv"
    roster.write_text(ROSTER)
    report.parent.mkdir()

    result = run("reconcile", "nordlink", str(roster), "--apply", "--report", str(report))

    assert f"report: {report}" in result.stdout
    job_id = re.search(r"reconciliation (rec_\w+)", result.stdout).group(1)
    app = create_app()  # from the command's environment: the same store
    token = Seeder(app_store(app)).token(KeyKind.PARTNER, "nordlink")
    served = app.test_client().get(f"/v1/reconciliations/{job_id}/report.csv", headers=bearer(token))
    app_store(app).dispose()
    assert served.status_code == 200
    assert report.read_bytes() == served.get_data()
    rows = list(csv.DictReader(report.open(newline="")))
    assert {row["kind"] for row in rows} == {"bad_row", "status_mismatch", "plan_mismatch", "only_at_gateway"}
    assert all(row["repaired_at"] for row in rows if row["repair"])


def test_a_withheld_only_at_gateway_is_said_with_the_unreadable_rows_in_the_output_and_the_report(run, store, tmp_path):
    """One row naming no one: `forgotten` is not listed as missing, and the output says why instead of letting
    `only_at_gateway: 0` read as nobody missing; the --report file says it on its first row."""
    roster, report = tmp_path / "roster.csv", tmp_path / "report.csv"
    roster.write_text(ROSTER + '"unreadable,active,standard\n')

    result = run("reconcile", "nordlink", str(roster), "--report", str(report))

    assert "  only_at_gateway: 0" in result.stdout
    assert (
        "only_at_gateway withheld: 1 row names no readable partner_ref, and any of them could be a customer missing "
        "from the roster." in result.stdout
    )
    rows = list(csv.DictReader(report.open(newline="")))
    assert rows[0]["kind"] == "only_at_gateway_withheld" and "1 row names no readable" in rows[0]["detail"]
    assert "only_at_gateway" not in {row["kind"] for row in rows}

    roster.write_text(ROSTER)  # every bad row names its customer: the missing are listed, nothing is withheld
    result = run("reconcile", "nordlink", str(roster))
    assert "  only_at_gateway: 1" in result.stdout and "withheld" not in result.stdout
