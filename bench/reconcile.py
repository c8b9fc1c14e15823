"""Benchmark: reconcile a 1,000,000-row roster (about 2% drift) against 1,000,000 stored subscriptions.

Baseline, measured in the same run: merely parsing the same roster file. Both run in a fresh child process
so each reports its own peak memory; a second, ten times smaller roster shows whether memory stays flat. The
two alternate for a few rounds (each reconciliation on a fresh copy of the seeded store) and each side's
figure is its median round, so a slow moment of the machine does not decide the ratio.

    python bench/reconcile.py [--rows 1000000] [--rounds 5]

Last line: `reconcile: <ratio>x parse-only time (target <= 3.0)`.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from seeding import PARTNER, PLANS, partner_ref, seed_partner_and_subscriptions

from gateway.domain.roster import RosterFormat, read_roster
from gateway.services import reconciliation
from gateway.store import migrate
from gateway.store.db import Store, make_engine


def write_roster(path: Path, rows: int, drift: float = 0.02) -> int:
    """The partner's view of the same customers, with `drift` of the rows differing in one way or another."""
    rng = random.Random(7)
    drifted = 0
    with path.open("w", encoding="utf-8") as roster:
        roster.write("partner_ref,status,plan\n")
        for index in range(rows):
            status, plan = "active", PLANS[index % 3]
            ref = partner_ref(index)
            if rng.random() < drift:
                drifted += 1
                change = rng.randrange(4)
                if change == 0:
                    status = "suspended"
                elif change == 1:
                    plan = PLANS[(index + 1) % 3]
                elif change == 2:
                    ref = f"new-{index:08d}"  # only at the partner (and cust-… only at the gateway)
                else:
                    status = "cancelled"
            roster.write(f"{ref},{status},{plan}\n")
    return drifted


def child(mode: str, database: str, roster: Path) -> None:
    """Run one measured phase in this (fresh) process and print its figures as JSON."""
    started = time.perf_counter()
    if mode == "parse":
        with roster.open(encoding="utf-8", newline="") as file:
            rows = sum(1 for _ in read_roster(file, RosterFormat.CSV))
        result = {"rows": rows}
    else:
        store = Store(make_engine(database))
        job_id = reconciliation.start(store, PARTNER, RosterFormat.CSV, datetime.now(UTC))
        with roster.open(encoding="utf-8", newline="") as file:
            job = reconciliation.run(store, job_id, read_roster(file, RosterFormat.CSV))
        result = {"rows": job.rows, "counts": job.counts}
    result["seconds"] = time.perf_counter() - started
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(mode: str, database: str, roster: Path) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--database", database, "--roster", str(roster)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", choices=["parse", "reconcile"])
    parser.add_argument("--database")
    parser.add_argument("--roster", type=Path)
    options = parser.parse_args()
    if options.child:
        child(options.child, options.database, options.roster)
        return

    with tempfile.TemporaryDirectory() as folder:
        seeded, working = Path(folder) / "seeded.sqlite3", Path(folder) / "bench.sqlite3"
        store = Store(make_engine(f"sqlite:///{seeded}"))
        migrate.upgrade(store.engine)
        print(f"seeding {options.rows:,} subscriptions ...", flush=True)
        seed_partner_and_subscriptions(store, options.rows)
        store.dispose()
        small_roster, roster = Path(folder) / "small.csv", Path(folder) / "roster.csv"
        write_roster(small_roster, options.rows // 10)
        drifted = write_roster(roster, options.rows)
        print(f"roster: {options.rows:,} rows, {drifted:,} drifted ({drifted / options.rows:.1%})")

        def reconcile(roster_file: Path) -> dict:
            shutil.copyfile(seeded, working)  # every reconciliation starts from the same store
            return measure("reconcile", f"sqlite:///{working}", roster_file)

        small = reconcile(small_roster)
        parses, fulls = [], []
        for _ in range(options.rounds):
            parses.append(measure("parse", "", roster))
            fulls.append(reconcile(roster))

    parse_seconds = statistics.median(parse["seconds"] for parse in parses)
    full_seconds = statistics.median(full["seconds"] for full in fulls)
    rounds = ", ".join(
        f"{parse['seconds']:.2f}/{full['seconds']:.2f}" for parse, full in zip(parses, fulls, strict=True)
    )
    print(f"parse only:   {parse_seconds:.2f} s ({parses[0]['rows']:,} rows)")
    print(f"reconcile:    {full_seconds:.2f} s, drift {fulls[0]['counts']}")
    print(f"rounds (parse/reconcile s): {rounds}")
    print(
        f"peak memory:  {max(full['peak_mib'] for full in fulls):.0f} MiB at {options.rows:,} rows, "
        f"{small['peak_mib']:.0f} MiB at {options.rows // 10:,} rows, "
        f"parse only {max(parse['peak_mib'] for parse in parses):.0f} MiB"
    )
    print(f"reconcile: {full_seconds / parse_seconds:.2f}x parse-only time (target <= 3.0)")


if __name__ == "__main__":
    main()
