"""Where a test's store lives (an SQLite file or a PostgreSQL schema), and the check of the events it left there."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from gateway.store.db import make_engine
from tests.support.event_validation import stored_event_problems

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
