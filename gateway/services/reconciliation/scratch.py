"""Where a job's roster is staged: the roster_refs scratch table, and what SQLite and PostgreSQL do differently
with it, behind one interface (RosterStage) chosen once per job by the database's dialect name.

roster_refs holds every partner_ref the roster names, with the line of the first row naming it and what that row
says (its claim; a bad row has none, NULL, and is never compared). A TEMP table, one per job: seen by no other
connection, and a roster of millions of rows costs it no more memory than a small one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Protocol

import orjson
from sqlalchemy import Column, Integer, MetaData, SmallInteger, String, Table, text
from sqlalchemy.exc import SQLAlchemyError

from gateway.store.db import OneConnection

ROSTER_REFS = Table(
    "roster_refs",
    MetaData(),
    Column("partner_ref", String(100), primary_key=True),
    Column("line", Integer, nullable=False),
    Column("claim", SmallInteger),
    prefixes=["TEMPORARY"],
    sqlite_with_rowid=False,  # the primary key is the table: one b-tree, half the writes per row
)
# A chunk's refs, each with the line of its first row and that row's claim (None for a bad row).
Refs = dict[str, tuple[int, int | None]]


class RosterStage(Protocol):
    """The staged roster on one database. The writes go through the driver's own cursor: at millions of rows
    SQLAlchemy's per-row and per-statement work would cost more than the database's. Statements are put
    together from placeholders only; values are parameters."""

    # The schema a connection's TEMP tables live in, to drop one by name.
    temporary_schema: str
    # Whether the end passes over the staged roster commit page by page (SQLite: a transaction that writes
    # keeps every other writer waiting) or each in one transaction, its rows streamed (a server database's
    # writers are not held up by it).
    pages_passes: bool

    def stage(self, cursor, refs: Refs) -> int:
        """Write the refs to roster_refs, leaving any an earlier chunk wrote; how many were new."""

    def staged(self, cursor, refs: Refs) -> list[tuple[str, int, int | None]]:
        """The staged (partner_ref, line, claim) of these refs."""


class _Placeholders:
    marker: str

    def staged(self, cursor, refs: Refs) -> list[tuple[str, int, int | None]]:
        cursor.execute(
            "SELECT partner_ref, line, claim FROM roster_refs "  # noqa: S608
            f"WHERE partner_ref IN ({', '.join([self.marker] * len(refs))})",
            tuple(refs),
        )
        return cursor.fetchall()


class SQLiteRosterStage(_Placeholders):
    """On SQLite the refs go as one JSON object per kind read by json_each in one statement: a row-by-row
    executemany spent most of a chunk's database time binding parameters (about 4x slower at 1M rows). A good
    row's line and claim travel as one number (line << CLAIM_BITS | claim): json_each reads a number several
    times faster than a pair."""

    temporary_schema = "temp"
    pages_passes = True
    marker = "?"
    CLAIM_BITS = 8

    def stage(self, cursor, refs: Refs) -> int:
        good = {ref: line << self.CLAIM_BITS | claim for ref, (line, claim) in refs.items() if claim is not None}
        bad = {ref: line for ref, (line, claim) in refs.items() if claim is None}
        # "WHERE true": SQLite's way to tell an INSERT ... SELECT's ON CONFLICT from a join's ON.
        staged = 0
        if good:
            insert_good = (
                "INSERT INTO roster_refs (partner_ref, line, claim) SELECT key, value >> ?, value & ? FROM json_each(?)"
            )
            values = (self.CLAIM_BITS, (1 << self.CLAIM_BITS) - 1, orjson.dumps(good).decode())
            try:
                # Most chunks name no ref an earlier one did, and a plain insert spares a conflict check per row
                # (about a fifth of the statement's time).
                cursor.execute(insert_good, values)
            except sqlite3.IntegrityError:  # one did: SQLite has undone the statement; insert all but those refs
                cursor.execute(f"{insert_good} WHERE true ON CONFLICT DO NOTHING", values)
            staged += cursor.rowcount
        if bad:
            cursor.execute(
                "INSERT INTO roster_refs (partner_ref, line) "
                "SELECT key, value FROM json_each(?) WHERE true ON CONFLICT DO NOTHING",
                (orjson.dumps(bad).decode(),),
            )
            staged += cursor.rowcount
        return staged


class PostgreSQLRosterStage(_Placeholders):
    """PostgreSQL's driver pipelines executemany, so the refs go row by row."""

    temporary_schema = "pg_temp"
    pages_passes = False
    marker = "%s"

    def stage(self, cursor, refs: Refs) -> int:
        cursor.executemany(
            "INSERT INTO roster_refs (partner_ref, line, claim) "  # noqa: S608
            f"VALUES ({self.marker}, {self.marker}, {self.marker}) ON CONFLICT DO NOTHING",
            [(ref, line, claim) for ref, (line, claim) in refs.items()],
        )
        return cursor.rowcount


def roster_stage(dialect_name: str) -> RosterStage:
    """The stage for the store's database: SQLite's, or the server database's (PostgreSQL)."""
    return SQLiteRosterStage() if dialect_name == "sqlite" else PostgreSQLRosterStage()


@contextmanager
def roster_refs(connection: OneConnection, stage: RosterStage) -> Iterator[None]:
    """An empty roster_refs table on the job's connection for the length of the block.

    On SQLite a TEMP table is written without the write-ahead log (at 1M rows the log's writes and checkpoints
    cost as much as a tenth of the job). Dropped at the end, and first too, in case the drop at the end of an
    earlier job on the connection did not happen.
    """
    drop = text(f"DROP TABLE IF EXISTS {stage.temporary_schema}.{ROSTER_REFS.name}")
    with connection.transaction() as session:
        session.execute(drop)
        ROSTER_REFS.create(session.connection())
    try:
        yield
    finally:
        # Best effort, the job's work being done or lost already: the connection may be what broke (its error
        # is the one to raise), or the store busy; the next job on the connection drops what is left.
        with suppress(SQLAlchemyError), connection.transaction() as session:
            session.execute(drop)
