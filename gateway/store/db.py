"""The store: one engine per process and one transaction per command."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from gateway.store.hot_reads import RawConnection
from gateway.store.key_changes import KeyChangeMarker, watch_key_changes


def default_sqlite_url(instance_path: str) -> str:
    """The embedded default: a SQLite file in the instance folder."""
    return f"sqlite:///{Path(instance_path) / 'gateway.sqlite3'}"


def _tune_sqlite(dbapi_connection, _record) -> None:
    # WAL lets readers proceed while one writer commits; the busy timeout makes a second writer wait
    # instead of failing at once; SQLite leaves foreign keys off unless asked.
    # The driver's own transaction handling is switched off so that _begin_sqlite decides how each
    # transaction starts (and SAVEPOINTs work).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _begin_sqlite(connection) -> None:
    # A write transaction takes the write lock up front (IMMEDIATE), waiting for it under busy_timeout.
    # Started as a plain read, it would fail with "database is locked" when it first writes while another
    # writer holds the lock, because SQLite cannot wait on that upgrade.
    immediate = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


WRITE_OPTION = "gateway_write"
HOT_READS_MMAP_BYTES = 1 << 30  # address space, not memory: only the pages read are resident, shared with the OS


def make_engine(url: str, schema: str | None = None) -> Engine:
    """An engine for `url`; creating it opens no connection."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    connect_args = {}
    if schema:
        connect_args["options"] = f"-csearch_path={schema}"
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


class Store:
    """Owns the engine; hands out sessions that commit together or not at all."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writers = sessionmaker(engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False)
        self._readers = sessionmaker(engine, expire_on_commit=False)
        self._kept = threading.local()
        # Tells every process sharing this SQLite file when keys or partners change (None on PostgreSQL).
        self.key_changes = KeyChangeMarker.beside(engine.url)
        if self.key_changes is not None:
            watch_key_changes(self._writers, self.key_changes)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: everything done in the block commits at its end, or rolls back on an error."""
        with self._writers.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work: never blocks or is blocked by writers on SQLite (WAL)."""
        with self._readers() as session, session.begin():
            yield session

    @contextmanager
    def one_connection(self) -> Iterator[OneConnection]:
        """Transactions that all run on one connection from the pool, for work that keeps state in its
        connection from one transaction to the next (a reconciliation's TEMP table); the connection goes back
        to the pool when the block ends."""
        with self.engine.execution_options(**{WRITE_OPTION: True}).connect() as connection:
            yield OneConnection(connection, self.key_changes)

    def rows_connection(self) -> RawConnection:
        """A connection for the hot reads (gateway.store.hot_reads); give it back with release().

        On SQLite each thread keeps one from request to request: SQLite reads run in autocommit here, so a
        kept connection holds no snapshot and no lock, and the pool's checkout and return would cost more
        than the lookups themselves. A server database's connections come from the pool, whose pre-ping
        replaces one the server has dropped.
        """
        if self.engine.dialect.name != "sqlite":
            return RawConnection.checkout(self.engine)
        kept = getattr(self._kept, "connection", None)
        if kept is None:
            kept = self._kept.connection = RawConnection.keep(self.engine)
            # The lookups land on random rows of tables far larger than SQLite's page cache (2 MiB): mapped,
            # a page comes from the OS's file cache without a read() call each time (+5% req/s on the bench).
            cursor = kept.dbapi.cursor()
            cursor.execute(f"PRAGMA mmap_size={HOT_READS_MMAP_BYTES}")
            cursor.close()
        return kept

    def ping(self) -> None:
        """Raise when the database cannot be reached."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self._kept = threading.local()  # this thread's kept connection closes as it is dropped
        self.engine.dispose()


class OneConnection:
    """Store.one_connection's transactions: each one a write transaction, all on the same connection."""

    def __init__(self, connection: Connection, key_changes: KeyChangeMarker | None = None) -> None:
        self._sessions = sessionmaker(connection, expire_on_commit=False)
        if key_changes is not None:
            watch_key_changes(self._sessions, key_changes)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session
