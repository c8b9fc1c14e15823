"""Benchmark: delivering to partners that take their time, and to hostile ones, with one dispatcher.

- delivery_latency: 20 partner endpoints on loopback, each answering 204 after 100 ms (an asyncio receiver in
  a process of its own, which holds thousands of connections), 20,000 events over 2,000 subscribers, one
  dispatcher process (`gateway dispatch`, default settings), 4 requests in flight per endpoint. The bound is
  endpoints x concurrency / latency = 800 events/s; the figure is the share of it reached.
- delivery_isolation: the 18 healthy partners' p99 delivery lag (from the events' commit to the 2xx) when
  one partner drips its answer a byte a second and one never answers, over the same figure with all 20
  healthy (the first run).

    python bench/delivery_latency.py [--events 20000] [--latency 0.1]

Last lines: `delivery_latency: <events/s> = <ratio> of the bound (target >= 0.80)` and
`delivery_isolation: <ratio> (target <= 1.5)`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from seeding import seed_partner_with_events
from sqlalchemy import func, select

from gateway.store import migrate
from gateway.store.db import Store, make_engine
from gateway.store.models import Delivery, OutboxEvent

ENDPOINTS = 20
SUBSCRIBERS = 2000
CONCURRENCY = 4


# --- the receiver (a process of its own) -----------------------------------------------------------------


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, behaviour: str, latency: float) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            if behaviour == "never":
                await asyncio.Event().wait()
            if behaviour == "drip":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                while True:
                    await writer.drain()
                    await asyncio.sleep(1)
                    writer.write(b".")
            await asyncio.sleep(latency)
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


def run_receiver(ports: multiprocessing.Queue, behaviours: list[str], latency: float) -> None:
    async def main() -> None:
        servers = []
        for behaviour in behaviours:
            server = await asyncio.start_server(
                lambda r, w, b=behaviour: _serve(r, w, b, latency), "127.0.0.1", 0, backlog=1024
            )
            servers.append(server)
        ports.put([server.sockets[0].getsockname()[1] for server in servers])
        await asyncio.Event().wait()

    asyncio.run(main())


# --- the run ---------------------------------------------------------------------------------------------


def delivered_count(store: Store, partners: list[str]) -> int:
    with store.read() as session:
        return session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.partner_code.in_(partners), Delivery.status == "delivered")
        )


def lags(store: Store, partners: list[str]) -> list[float]:
    """Seconds from each event's commit to its delivery, for these partners' delivered events."""
    with store.read() as session:
        rows = session.execute(
            select(OutboxEvent.created_at, Delivery.finished_at)
            .join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
            .where(Delivery.partner_code.in_(partners), Delivery.status == "delivered")
        ).all()
    return sorted((finished - created).total_seconds() for created, finished in rows)


def p99(values: list[float]) -> float:
    return values[min(len(values) - 1, int(len(values) * 0.99))]


def one_run(folder: Path, behaviours: list[str], events: int, latency: float) -> tuple[float, list[float]]:
    """Seconds until every healthy partner's events are delivered, and the healthy partners' lags."""
    ports: multiprocessing.Queue = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=run_receiver, args=(ports, behaviours, latency), daemon=True)
    receiver.start()
    try:
        store = Store(make_engine(f"sqlite:///{folder / f'latency-{time.monotonic_ns()}.sqlite3'}"))
        migrate.upgrade(store.engine)
        partners, healthy = [], []
        per_partner, subscribers = events // ENDPOINTS, SUBSCRIBERS // ENDPOINTS
        for index, (port, behaviour) in enumerate(zip(ports.get(timeout=30), behaviours, strict=True)):
            code = f"lat-{behaviour}-{index:02d}"
            url = f"http://127.0.0.1:{port}/hooks"
            seed_partner_with_events(store, code, "standard", url, per_partner, subscribers)
            partners.append(code)
            if behaviour == "ok":
                healthy.append(code)
        expected = per_partner * len(healthy)
        environment = {
            **os.environ,
            "GATEWAY_DATABASE_URL": str(store.engine.url),
            "GATEWAY_ALLOW_PRIVATE_ENDPOINTS": "true",
            "GATEWAY_DELIVERY_ENDPOINT_CONCURRENCY": str(CONCURRENCY),
            "GATEWAY_LOG_LEVEL": "WARNING",
        }
        started = time.perf_counter()
        dispatcher = subprocess.Popen([sys.executable, "-m", "gateway", "dispatch"], env=environment)
        try:
            while delivered_count(store, healthy) < expected:
                time.sleep(0.2)
            elapsed = time.perf_counter() - started
        finally:
            dispatcher.terminate()
            dispatcher.wait()
        found = lags(store, healthy)
        store.dispose()
        return elapsed, found
    finally:
        receiver.terminate()
        receiver.join()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds each healthy endpoint takes to answer")
    options = parser.parse_args()
    bound = ENDPOINTS * CONCURRENCY / options.latency

    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        print(f"all {ENDPOINTS} healthy ...", file=sys.stderr, flush=True)
        healthy_seconds, healthy_lags = one_run(folder, ["ok"] * ENDPOINTS, options.events, options.latency)
        print("18 healthy, one dripping, one never answering ...", file=sys.stderr, flush=True)
        hostile = ["drip", "never"] + ["ok"] * (ENDPOINTS - 2)
        hostile_seconds, hostile_lags = one_run(folder, hostile, options.events, options.latency)

    rate = options.events / healthy_seconds
    print(
        json.dumps(
            {
                "healthy": {"seconds": round(healthy_seconds, 2), "p50_lag": healthy_lags[len(healthy_lags) // 2]},
                "hostile": {"seconds": round(hostile_seconds, 2), "p50_lag": hostile_lags[len(hostile_lags) // 2]},
            }
        )
    )
    print(f"p99 lag, all healthy: {p99(healthy_lags):.2f} s; 18 healthy beside two hostile: {p99(hostile_lags):.2f} s")
    print(f"delivery_latency: {rate:,.0f} events/s = {rate / bound:.2f} of the bound (target >= 0.80)")
    print(f"delivery_isolation: {p99(hostile_lags) / p99(healthy_lags):.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
