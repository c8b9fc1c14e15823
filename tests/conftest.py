"""Shared fixtures: real stores (SQLite files, PostgreSQL schemas) and apps built on them."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gateway import create_app
from gateway.store import migrate
from gateway.store.db import Store, make_engine
from tests.support.api import app_store
from tests.support.event_validation import validators
from tests.support.seeding import Seeder
from tests.support.store import POSTGRES_SKIP_REASON, POSTGRES_URL_VARIABLE, Database, check_emitted_events


@pytest.fixture(scope="session", autouse=True)
def event_validators() -> None:
    """Compile the catalog's validators at the start: building the document creates an app, which configures
    logging and notice settings, something no test should see happen in the middle of it."""
    validators()


@pytest.fixture
def sqlite_database(tmp_path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'gateway.sqlite3'}")
    yield database
    check_emitted_events(database)


@pytest.fixture
def postgres_database() -> Iterator[Database]:
    """A fresh schema in the test PostgreSQL database, dropped afterwards."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(POSTGRES_SKIP_REASON)
    schema = f"gw_test_{secrets.token_hex(6)}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        database = Database(url, schema)
        yield database
        check_emitted_events(database)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database(request) -> Database:
    """Each test using it runs once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_database")


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory) -> Path:
    """An SQLite file with every migration applied, made once per test process: a copy of it is a migrated
    store in a fraction of the time the migrations take (tests/integration/test_migrations.py runs those)."""
    path = tmp_path_factory.mktemp("migrated") / "gateway.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def migrated(migrated_sqlite_file):
    """Brings a test's database to the newest revision: a copy of the migrated file on SQLite (before
    anything opens it), the migrations themselves on PostgreSQL."""

    def bring_up(database: Database) -> None:
        if database.backend == "sqlite":
            shutil.copyfile(migrated_sqlite_file, make_url(database.url).database)
            return
        engine = make_engine(database.url, database.schema)
        migrate.upgrade(engine)
        engine.dispose()

    return bring_up


@pytest.fixture
def store(database, migrated) -> Iterator[Store]:
    """A migrated store on either backend."""
    migrated(database)
    engine = make_engine(database.url, database.schema)
    yield Store(engine)
    engine.dispose()


@pytest.fixture
def app(tmp_path, sqlite_database, migrated):
    """The gateway on a migrated SQLite file."""
    migrated(sqlite_database)
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), **sqlite_database.settings()})
    app.config["TESTING"] = True
    yield app
    app_store(app).dispose()


@pytest.fixture
def backend_app(database, tmp_path, migrated):
    """The gateway on a migrated store of either backend (see `database`)."""
    migrated(database)
    app = create_app({"INSTANCE_PATH": str(tmp_path), "LOG_LEVEL": "WARNING", **database.settings()})
    yield app
    app_store(app).dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def seed(app) -> Seeder:
    return Seeder(app_store(app))
