"""Reading a large table a chunk at a time, in key order, on SQLite and PostgreSQL alike.

A long job (an inactivity campaign's run) takes the next rows matching a condition after a cursor, a chunk per
transaction. What each backend needs to do that well differs, and the differences live here.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import Session


def scanned_in_key_order(session: Session, condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """`condition`, written so the chunk's search walks the primary key from the cursor.

    SQLite keeps no statistics unless asked (ANALYZE), so it may take a term such as `column IS NULL` for a
    selective one and read through that column's index, which can hold nearly every row under null: each chunk
    would read every such row and sort the matches. Tested as one term, the condition offers SQLite no index, so
    it walks the primary key from the cursor and stops when the chunk is full. PostgreSQL plans from its
    statistics and gets the condition as it is.
    """
    if session.get_bind().dialect.name == "sqlite":
        return condition.is_(True)
    return condition


def skipping_locked(session: Session, query: Select, *, of) -> Select:
    """`query`, locking the rows of `of` it returns and skipping those another transaction has locked (a row
    being changed right now is left to the next run). SQLite's write transaction already excludes every other
    writer, so there is nothing to skip."""
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(of=of, skip_locked=True)
    return query
