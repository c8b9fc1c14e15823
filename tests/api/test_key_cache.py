"""Kept principals (gateway.services.key_cache): a worker reads a key again only when it may have changed.

Every change to a key or a partner made through the gateway, in this process or in another one sharing the
SQLite file, still applies from the next request on.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import timedelta

import pytest

from gateway import create_app
from gateway.domain.clock import utcnow
from gateway.domain.keys import KeyKind
from gateway.domain.partners import PartnerStatus
from gateway.services import keys as key_service
from gateway.services import partners as partner_service
from gateway.services.key_cache import PrincipalCache
from gateway.store.db import Store, make_engine
from gateway.store.key_changes import MARKER_SUFFIX, KeyChangeMarker
from tests.support.api import app_store, bearer
from tests.support.seeding import Seeder

PARTNER_ROUTE = "/v1/webhook-endpoints"


class CountingReads:
    """Stands in for the key query and counts how often authentication reads the store."""

    def __init__(self, query) -> None:
        self.query, self.reads = query, 0

    def first(self, *arguments):
        self.reads += 1
        return self.query.first(*arguments)


@pytest.fixture
def key_reads(monkeypatch) -> CountingReads:
    counting = CountingReads(key_service.KEY_BY_PREFIX)
    monkeypatch.setattr(key_service, "KEY_BY_PREFIX", counting)
    return counting


@pytest.fixture
def partner_token(app) -> key_service.IssuedKey:
    return partner_key(app_store(app))


def partner_key(store: Store) -> key_service.IssuedKey:
    seeder = Seeder(store)
    seeder.partner("nordlink")
    return seeder.key(KeyKind.PARTNER, "nordlink")


def other_store(app) -> Store:
    """A second store on the gateway's SQLite file, as another process (the CLI, another worker) has."""
    return Store(make_engine(app.config["GATEWAY"]["DATABASE_URL"]))


def test_a_known_key_is_read_once_while_nothing_changes(client, partner_token, key_reads):
    for _ in range(3):
        assert client.get(PARTNER_ROUTE, headers=bearer(partner_token.token)).status_code == 200
    assert key_reads.reads == 1


def test_a_key_revoked_by_another_process_is_refused_at_the_next_request(app, client, partner_token):
    assert client.get(PARTNER_ROUTE, headers=bearer(partner_token.token)).status_code == 200
    environment = {**os.environ, "GATEWAY_DATABASE_URL": app.config["GATEWAY"]["DATABASE_URL"]}
    subprocess.run(
        [sys.executable, "-m", "gateway", "key", "revoke", partner_token.key.id],
        env=environment,
        check=True,
        capture_output=True,
    )
    refused = client.get(PARTNER_ROUTE, headers=bearer(partner_token.token))
    assert refused.status_code == 401 and "revoked" in refused.json["detail"]


def test_suspending_and_resuming_the_partner_elsewhere_applies_at_the_next_request(app, client, partner_token):
    elsewhere = other_store(app)
    assert client.get(PARTNER_ROUTE, headers=bearer(partner_token.token)).status_code == 200
    with elsewhere.transaction() as session:
        partner_service.set_partner_status(session, "nordlink", PartnerStatus.SUSPENDED, now=utcnow())
    assert client.get(PARTNER_ROUTE, headers=bearer(partner_token.token)).status_code == 403
    with elsewhere.transaction() as session:
        partner_service.set_partner_status(session, "nordlink", PartnerStatus.ACTIVE, now=utcnow())
    assert client.get(PARTNER_ROUTE, headers=bearer(partner_token.token)).status_code == 200
    elsewhere.dispose()


def test_a_changed_request_budget_applies_at_the_next_request(app, client, partner_token):
    first = client.get(PARTNER_ROUTE, headers=bearer(partner_token.token))
    assert first.headers["X-RateLimit-Limit"] == "200"
    elsewhere = other_store(app)
    with elsewhere.transaction() as session:
        partner_service.update_partner(
            session, "nordlink", expected_version=None, now=utcnow(), rate_limits={"partner": "7/second"}
        )
    elsewhere.dispose()
    assert client.get(PARTNER_ROUTE, headers=bearer(partner_token.token)).headers["X-RateLimit-Limit"] == "7"


def test_a_rotated_key_stops_when_its_overlap_ends_though_nothing_was_written(client, seed, partner_token, monkeypatch):
    with app_store(client.application).transaction() as session:
        key_service.rotate_key(session, partner_token.key.id, overlap=timedelta(hours=1), now=utcnow())
    assert client.get(PARTNER_ROUTE, headers=bearer(partner_token.token)).status_code == 200
    later = utcnow() + timedelta(hours=1, seconds=1)
    monkeypatch.setattr("gateway.api.http.auth.utcnow", lambda: later)
    refused = client.get(PARTNER_ROUTE, headers=bearer(partner_token.token))
    assert refused.status_code == 401 and "expired" in refused.json["detail"]


