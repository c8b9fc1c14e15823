"""Store outages told from bugs, the backoff between tries, and the loop that waits outages out (no I/O: the
errors are built as SQLAlchemy raises them; tests/delivery/test_store_outage.py cuts a real PostgreSQL)."""

from __future__ import annotations

import logging
import random
import sqlite3
import threading

import pytest
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, ProgrammingError

from gateway.store.outages import OutageBackoff, is_store_outage, repeat_through_outages


class _ServerError(Exception):
    """Stands for a server driver's own error class (psycopg's), whose module is not sqlite3."""


def _wrapped(kind, orig: Exception, *, invalidated: bool = False):
    return kind("SELECT 1", {}, orig, connection_invalidated=invalidated)


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (_wrapped(OperationalError, _ServerError("the database system is starting up")), True),
        (_wrapped(OperationalError, _ServerError("server closed the connection unexpectedly")), True),
        (_wrapped(InterfaceError, _ServerError("connection already closed")), True),
        (_wrapped(ProgrammingError, _ServerError("terminating connection"), invalidated=True), True),
        (_wrapped(OperationalError, sqlite3.OperationalError("database is locked")), True),
        (_wrapped(OperationalError, sqlite3.OperationalError("no such table: deliveries")), False),
        (_wrapped(ProgrammingError, _ServerError("syntax error at or near")), False),
        (_wrapped(IntegrityError, _ServerError("duplicate key value")), False),
        (ValueError("not the store at all"), False),
    ],
    ids=["starting up", "dropped", "closed", "invalidated", "sqlite locked", "no table", "syntax", "integrity", "bug"],
)
def test_an_outage_is_told_from_a_bug(error, outage):
    assert is_store_outage(error) is outage


def test_the_backoff_doubles_up_to_its_longest_drawn_from_the_upper_half():
    backoff = OutageBackoff(first=0.5, longest=4.0, rng=random.Random(3))
    waits = [backoff.next_wait() for _ in range(6)]
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert all(ceiling / 2 <= wait <= ceiling for wait, ceiling in zip(waits, ceilings, strict=True)), waits
    backoff.reset()
    assert backoff.next_wait() <= 0.5


def test_the_loop_waits_out_an_outage_and_carries_on():
    stop, calls = threading.Event(), []

    def step():
        calls.append(len(calls))
        if len(calls) <= 2:
            raise _wrapped(OperationalError, _ServerError("the database system is starting up"))
        if len(calls) == 4:
            stop.set()

    repeat_through_outages(step, stop=stop, every=0.001, log=logging.getLogger("test"), backoff=OutageBackoff(0.001))
    assert calls == [0, 1, 2, 3], "two outages waited out, then the steps went on"


def test_the_loop_stops_on_a_bug():
    def step():
        raise _wrapped(ProgrammingError, _ServerError("syntax error"))

    with pytest.raises(ProgrammingError):
        repeat_through_outages(step, stop=threading.Event(), every=0.001, log=logging.getLogger("test"))
