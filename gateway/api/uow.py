"""Which transaction a view works in: reads get a read transaction, commands the request's write transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import g
from sqlalchemy.orm import Session

from gateway.runtime import store
from gateway.store.hot_reads import RawConnection

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


def request_rows() -> RawConnection:
    """The request's connection for hot reads (gateway.store.hot_reads), shared by authentication and the view,
    given back at teardown: at most one pool checkout per request on the call partners make most.
    """
    connection = g.get(ROWS_CONNECTION)
    if connection is None:
        connection = g.rows_connection = store().rows_connection()
    return connection


def close_request_rows(_error: BaseException | None = None) -> None:
    connection = g.pop(ROWS_CONNECTION, None)
    if connection is not None:
        connection.release()
