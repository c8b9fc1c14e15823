"""Store outages: telling a database that cannot be reached (connection lost, failover, a server starting up,
a SQLite file locked beyond the busy timeout) from a bug, and how long to wait before trying again."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# SQLite reports a missing table with the same OperationalError as a locked file: only these are outages.
SQLITE_OUTAGES = ("database is locked", "database is busy", "unable to open database file", "disk i/o error")


def is_store_outage(error: BaseException) -> bool:
    """Whether `error` says the store is unreachable for now (waiting helps), rather than that a statement is
    wrong (waiting does not)."""
    if isinstance(error, PoolTimeout | InterfaceError):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, OperationalError):
        if type(error.orig).__module__.startswith("sqlite3"):
            return any(text in str(error.orig).lower() for text in SQLITE_OUTAGES)
        return True
    return False


@dataclass
class OutageBackoff:
    """Waits between tries while the store is out: doubling from `first` up to `longest`, each drawn from
    its upper half so that many processes do not come back in step."""

    first: float = 0.5
    longest: float = 30.0
    rng: random.Random = field(default_factory=random.Random)
    failures: int = 0

    def next_wait(self) -> float:
        self.failures += 1
        return min(self.longest, self.first * 2 ** (self.failures - 1)) * self.rng.uniform(0.5, 1.0)

    def reset(self) -> None:
        self.failures = 0


def repeat_through_outages(
    step: Callable[[], object],
    *,
    stop: threading.Event,
    every: float,
    log: logging.Logger,
    backoff: OutageBackoff | None = None,
) -> None:
    """Run `step` every `every` seconds until `stop` is set. A store outage is logged and waited out (with
    `backoff`), never died of; any other error is a bug and propagates."""
    backoff = backoff or OutageBackoff()
    while not stop.is_set():
        try:
            step()
        except Exception as error:
            if not is_store_outage(error):
                raise
            wait = backoff.next_wait()
            log.warning("store unreachable, waiting", extra={"fields": {"error": str(error)[:300], "retry_in_s": wait}})
            stop.wait(wait)
            continue
        backoff.reset()
        stop.wait(every)
