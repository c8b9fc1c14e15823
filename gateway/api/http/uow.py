"""Where a view's unit of work comes from, in plain sight.

- A command's view is decorated with `@in_transaction`, or with `@idempotent` (gateway.api.http.idempotent), and gets
  the request's one write transaction as its `session` argument: everything the view does in it, and the
  response it answers with, commits together when the view is done, or rolls back on an error.
- A view that reads opens a read transaction where it needs one: `with reading() as session:`.
- A view that needs more than one write transaction (a signed callback remembers its refusal after the effect
  rolled back) opens each itself: `with transaction() as session:`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import wraps
from typing import Any

from flask import g
from sqlalchemy.orm import Session

from gateway.runtime import store
from gateway.store.hot_reads import RawConnection


def in_transaction(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command's view in one write transaction, passed to it as `session`.

    Place it under `@requires` and above flask-smorest's `@blp.arguments` and `@blp.response`: those pass the
    keyword on to the view, and the transaction commits after the response is made, as `@idempotent`'s does.
    """

    @wraps(view)
    def in_its_transaction(*args: Any, **kwargs: Any) -> Any:
        with store().transaction() as session:
            return view(*args, session=session, **kwargs)

    return in_its_transaction


def reading() -> AbstractContextManager[Session]:
    """A read-only transaction."""
    return store().read()


def transaction() -> AbstractContextManager[Session]:
    """A write transaction of the view's own, for a view that needs more than one (use `@in_transaction` for
    one): everything done in the block commits at its end, or rolls back on an error."""
    return store().transaction()


# The request's hot-read connection lives on the request (flask.g), not in a view's unit of work: authentication
# uses it before any view runs (the rate limiter and `@requires`), the status lookup view reads on the same one,
# and the app's teardown gives it back however the request ended.
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
    """Give the request's hot-read connection back: the app's teardown, or a view about to run for minutes."""
    connection = g.pop(ROWS_CONNECTION, None)
    if connection is not None:
        connection.release()
