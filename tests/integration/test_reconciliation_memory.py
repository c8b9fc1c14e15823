"""Memory stays flat in the roster's size: a roster ten times longer costs the job no more memory.

Each job runs in a fresh process of its own, which reports its peak resident size, so what one job held is not
hidden in what the test process already holds.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

JOB = """
import resource, sys
from datetime import UTC, datetime

from gateway.domain.roster import RosterFormat, read_roster, text_lines
from gateway.services import reconciliation
from gateway.services.partners import add_partner
from gateway.store import migrate
from gateway.store.db import Store, make_engine

database, roster = sys.argv[1], sys.argv[2]
store = Store(make_engine(database))
migrate.upgrade(store.engine)
now = datetime.now(UTC)
with store.transaction() as session:
    add_partner(session, code="nordlink", display_name="N", markets=["DE"], default_locale="de", flavour="standard",
                now=now)
job_id = reconciliation.start(store, "nordlink", RosterFormat.CSV, now)
with open(roster, "rb") as file:
    job = reconciliation.run(store, job_id, read_roster(text_lines(file), RosterFormat.CSV))
print(job.rows, job.counts["only_at_partner"], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
GROWTH_BOUND_KIB = 16 * 1024  # keeping the longer roster's extra 450,000 refs in a list alone took 38 MiB more


def _peak_kib(folder: Path, rows: int) -> int:
    roster = folder / f"roster-{rows}.csv"
    with roster.open("w") as out:
        out.write("partner_ref,status,plan\n")
        out.writelines(f"customer-{index:09d},active,standard\n" for index in range(rows))
    database = f"sqlite:///{folder / f'gateway-{rows}.sqlite3'}"
    output = subprocess.run(
        [sys.executable, "-c", JOB, database, str(roster)], capture_output=True, text=True, check=True, timeout=300
    ).stdout
    read, only_at_partner, peak = map(int, output.split())
    assert read == only_at_partner == rows  # every row was read, compared and recorded
    return peak


@pytest.mark.slow
def test_a_roster_ten_times_longer_takes_no_more_memory(tmp_path):
    short, long = _peak_kib(tmp_path, 50_000), _peak_kib(tmp_path, 500_000)
    assert long - short < GROWTH_BOUND_KIB, f"peak {short} KiB at 50,000 rows, {long} KiB at 500,000"
