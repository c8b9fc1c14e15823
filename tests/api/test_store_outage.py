"""While the store cannot be reached the API answers 503 store-unavailable with Retry-After, never a 500; a bug in
a statement stays a 500. Real failures: a PostgreSQL port nobody listens on, a proxy to PostgreSQL that cuts every
connection and refuses new ones while the app serves, an SQLite file whose write lock another process holds."""

from __future__ import annotations

import os
import socket
import sqlite3
import time

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from gateway import create_app
from gateway.domain.keys import KeyKind
from gateway.store import migrate
from gateway.store.db import Store, make_engine
from gateway.store.hot_reads import KEY_BY_PREFIX, RawConnection
from gateway.store.outages import is_store_outage
from tests.support.api import app_store, bearer
from tests.support.seeding import Seeder, add_subscription
from tests.support.store import POSTGRES_SKIP_REASON, POSTGRES_URL_VARIABLE
from tests.support.tcp_proxy import CuttableProxy

WELL_FORMED_TOKEN = "gw_0123456789ab_" + "0" * 48
PARTNER_BODY = {"code": "nordlink", "display_name": "Nordlink", "markets": ["DE"], "default_locale": "de"}


def assert_store_unavailable(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "/problems/store-unavailable" and response.json["status"] == 503
    assert response.headers["Retry-After"] == "5"
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(POSTGRES_SKIP_REASON)
    return url


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_postgres_nobody_listens_on_is_a_503_with_retry_after(tmp_path, postgres_url):
    unreachable = make_url(postgres_url).set(host="127.0.0.1", port=_closed_port()).render_as_string(False)
    app = create_app({"INSTANCE_PATH": str(tmp_path), "LOG_LEVEL": "CRITICAL", "DATABASE_URL": unreachable})
    client = app.test_client()
    headers = bearer(WELL_FORMED_TOKEN)
    assert_store_unavailable(client.get("/admin/v1/partners", headers=headers))
    assert_store_unavailable(client.get("/v1/subscriptions/sub_1", headers=headers))
    assert_store_unavailable(
        client.post("/admin/v1/partners", json=PARTNER_BODY, headers={**headers, "Idempotency-Key": "k-1"})
    )
    assert client.get("/healthz").status_code == 200  # alive: the process answers
    assert client.get("/readyz").json["type"] == "/problems/not-ready"
    app_store(app).dispose()


def test_a_postgres_cut_while_serving_is_a_503_until_it_is_back(tmp_path, postgres_database, migrated, postgres_url):
    migrated(postgres_database)
    seeding = Store(make_engine(postgres_database.url, postgres_database.schema))
    seed = Seeder(seeding)
    seed.partner("southtel")
    operator = bearer(seed.token(KeyKind.OPERATOR))
    partner = bearer(seed.token(KeyKind.PARTNER, "southtel"))
    with seeding.transaction() as session:
        subscription = add_subscription(session, "southtel", "cust-1").id
    seeding.dispose()

    with CuttableProxy(make_url(postgres_url).host or "127.0.0.1", make_url(postgres_url).port or 5432) as proxy:
        settings = {"DATABASE_URL": proxy.url(postgres_url), "DATABASE_SCHEMA": postgres_database.schema}
        app = create_app({"INSTANCE_PATH": str(tmp_path), "LOG_LEVEL": "CRITICAL", **settings})
        client = app.test_client()
        create = {**operator, "Idempotency-Key": "create-nordlink"}
        try:
            assert client.get("/admin/v1/partners", headers=operator).status_code == 200
            assert client.get(f"/v1/subscriptions/{subscription}", headers=partner).status_code == 200

            proxy.cut()  # pooled connections die, new ones are refused
            assert_store_unavailable(client.get("/admin/v1/partners", headers=operator))
            assert_store_unavailable(client.get(f"/v1/subscriptions/{subscription}", headers=partner))
            assert_store_unavailable(client.post("/admin/v1/partners", json=PARTNER_BODY, headers=create))
            assert_store_unavailable(client.post(f"/v1/subscriptions/{subscription}/suspend", json={}, headers=partner))

            proxy.restore()
            assert client.get(f"/v1/subscriptions/{subscription}", headers=partner).json["status"] == "active"
            created = client.post("/admin/v1/partners", json=PARTNER_BODY, headers=create)
            assert created.status_code == 201, created.json  # the refused attempt left the key unused
            assert client.post("/admin/v1/partners", json=PARTNER_BODY, headers=create).status_code == 201
        finally:
            app_store(app).dispose()


def test_a_hot_read_on_a_connection_the_server_dropped_is_a_store_outage(postgres_database, migrated, postgres_url):
    """The status lookup and authentication read through the driver's own cursor: a connection lost under them
    is reported as SQLAlchemy reports it, so it is told from a bug like any other outage."""
    migrated(postgres_database)
    with CuttableProxy(make_url(postgres_url).host or "127.0.0.1", make_url(postgres_url).port or 5432) as proxy:
        engine = make_engine(proxy.url(postgres_url), postgres_database.schema)
        try:
            connection = RawConnection.checkout(engine)
            assert KEY_BY_PREFIX.first(connection, "gw_0123456789ab") is None
            proxy.cut()
            with pytest.raises(OperationalError) as raised:
                KEY_BY_PREFIX.first(connection, "gw_0123456789ab")
            assert is_store_outage(raised.value) and "gw_0123456789ab" not in str(raised.value)
            connection.release()
        finally:
            engine.dispose()


def test_an_sqlite_write_lock_held_past_the_busy_timeout_is_a_503(app, client, seed, sqlite_database):
    operator = bearer(seed.token(KeyKind.OPERATOR))
    holder = sqlite3.connect(make_url(sqlite_database.url).database, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process writing for longer than the 5 s busy timeout
        started = time.monotonic()
        assert_store_unavailable(client.post("/admin/v1/partners", json=PARTNER_BODY, headers=operator))
        assert time.monotonic() - started >= 4.5  # it waited for the lock first
        assert client.get("/admin/v1/partners", headers=operator).status_code == 200  # reads go on (WAL)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert client.post("/admin/v1/partners", json=PARTNER_BODY, headers=operator).status_code == 201


def test_a_statement_the_store_refuses_is_still_a_500(tmp_path):
    """An unmigrated SQLite store has no tables: the gateway's fault, not an outage to wait out."""
    app = create_app(
        {"INSTANCE_PATH": str(tmp_path), "LOG_LEVEL": "CRITICAL", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    )
    response = app.test_client().get("/admin/v1/partners", headers=bearer(WELL_FORMED_TOKEN))
    assert response.status_code == 500 and response.json["type"] == "/problems/internal-error"
    assert "Retry-After" not in response.headers
    app_store(app).dispose()
    assert migrate.current_revision(make_engine(f"sqlite:///{tmp_path / 'x.db'}")) is None
