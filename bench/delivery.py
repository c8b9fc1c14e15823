"""Benchmark: delivering 20,000 events to a fast local receiver (nginx answering 204), in one run.

- delivery_single: one event per request (the dispatcher keeps up to 4 in flight to the endpoint), against
  a bare requests.Session loop posting the same bodies to the same receiver one after the other;
- delivery_batch: a `batch` partner (100 events per request) against single mode, in events/s;
- delivery_scaleout: two dispatcher processes against one, on PostgreSQL (GATEWAY_TEST_POSTGRES_URL or
  --postgres; skipped with a note when neither is given), both sending to one endpoint; timed from the first
  event's insert to the last delivery, the processes already started. The ratio is bounded by the machine:
  a second process only helps with a core to run on.

nginx comes from Debian and is installed (as root) if missing.

    python bench/delivery.py [--events 20000] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

Last line: `delivery_scaleout: <ratio>x one dispatcher (target >= 1.6)`.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from seeding import seed_partner_with_events
from sqlalchemy import create_engine, func, select, text

from gateway.config import load_settings
from gateway.delivery.dispatcher import Dispatcher, DispatchSettings
from gateway.store import migrate
from gateway.store.db import Store, make_engine
from gateway.store.models import Delivery, WebhookEndpoint

NGINX_CONF = """
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    keepalive_requests 1000000;
    client_max_body_size 64m;
    client_body_buffer_size 1m;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 204; }}
    }}
}}
"""


def ensure_nginx() -> str:
    found = shutil.which("nginx") or (Path("/usr/sbin/nginx").exists() and "/usr/sbin/nginx")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("nginx is missing and installing it needs root: apt-get install nginx-light")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-qq", "nginx-light"], check=True, env=environment)
    return shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_nginx(nginx: str, folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    (folder / "nginx.conf").write_text(NGINX_CONF.format(folder=folder, port=port))
    process = subprocess.Popen([nginx, "-p", str(folder), "-c", str(folder / "nginx.conf")])
    url = f"http://127.0.0.1:{port}/hooks"
    for _ in range(100):
        try:
            requests.post(url, data=b"{}", timeout=1)
            return process, url
        except requests.RequestException:
            time.sleep(0.05)
    sys.exit("nginx did not start")


def settings() -> DispatchSettings:
    return DispatchSettings.from_settings({**load_settings({}), "ALLOW_PRIVATE_ENDPOINTS": True})


def delivered(store: Store, partner: str) -> int:
    with store.read() as session:
        return session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.partner_code == partner, Delivery.status == "delivered")
        )


def all_delivered(store: Store, partner: str, count: int) -> bool:
    """Whether `count` deliveries to the partner are delivered: counted only once none is pending (while one
    is, a look-up in the index of pending deliveries says so), so that watching takes little of the machine
    from the dispatchers measured."""
    with store.read() as session:
        pending = session.scalar(
            select(Delivery.id)
            .join(WebhookEndpoint, WebhookEndpoint.id == Delivery.endpoint_id)
            .where(WebhookEndpoint.partner_code == partner, Delivery.status == "pending")
            .limit(1)
        )
    return pending is None and delivered(store, partner) >= count


def timed_dispatch(store: Store, partner: str, count: int) -> float:
    started = time.perf_counter()
    Dispatcher(store, settings()).run(threading.Event(), until_idle=True)
    elapsed = time.perf_counter() - started
    assert delivered(store, partner) == count, f"{delivered(store, partner)} of {count} delivered"
    return elapsed


def bare_loop(url: str, bodies: list[str]) -> float:
    """Seconds for a bare requests.Session loop to post `bodies` one after the other."""
    session = requests.Session()
    session.trust_env = False  # no per-request look at proxy variables and .netrc
    started = time.perf_counter()
    for body in bodies:
        response = session.post(url, data=body.encode(), headers={"Content-Type": "application/json"}, timeout=15)
        response.raise_for_status()
    return time.perf_counter() - started


def single_against_bare_loop(store: Store, url: str, count: int) -> tuple[float, float]:
    """Seconds for the dispatcher to deliver `count` events one per request, and for a bare requests.Session
    loop to post the same bodies to the same receiver, in the order dispatcher, loop, loop, dispatcher (each
    half of the events once), so that a drift in the machine's speed falls on both alike."""
    half = count // 2
    first = seed_partner_with_events(store, "bench-single-1", "standard", url, half)
    dispatching = timed_dispatch(store, "bench-single-1", half)
    looping = bare_loop(url, first)
    second = seed_partner_with_events(store, "bench-single-2", "standard", url, count - half)
    looping += bare_loop(url, second)
    dispatching += timed_dispatch(store, "bench-single-2", count - half)
    return dispatching, looping


