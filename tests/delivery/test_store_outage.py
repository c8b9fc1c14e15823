"""A PostgreSQL outage while the API takes commands and a dispatcher delivers: a proxy between both and the
server cuts every connection and refuses new ones for a few seconds. Nothing committed is lost, the API answers
503 (never another 5xx), and the dispatcher waits the outage out and carries on."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from gateway import create_app
from gateway.delivery.dispatcher import Dispatcher
from gateway.domain.keys import KeyKind
from gateway.store.db import Store, make_engine
from gateway.store.models import Delivery, OutboxEvent
from tests.support.api import app_store, bearer
from tests.support.delivery import settings
from tests.support.receivers import Receiver
from tests.support.seeding import Seeder
from tests.support.tcp_proxy import CuttableProxy

OUTAGE_SECONDS = 3
NEW = {"plan": "standard", "market": "DE", "billing_anchor": "2026-01-15"}


def _count(store: Store, query) -> int:
    with store.read() as session:
        return session.scalar(query)


def test_the_api_and_a_dispatcher_ride_out_a_postgres_outage(tmp_path, postgres_database, migrated):
    migrated(postgres_database)
    direct = Store(make_engine(postgres_database.url, postgres_database.schema))
    seed = Seeder(direct)
    seed.partner("nordlink")
    partner = bearer(seed.token(KeyKind.PARTNER, "nordlink"))
    url = make_url(postgres_database.url)
    with Receiver() as receiver, CuttableProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        seed.endpoint_with_secret("nordlink", receiver.url)
        proxied = proxy.url(postgres_database.url)
        app = create_app(
            {
                "INSTANCE_PATH": str(tmp_path),
                "LOG_LEVEL": "CRITICAL",
                "DATABASE_URL": proxied,
                "DATABASE_SCHEMA": postgres_database.schema,
            }
        )
        client = app.test_client()
        dispatcher_store = Store(make_engine(proxied, postgres_database.schema))
        dispatcher = Dispatcher(dispatcher_store, settings(idle_wait=0.05), name="survivor")
        stop = threading.Event()
        worker = threading.Thread(target=dispatcher.run, args=(stop,))
        worker.start()
        statuses: list[int] = []
        try:
            for index in range(60):
                if index == 20:
                    proxy.cut()
                    cut_at = time.monotonic()
                if index >= 20 and not proxy.up and time.monotonic() - cut_at >= OUTAGE_SECONDS:
                    proxy.restore()
                body = {
                    "partner_ref": f"cust-{index}",
                    "plan": "standard",
                    "market": "DE",
                    "billing_anchor": "2026-01-15",
                }
                headers = {**partner, "Idempotency-Key": f"create-{index}"}
                response = client.post("/v1/subscriptions", json=body, headers=headers)
                statuses.append(response.status_code)
                assert response.status_code in (201, 503), response.get_data(as_text=True)
                if response.status_code == 503:
                    assert response.headers["Retry-After"]
                    time.sleep(0.1)
            proxy.restore()
            committed = _count(direct, select(func.count()).select_from(OutboxEvent))
            deadline = time.monotonic() + 60
            while (
                _count(direct, select(func.count()).select_from(Delivery).where(Delivery.status == "delivered"))
                < committed
            ):
                assert worker.is_alive(), "the dispatcher died of the outage"
                assert time.monotonic() < deadline, "the dispatcher did not carry on after the outage"
                time.sleep(0.1)
            assert worker.is_alive()
        finally:
            stop.set()
            worker.join(timeout=20)
            app_store(app).dispose()
            dispatcher_store.dispose()
    assert statuses[:20] == [201] * 20 and 503 in statuses, statuses
    assert 201 in statuses[statuses.index(503) :], "the API recovered"
    with direct.read() as session:
        committed_ids = set(session.scalars(select(OutboxEvent.event_id)))
    direct.dispose()
    assert {event.headers["webhook-id"] for event in receiver.events()} == committed_ids, (
        "every committed event arrived"
    )
