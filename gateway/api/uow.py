"""Which transaction a view works in: reads get a read transaction, commands the request's write transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import g
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from gateway.api.state import store

COMMAND_SESSION = "command_session"


@contextmanager
def command() -> Iterator[Session]:
    """The request's one write transaction.

    When the idempotency layer has opened it (to record the key and the response in the same commit as
    the effect), the view joins it; otherwise the command gets a transaction of its own.
    """
    session = g.get(COMMAND_SESSION)
    if session is not None:
        yield session
        return
    with store().transaction() as session:
        yield session


def reading() -> Iterator[Session]:
    """A read-only transaction."""
    return store().read()


ROWS_CONNECTION = "rows_connection"


def request_rows() -> Connection:
    """The request's read-only Core connection, shared by authentication and the view, closed at teardown.

    One pool checkout and one read transaction per request instead of one each: it matters on the status
    lookup, the call partners make most.
    """
    connection = g.get(ROWS_CONNECTION)
    if connection is None:
        connection = g.rows_connection = store().engine.connect()
    return connection


def close_request_rows(_error: BaseException | None = None) -> None:
    connection = g.pop(ROWS_CONNECTION, None)
    if connection is not None:
        connection.close()
