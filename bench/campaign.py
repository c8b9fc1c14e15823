"""Benchmark: the inactivity warning run over 1,000,000 members, about 5% of them inactive, on the SQLite store.

The run finds the inactive members, moves each into the warned sub-state (history entry, sequence) and writes
its account.inactivity_warning event with rendered text to the outbox. Floor, measured in the same run on a
copy of the same store: one scan of the member table, plus a raw executemany of as many outbox rows with a
payload of the same size. Each phase runs in a fresh child process that reports its own peak memory; a second
store ten times smaller shows whether memory stays flat in the member count.

    python bench/campaign.py [--members 1000000] [--inactive 0.05]

Last line: `campaign: <ratio>x the floor (target <= 3.0)`.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from seeding import seed_partner_and_subscriptions

from gateway.domain.inactivity import MarketPolicies
from gateway.services import campaigns as campaign_service
from gateway.services.campaigns import CampaignSettings
from gateway.store import migrate
from gateway.store.db import Store, make_engine

LOCALES = ["de", "de-AT", "en", "fr", "es", "ms"]


def seed(path: Path, members: int, inactive: float) -> None:
    """Members who joined 3 years ago; `inactive` of them last watched 25+ months ago or never, the rest lately."""
    now = datetime.now(UTC)
    rng = random.Random(5)

    def activity(index: int) -> dict:
        joined = now - timedelta(days=3 * 365)
        if rng.random() < inactive:
            last_viewed = None if index % 2 else now - timedelta(days=25 * 31 + rng.randrange(300))
        else:
            last_viewed = now - timedelta(days=rng.randrange(600))
        return {"activated_at": joined, "last_viewed_at": last_viewed, "locale": LOCALES[index % len(LOCALES)]}

    store = Store(make_engine(f"sqlite:///{path}"))
    migrate.upgrade(store.engine)
    seed_partner_and_subscriptions(store, members, extra=activity)
    store.dispose()


def floor(path: Path, events: int, payload_bytes: int) -> dict:
    """One scan of the member table, then `events` outbox rows of `payload_bytes` each in one executemany."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    scanned = sum(1 for _ in connection.execute("SELECT * FROM subscriptions"))
    payload = json.dumps({"data": "x" * max(payload_bytes - 12, 0)})
    now = datetime.now(UTC).isoformat()
    rows = (
        (f"evt_floor_{index:014d}", "bench-telco", f"sub_{index:020d}", 2, "account.inactivity_warning", payload, now)
        for index in range(events)
    )
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(
        "INSERT INTO outbox_events (event_id, partner_code, subscription_id, sequence, event_type, payload, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    connection.execute("COMMIT")
    connection.close()
    return {"scanned": scanned}


def campaign(path: Path) -> dict:
    store = Store(make_engine(f"sqlite:///{path}"))
    now = datetime.now(UTC)
    with store.transaction() as session:
        started = campaign_service.start_campaign(
            session, dry_run=False, policies=MarketPolicies(), respond_days=14, now=now
        )
    finished = campaign_service.run_campaign(
        store, started.id, CampaignSettings(MarketPolicies()), clock=lambda: datetime.now(UTC)
    )
    payload_bytes = (
        store.engine.connect()
        .exec_driver_sql(
            "SELECT avg(length(payload)) FROM outbox_events WHERE event_type = 'account.inactivity_warning'"
        )
        .scalar()
    )
    return {"warned": finished.warned, "status": finished.status, "payload_bytes": round(payload_bytes or 0)}


def child(mode: str, path: Path, events: int, payload_bytes: int) -> None:
    started = time.perf_counter()
    result = floor(path, events, payload_bytes) if mode == "floor" else campaign(path)
    result["seconds"] = time.perf_counter() - started
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(mode: str, path: Path, events: int = 0, payload_bytes: int = 0) -> dict:
    arguments = [sys.executable, __file__, "--child", mode, "--path", str(path)]
    arguments += ["--events", str(events), "--payload-bytes", str(payload_bytes)]
    output = subprocess.run(arguments, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--inactive", type=float, default=0.05)
    parser.add_argument("--child", choices=["floor", "campaign"])
    parser.add_argument("--path", type=Path)
    parser.add_argument("--events", type=int, default=0)
    parser.add_argument("--payload-bytes", type=int, default=0)
    options = parser.parse_args()
    if options.child:
        child(options.child, options.path, options.events, options.payload_bytes)
        return

    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        seeded, small = folder / "seeded.sqlite3", folder / "small.sqlite3"
        print(f"seeding {options.members:,} members ({options.inactive:.0%} inactive) ...", flush=True)
        seed(seeded, options.members, options.inactive)
        seed(small, options.members // 10, options.inactive)
        shutil.copy(seeded, folder / "run.sqlite3")
        shutil.copy(seeded, folder / "floor.sqlite3")

        small_run = measure("campaign", small)
        run = measure("campaign", folder / "run.sqlite3")
        base = measure("floor", folder / "floor.sqlite3", run["warned"], run["payload_bytes"])

    print(
        f"floor:        {base['seconds']:.2f} s (scan of {base['scanned']:,} members + {run['warned']:,} outbox rows)"
    )
    print(
        f"campaign:     {run['seconds']:.2f} s, {run['warned']:,} warned ({run['status']}), "
        f"{run['payload_bytes']} bytes per event"
    )
    print(
        f"peak memory:  {run['peak_mib']:.0f} MiB at {options.members:,} members, "
        f"{small_run['peak_mib']:.0f} MiB at {options.members // 10:,}, floor {base['peak_mib']:.0f} MiB"
    )
    print(f"campaign: {run['seconds'] / base['seconds']:.2f}x the floor (target <= 3.0)")


if __name__ == "__main__":
    main()
