"""`gateway campaigns`: preview, run with a progress bar, list, show and resume, against a real SQLite store."""

from __future__ import annotations

import re

import pytest

from gateway.domain.clock import utcnow
from gateway.domain.periods import add_months
from gateway.store.db import Store, make_engine
from tests.support.seeding import Seeder, add_subscription


@pytest.fixture
def members(run, sqlite_database):
    """Four long-inactive members of one partner (three in DE, one in AT) and one who just joined."""
    store = Store(make_engine(sqlite_database.url))
    Seeder(store).partner("rheinfunk", markets=["DE", "AT"])
    with store.transaction() as session:
        for index in range(3):
            add_subscription(session, "rheinfunk", f"sleepy-{index}", now=add_months(utcnow(), -30))
        add_subscription(session, "rheinfunk", "austrian", now=add_months(utcnow(), -30), market="AT")
        add_subscription(session, "rheinfunk", "new", now=utcnow())
    store.dispose()


def test_dry_run_prints_counts_by_partner_and_market_and_changes_nothing(run, members):
    preview = run("campaigns", "inactivity", "--dry-run")
    assert re.search(r"rheinfunk\s+AT\s+1", preview.output) and re.search(r"rheinfunk\s+DE\s+3", preview.output)
    assert "4 members would be warned; nothing changed" in preview.output
    again = run("campaigns", "inactivity", "--dry-run")
    assert "4 members would be warned" in again.output


def test_a_run_warns_shows_progress_and_is_listed(run, members):
    result = run("campaigns", "inactivity")
    match = re.search(r"campaign (cmp_\w+): completed, 4 warned, respond by \d{4}-\d{2}-\d{2}", result.output)
    assert match, result.output
    assert "warning inactive members" in result.output  # the progress bar's label (stderr, mixed in by click)
    listed = run("campaigns", "list")
    assert match.group(1) in listed.output and "completed" in listed.output
    shown = run("campaigns", "show", match.group(1))
    assert re.search(r"rheinfunk\s+DE\s+3", shown.output)
    assert "0 members would be warned" in run("campaigns", "inactivity", "--dry-run").output
    finished = run("campaigns", "resume", match.group(1), ok=False)
    assert finished.exit_code == 1 and "is finished or being run elsewhere" in finished.output
    assert run("campaigns", "show", "cmp_missing", ok=False).exit_code == 1
