"""Benchmark: authenticated GET /tmf-api/productInventory/v4/product/{id} against the /v1 status lookup
(GET /v1/subscriptions/{id}) on the same gateway server, over the same stored subscriptions, under gunicorn.

The method and harness are bench/status_lookup.py's (wrk, the same gunicorn settings as `gateway serve`, the same
ids, rounds alternating between the two paths so drift in the machine's speed falls on both alike, each side's
figure its median round). wrk comes from Debian and is installed (as root) if missing.

    python bench/tmf.py [--subscriptions 100000] [--rounds 5] [--seconds 5] [--workers 2]

Last line: `tmf_lookup: <ratio> of /v1 lookup req/s (target >= 0.85)`.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
from pathlib import Path

import requests
from status_lookup import ensure_wrk, free_port, load, seed, serve

from gateway.store import migrate
from gateway.store.db import Store, make_engine

LUA = """
ids = {%s}
request = function()
  return wrk.format("GET", "%s" .. ids[math.random(#ids)])
end
"""
V1_PATH = "/v1/subscriptions/"
TMF_PATH = "/tmf-api/productInventory/v4/product/"
TARGET = 0.85


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=5, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--log-level", default="INFO", help="WARNING drops the access log, to see its cost")
    options = parser.parse_args()
    wrk = ensure_wrk()

    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        database = f"sqlite:///{folder / 'bench.sqlite3'}"
        store = Store(make_engine(database))
        migrate.upgrade(store.engine)
        token, ids = seed(store, options.subscriptions)
        store.dispose()
        sample = random.Random(3).sample(ids, min(1000, len(ids)))
        quoted = ", ".join(f'"{subscription_id}"' for subscription_id in sample)
        scripts = {}
        for name, path in (("v1", V1_PATH), ("tmf", TMF_PATH)):
            scripts[name] = folder / f"{name}.lua"
            scripts[name].write_text(LUA % (quoted, path))

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        environment = {
            **os.environ,
            "GATEWAY_DATABASE_URL": database,
            "GATEWAY_INSTANCE_PATH": str(folder),
            "GATEWAY_LOG_LEVEL": options.log_level,
            # Surge protection stays on both paths, with a budget this load never spends.
            "GATEWAY_RATE_LIMITS": "partner=10000000/minute",
        }
        arguments = [sys.executable, "-m", "gateway", "serve", "--bind", f"127.0.0.1:{port}"]
        server = serve([*arguments, "--workers", str(options.workers)], environment, base, folder / "gateway.log")
        headers = [f"Authorization: Bearer {token}"]
        try:
            for path in (V1_PATH, TMF_PATH):
                check = requests.get(
                    f"{base}{path}{sample[0]}", headers={"Authorization": f"Bearer {token}"}, timeout=5
                )
                assert check.status_code == 200, check.text
            rounds: dict[str, list[float]] = {"v1": [], "tmf": []}
            for _ in range(options.rounds):
                for name in ("v1", "tmf"):
                    rounds[name].append(load(wrk, base, scripts[name], headers, options.seconds))
        finally:
            server.terminate()
            server.wait()

    v1_rps, tmf_rps = statistics.median(rounds["v1"]), statistics.median(rounds["tmf"])
    setting = f"{options.subscriptions:,} subscriptions, {options.workers} workers, log level {options.log_level}"
    print(f"/v1 lookup:  {v1_rps:,.0f} req/s (rounds: {', '.join(f'{r:,.0f}' for r in rounds['v1'])}; {setting})")
    print(f"TMF product: {tmf_rps:,.0f} req/s (rounds: {', '.join(f'{r:,.0f}' for r in rounds['tmf'])})")
    print(f"tmf_lookup: {tmf_rps / v1_rps:.2f} of /v1 lookup req/s (target >= {TARGET})")


if __name__ == "__main__":
    main()