def test_a_refused_token_is_looked_up_every_time(client, partner_token, key_reads):
    unknown = partner_token.key.prefix + "_" + "0" * 48
    for _ in range(2):
        assert client.get(PARTNER_ROUTE, headers=bearer(unknown)).status_code == 401
    assert key_reads.reads == 2
    malformed = client.get(PARTNER_ROUTE, headers=bearer("gw_not-a-key"))
    assert malformed.status_code == 401 and "well-formed" in malformed.json["detail"]


def assert_every_request_reads_the_key(app, key_reads: CountingReads) -> None:
    store = app_store(app)
    token = partner_key(store).token
    client = app.test_client()
    for _ in range(2):
        assert client.get(PARTNER_ROUTE, headers=bearer(token)).status_code == 200
    assert key_reads.reads == 2
    store.dispose()


def test_with_the_setting_at_zero_every_request_reads_the_key(tmp_path, sqlite_database, migrated, key_reads):
    migrated(sqlite_database)
    app = create_app({"INSTANCE_PATH": str(tmp_path), "KEY_CACHE_SECONDS": 0, **sqlite_database.settings()})
    assert_every_request_reads_the_key(app, key_reads)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_kept_principal_is_read_again_once_older_than_the_setting(app, key_reads):
    store = app_store(app)
    token = partner_key(store).token
    clock = FakeClock()
    cache = PrincipalCache(store.key_changes, seconds=30, clock=clock)
    rows = store.rows_connection()
    cache.authenticate(rows, token, now=utcnow())
    clock.now += 29
    assert cache.authenticate(rows, token, now=utcnow()).partner_code == "nordlink"
    assert key_reads.reads == 1
    clock.now += 2
    cache.authenticate(rows, token, now=utcnow())
    assert key_reads.reads == 2
    rows.release()


def test_on_postgresql_every_request_reads_the_key(postgres_database, migrated, tmp_path, key_reads):
    migrated(postgres_database)
    app = create_app({"INSTANCE_PATH": str(tmp_path), "LOG_LEVEL": "WARNING", **postgres_database.settings()})
    assert app_store(app).key_changes is None
    assert_every_request_reads_the_key(app, key_reads)


def marker_of(app) -> KeyChangeMarker:
    """The marker as another process opens it: beside the database the URL names."""
    return KeyChangeMarker.beside(app.config["GATEWAY"]["DATABASE_URL"])


def test_the_marker_changes_after_a_commit_that_changed_what_authentication_reads(app, partner_token):
    store, marker = app_store(app), marker_of(app)
    before = marker.read()
    with store.transaction() as session:  # a new key: nobody can have kept it
        key_service.issue_key(
            session, kind=KeyKind.PARTNER, scopes=["events:read"], name="t", partner_code="nordlink", now=utcnow()
        )
    with store.transaction() as session:  # the dispatcher's pacing and the name: authentication reads neither
        partner = partner_service.get_partner(session, "nordlink")
        partner.next_send_at, partner.display_name = utcnow(), "Nordlink AB"
    assert marker.read() == before
    with store.transaction() as session:
        partner_service.set_partner_status(session, "nordlink", PartnerStatus.SUSPENDED, now=utcnow())
    assert marker.read() != before


def test_a_savepoint_is_not_a_commit(app, partner_token):
    store, marker = app_store(app), marker_of(app)
    before = marker.read()
    with store.transaction() as session:
        with session.begin_nested():  # released: the revocation is not visible to anyone yet
            key_service.revoke_key(session, partner_token.key.id, now=utcnow())
            session.flush()
        assert marker.read() == before
        with pytest.raises(RuntimeError), session.begin_nested():  # a savepoint rolled back after it
            raise RuntimeError("abandon the savepoint only")
    assert marker.read() != before  # the outer commit announces the revocation


def test_a_rolled_back_change_leaves_the_marker(app, partner_token):
    store, marker = app_store(app), marker_of(app)
    before = marker.read()
    with pytest.raises(RuntimeError), store.transaction() as session:
        key_service.revoke_key(session, partner_token.key.id, now=utcnow())
        session.flush()
        raise RuntimeError("abandon")
    assert marker.read() == before


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_a_marker_that_cannot_be_rewritten_does_not_fail_the_committed_change(app, partner_token):
    store, collected = app_store(app), Collected()
    logging.getLogger("gateway.store").addHandler(collected)

    def broken() -> None:
        raise OSError(28, "No space left on device")

    store.key_changes.bump = broken
    try:
        with store.transaction() as session:
            key_service.revoke_key(session, partner_token.key.id, now=utcnow())
    finally:
        logging.getLogger("gateway.store").removeHandler(collected)
    assert any("could not rewrite the key-change marker" in message for message in collected.messages)
    with store.read() as session:
        assert key_service.get_key(session, partner_token.key.id).revoked_at is not None


def test_without_a_usable_marker_file_every_request_reads_the_key(tmp_path, sqlite_database, migrated, key_reads):
    migrated(sqlite_database)
    database_file = sqlite_database.url.removeprefix("sqlite:///")
    os.mkdir(database_file + MARKER_SUFFIX)  # a directory where the marker belongs: it cannot be opened
    app = create_app({"INSTANCE_PATH": str(tmp_path), **sqlite_database.settings()})
    assert app_store(app).key_changes is None
    assert_every_request_reads_the_key(app, key_reads)