def start_dispatchers(processes: int, environment: dict) -> list[subprocess.Popen]:
    """`processes` dispatcher processes, returned once each says it runs: their start (a second or so of
    imports) is not part of what is timed."""
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "gateway", "dispatch"], env=environment, stderr=subprocess.PIPE, text=True
        )
        for _ in range(processes)
    ]
    for worker in workers:
        line = worker.stderr.readline()
        assert "running" in line, f"the dispatcher did not start: {line}{worker.stderr.read()}"
        threading.Thread(target=shutil.copyfileobj, args=(worker.stderr, sys.stderr), daemon=True).start()
    return workers


def scaleout(postgres_url: str, url: str, count: int) -> tuple[float, float]:
    """Seconds to deliver `count` events with one dispatcher process, then with two (fresh events each), timed
    from the first event's insert to the last delivery, with the dispatchers already running."""
    schema = f"bench_{secrets.token_hex(4)}"
    admin = create_engine(postgres_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        store = Store(make_engine(postgres_url, schema))
        migrate.upgrade(store.engine)
        environment = {
            **os.environ,
            "GATEWAY_DATABASE_URL": postgres_url,
            "GATEWAY_DATABASE_SCHEMA": schema,
            "GATEWAY_ALLOW_PRIVATE_ENDPOINTS": "true",
            "GATEWAY_LOG_LEVEL": "WARNING",
        }
        timings = []
        for processes, partner in ((1, "scale-one"), (2, "scale-two")):
            workers = start_dispatchers(processes, environment)
            started = time.perf_counter()
            seed_partner_with_events(store, partner, "standard", url, count)
            while not all_delivered(store, partner, count):
                time.sleep(0.05)
            timings.append(time.perf_counter() - started)
            for worker in workers:
                worker.terminate()
                worker.wait()
        store.dispose()
        return timings[0], timings[1]
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--postgres", default=os.environ.get("GATEWAY_TEST_POSTGRES_URL"))
    options = parser.parse_args()
    nginx = ensure_nginx()

    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        receiver, url = start_nginx(nginx, folder)
        try:
            store = Store(make_engine(f"sqlite:///{folder / 'bench.sqlite3'}"))
            migrate.upgrade(store.engine)
            single, bare = single_against_bare_loop(store, url, options.events)
            seed_partner_with_events(store, "bench-batch", "batch", url, options.events)
            batch = timed_dispatch(store, "bench-batch", options.events)
            store.dispose()
            scale = scaleout(options.postgres, url, options.events) if options.postgres else None
        finally:
            receiver.terminate()
            receiver.wait()

    count = options.events
    print(f"bare loop:   {count / bare:,.0f} events/s ({count:,} bodies, one requests.Session, interleaved)")
    print(f"single:      {count / single:,.0f} events/s (SQLite store, one dispatcher)")
    print(f"batch:       {count / batch:,.0f} events/s (100 events per request)")
    print(f"delivery_single: {bare / single:.2f} of a bare requests.Session loop (target >= 0.70)")
    print(f"delivery_batch: {single / batch:.1f}x single-mode events/s (target >= 10)")
    if scale is None:
        print("delivery_scaleout: not measured: set GATEWAY_TEST_POSTGRES_URL or --postgres (target >= 1.6)")
    else:
        one, two = scale
        print(f"one / two dispatchers: {count / one:,.0f} / {count / two:,.0f} events/s (PostgreSQL)")
        print(f"delivery_scaleout: {one / two:.2f}x one dispatcher (target >= 1.6)")


if __name__ == "__main__":
    main()
