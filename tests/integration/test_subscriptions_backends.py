"""The subscription flow over HTTP on each backend: the hot read paths use Core rows and raw SQL."""

from __future__ import annotations

import threading

from gateway.domain.keys import KeyKind
from gateway.store.db import HOT_READS_MMAP_BYTES, Store, make_engine
from gateway.store.models import Subscription
from tests.support.api import app_store, bearer
from tests.support.seeding import Seeder


def test_create_activate_read_list_and_history(backend_app):
    seed = Seeder(app_store(backend_app))
    seed.partner("nordlink", markets=["DE"])
    partner = bearer(seed.token(KeyKind.PARTNER, "nordlink"))
    service = bearer(seed.token(KeyKind.SERVICE))
    client = backend_app.test_client()
    body = {"partner_ref": "cust-1", "plan": "standard", "market": "DE", "billing_anchor": "2026-01-31"}
    created = client.post("/v1/subscriptions", json=body, headers=partner).json
    code = created["activation"]["code"]
    client.post("/v1/service/activations", json={"code": code, "member_id": "m-1"}, headers=service)

    read = client.get(f"/v1/subscriptions/{created['id']}", headers=partner)
    assert read.status_code == 200 and read.json["status"] == "active"
    assert read.json["created_at"] == created["created_at"] and read.headers["ETag"] == '"v2"'
    listed = client.get("/v1/subscriptions?status=active", headers=partner).json["items"]
    assert [item["id"] for item in listed] == [created["id"]]
    history = client.get(f"/v1/subscriptions/{created['id']}/history", headers=partner).json["items"]
    assert [entry["to_status"] for entry in history] == ["pending_activation", "active"]
    assert client.get(f"/v1/subscriptions/{created['id']}", headers=service).status_code == 403


def test_the_hot_read_connection_sees_each_committed_change(backend_app):
    """On SQLite a thread keeps its hot-read connection between requests; it must not keep a stale view."""
    store = app_store(backend_app)
    seed = Seeder(store)
    seed.partner("nordlink", markets=["DE"])
    partner = bearer(seed.token(KeyKind.PARTNER, "nordlink"))
    client = backend_app.test_client()
    body = {"partner_ref": "cust-1", "plan": "standard", "market": "DE", "billing_anchor": "2026-01-31"}
    created = client.post("/v1/subscriptions", json=body, headers=partner).json
    before = client.get(f"/v1/subscriptions/{created['id']}", headers=partner)
    assert before.json["status"] == "pending_activation" and before.headers["ETag"] == '"v1"'

    with store.transaction() as session:  # a change made outside any request, as the scheduler makes them
        subscription = session.get(Subscription, created["id"])
        subscription.status, subscription.version = "cancelled", subscription.version + 1

    after = client.get(f"/v1/subscriptions/{created['id']}", headers=partner)
    assert after.json["status"] == "cancelled" and after.headers["ETag"] == '"v2"'


def test_sqlite_keeps_one_hot_read_connection_per_thread(sqlite_database):
    store = Store(make_engine(sqlite_database.url))
    try:
        first, again = store.rows_connection(), store.rows_connection()
        assert first is again and not first.pooled
        elsewhere = []
        thread = threading.Thread(target=lambda: elsewhere.append(store.rows_connection()))
        thread.start()
        thread.join()
        assert elsewhere[0] is not first
    finally:
        store.dispose()


def test_sqlite_hot_reads_map_the_file_and_other_connections_do_not(sqlite_database):
    """The hot reads' kept connection reads pages through a memory map; pooled ones (a reconciliation
    scanning a million subscriptions) keep SQLite's default, so their memory stays what they use."""
    store = Store(make_engine(sqlite_database.url))
    try:
        cursor = store.rows_connection().dbapi.cursor()
        assert cursor.execute("PRAGMA mmap_size").fetchone()[0] == HOT_READS_MMAP_BYTES
        with store.engine.connect() as pooled:
            assert pooled.exec_driver_sql("PRAGMA mmap_size").scalar() != HOT_READS_MMAP_BYTES
    finally:
        store.dispose()


def test_a_server_database_lends_hot_read_connections_from_its_pool(postgres_database):
    store = Store(make_engine(postgres_database.url, postgres_database.schema))
    try:
        connection = store.rows_connection()
        assert connection.pooled
        assert store.engine.pool.checkedout() == 1
        connection.release()
        assert store.engine.pool.checkedout() == 0
    finally:
        store.dispose()
