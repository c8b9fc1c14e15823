"""Shared fixtures: real stores (SQLite files, PostgreSQL schemas) and apps built on them."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gateway import create_app
from gateway.api.state import EXTENSION
from gateway.domain.clock import utcnow
from gateway.domain.keys import SCOPES_BY_KIND, KeyKind
from gateway.domain.lifecycle import Actor, Command
from gateway.services import keys as key_service
from gateway.services import partners as partner_service
from gateway.services import sharing as sharing_service
from gateway.services import subscriptions as subscription_service
from gateway.store import migrate
from gateway.store.db import Store, make_engine
from tests.event_validation import stored_event_problems, validators

POSTGRES_URL_VARIABLE = "GATEWAY_TEST_POSTGRES_URL"
POSTGRES_SKIP_REASON = (
    f"{POSTGRES_URL_VARIABLE} is not set: PostgreSQL tests need a server, e.g. "
    f"{POSTGRES_URL_VARIABLE}=postgresql+psycopg://postgres@127.0.0.1:5432/test (.ci/run sets it)"
)


@dataclass(frozen=True)
class Database:
    """Where a test's store lives: a URL and, on PostgreSQL, a schema of its own."""

    url: str
    schema: str | None = None

    @property
    def backend(self) -> str:
        return "postgres" if self.url.startswith("postgresql") else "sqlite"

    def settings(self) -> dict:
        return {"DATABASE_URL": self.url, "DATABASE_SCHEMA": self.schema}


def check_emitted_events(database: Database) -> None:
    """Fail the test if an event it left in the store's outbox does not match the event catalog.

    Runs at the teardown of the database fixtures, after the `store`, `app` and `backend_app` built on them (and
    any store a test builds itself on the same database) are done, so every test that emits events checks them.
    """
    if database.backend == "sqlite" and not Path(make_url(database.url).database).exists():
        return  # the test never opened the store
    engine = make_engine(database.url, database.schema)
    try:
        problems = stored_event_problems(engine)
    finally:
        engine.dispose()
    if problems:
        pytest.fail(problems, pytrace=False)


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


def app_store(app) -> Store:
    return app.extensions[EXTENSION]["store"]


class Seeder:
    """Creates partners and keys straight through the services, for tests that need them to exist."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def partner(self, code: str, markets=("DE",), locale="de-DE", **options) -> str:
        with self.store.transaction() as session:
            partner_service.add_partner(
                session,
                code=code,
                display_name=code.title(),
                markets=list(markets),
                default_locale=locale,
                flavour=options.pop("flavour", "standard"),
                now=utcnow(),
                **options,
            )
        return code

    def endpoint(self, partner_code: str, url: str = "https://hooks.example.net/gateway") -> str:
        return self.endpoint_with_secret(partner_code, url)[0]

    def endpoint_with_secret(self, partner_code: str, url: str) -> tuple[str, str]:
        """An endpoint (loopback allowed: tests deliver to receivers on 127.0.0.1) and its signing secret."""
        with self.store.transaction() as session:
            endpoint = partner_service.add_endpoint(
                session, partner_code, url=url, description="test", allow_private=True, now=utcnow()
            )
            return endpoint.id, endpoint.secret

    def key(self, kind: KeyKind, partner_code: str | None = None, scopes=None) -> key_service.IssuedKey:
        chosen = sorted(SCOPES_BY_KIND[kind]) if scopes is None else sorted(scopes)
        with self.store.transaction() as session:
            return key_service.issue_key(
                session, kind=kind, scopes=chosen, name="test", partner_code=partner_code, now=utcnow()
            )

    def token(self, kind: KeyKind, partner_code: str | None = None, scopes=None) -> str:
        return self.key(kind, partner_code, scopes).token


@pytest.fixture
def seed(app) -> Seeder:
    return Seeder(app_store(app))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def add_subscription(
    session, partner_code: str, partner_ref: str, *, now=None, active: bool = True, market="DE", billed_by="partner"
):
    """A standard-plan subscription billed monthly from today (by the partner unless `billed_by` says the
    service), activated by the service (for the member `member-<partner_ref>`) unless `active=False`."""
    now = now or utcnow()
    subscription = subscription_service.create_subscription(
        session,
        partner_code=partner_code,
        partner_ref=partner_ref,
        plan="standard",
        market=market,
        billing_anchor=now.date(),
        now=now,
        activation_window=timedelta(days=30),
        billed_by=billed_by,
    )
    if active:
        subscription_service.apply_command(
            session,
            subscription,
            Command.ACTIVATE,
            actor=Actor.SERVICE,
            reason="account_linked",
            now=now,
            member_id=f"member-{partner_ref}",
        )
    return subscription


def sharing_policy(store: Store, markets: list[str], *, now=None, lead=timedelta(days=30), in_effect=False):
    """A one-household sharing policy for `markets`, announced at `now` (its effective date `lead` later) by a
    scheduler run; with `in_effect`, the run is on its effective date, so the policy is in effect too."""
    now = now or utcnow()
    with store.transaction() as session:
        policy = sharing_service.create_policy(
            session, markets=markets, rule="one_household", extra_member={}, effective_at=now + lead, lead=lead, now=now
        )
    sharing_service.run_due_sharing_notices(store, now=now + lead if in_effect else now, reminder_schedule=[])
    return policy
