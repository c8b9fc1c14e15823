"""Benchmark: authenticated GET /v1/subscriptions/{id} over 100,000 stored subscriptions, under gunicorn.

Baseline, measured in the same run with the same gunicorn settings and the same load tool (wrk): a bare Flask
app answering a fixed JSON body. wrk comes from Debian and is installed (as root) if missing.

    python bench/status_lookup.py [--subscriptions 100000] [--rounds 5] [--seconds 5] [--workers 2]

Last line: `status_lookup: <ratio> of bare Flask req/s (target >= 0.60)`.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import requests
from seeding import PARTNER, seed_partner_and_subscriptions, subscription_id

from gateway.cli.serving import GUNICORN_SETTINGS
from gateway.domain.keys import KeyKind
from gateway.services.keys import issue_key
from gateway.store import migrate
from gateway.store.db import Store, make_engine

BARE_APP = """
from flask import Flask, jsonify

app = Flask(__name__)
BODY = {"id": "sub_00000000000000000001", "partner_ref": "cust-00000001", "plan": "standard", "status": "active"}


@app.get("/v1/subscriptions/<subscription_id>")
def subscription(subscription_id):
    return jsonify(BODY)
"""
LUA = """
ids = {%s}
request = function()
  return wrk.format("GET", "/v1/subscriptions/" .. ids[math.random(#ids)])
end
"""


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("wrk is missing and installing it needs root: apt-get install wrk")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "wrk"]
    if subprocess.run(install, env=environment).returncode != 0:
        # A fresh image has no package lists yet: fetch them once, then try again.
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=environment)
        subprocess.run(install, check=True, env=environment)
    return shutil.which("wrk") or sys.exit("wrk did not install")


def seed(store: Store, count: int) -> tuple[str, list[str]]:
    seed_partner_and_subscriptions(store, count)
    with store.transaction() as session:
        token = issue_key(
            session,
            kind=KeyKind.PARTNER,
            scopes=["subscriptions:read"],
            name="bench",
            partner_code=PARTNER,
            now=datetime.now(UTC),
        ).token
    return token, [subscription_id(index) for index in range(count)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(arguments: list[str], environment: dict[str, str], base: str, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(arguments, env=environment, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"{base}/v1/subscriptions/warmup", timeout=2)
            return process
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    sys.exit(f"server did not start: {log.read_text()[-2000:]}")


def load(wrk: str, base: str, script: Path, headers: list[str], seconds: int) -> float:
    arguments = [wrk, "-t2", "-c16", f"-d{seconds}s", "-s", str(script)]
    for header in headers:
        arguments += ["-H", header]
    output = subprocess.run([*arguments, base], check=True, capture_output=True, text=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        sys.exit(f"{non_2xx.group(1)} failed responses:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


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
        sample = random.Random(3).sample(ids, 1000)
        script = folder / "lookup.lua"
        script.write_text(LUA % ", ".join(f'"{subscription_id}"' for subscription_id in sample))
        (folder / "bare_app.py").write_text(BARE_APP)
        # The bare app runs with the settings `gateway serve` gives gunicorn.
        gunicorn = [sys.executable, "-m", "gunicorn", "--workers", str(options.workers), *GUNICORN_SETTINGS]

        # Both servers run; the load alternates between them (bare, gateway, bare, ...) so drift in the
        # machine's speed during the run falls on both alike. Each side's figure is its median round.
        bare_port, gateway_port = free_port(), free_port()
        bare_base, gateway_base = f"http://127.0.0.1:{bare_port}", f"http://127.0.0.1:{gateway_port}"
        environment = {
            **os.environ,
            "GATEWAY_DATABASE_URL": database,
            "GATEWAY_INSTANCE_PATH": str(folder),
            "GATEWAY_LOG_LEVEL": options.log_level,
            # Surge protection stays on the path, with a budget this load never spends: its cost is measured too.
            "GATEWAY_RATE_LIMITS": "partner=10000000/minute",
        }
        servers = [
            serve(
                [*gunicorn, "--bind", f"127.0.0.1:{bare_port}", "--chdir", str(folder), "bare_app:app"],
                dict(os.environ),
                bare_base,
                folder / "bare.log",
            ),
            serve(
                [
                    sys.executable,
                    "-m",
                    "gateway",
                    "serve",
                    "--bind",
                    f"127.0.0.1:{gateway_port}",
                    "--workers",
                    str(options.workers),
                ],
                environment,
                gateway_base,
                folder / "gateway.log",
            ),
        ]
        try:
            check = requests.get(
                f"{gateway_base}/v1/subscriptions/{sample[0]}", headers={"Authorization": f"Bearer {token}"}, timeout=5
            )
            assert check.status_code == 200, check.text
            bare_rounds, gateway_rounds = [], []
            for _ in range(options.rounds):
                bare_rounds.append(load(wrk, bare_base, script, [], options.seconds))
                gateway_rounds.append(
                    load(wrk, gateway_base, script, [f"Authorization: Bearer {token}"], options.seconds)
                )
        finally:
            for server in servers:
                server.terminate()
                server.wait()

    bare_rps, gateway_rps = statistics.median(bare_rounds), statistics.median(gateway_rounds)
    print(f"bare Flask:  {bare_rps:,.0f} req/s (rounds: {', '.join(f'{r:,.0f}' for r in bare_rounds)})")
    print(
        f"gateway:     {gateway_rps:,.0f} req/s (rounds: {', '.join(f'{r:,.0f}' for r in gateway_rounds)}; "
        f"{options.subscriptions:,} subscriptions, {options.workers} workers, log level {options.log_level})"
    )
    print(f"status_lookup: {gateway_rps / bare_rps:.2f} of bare Flask req/s (target >= 0.60)")


if __name__ == "__main__":
    main()
