"""The sandbox clock: on a sandbox gateway (GATEWAY_SANDBOX=true), time can be moved forward, so that a partner
walks every transition of the programs — period ends, respond-by dates, the 10-month purge — in an afternoon.

The offset lives in the store (sandbox_clock), so the API's workers, the scheduler and the dispatchers all keep
the one sandbox time: each puts its clock on it (gateway.domain.clock.run_ahead) before a request, a scheduler
round, or every second while dispatching. Time only moves forward: what happened in the sandbox happened at
its times, and a history that ran backwards would certify nothing.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gateway.domain.clock import run_ahead, utcnow
from gateway.domain.errors import Conflict
from gateway.store.db import Store
from gateway.store.models import SandboxClock

log = logging.getLogger("gateway.sandbox")

CLOCK_ID = 1
FOLLOW_SECONDS = 1.0  # how often a dispatcher puts its clock on the store's


def _ahead(session: Session) -> timedelta:
    clock = session.get(SandboxClock, CLOCK_ID)
    return timedelta(seconds=clock.ahead_seconds) if clock is not None else timedelta(0)


def follow(store: Store) -> datetime:
    """Put this process's clock on the sandbox clock in the store; the sandbox time now."""
    with store.read() as session:
        run_ahead(_ahead(session))
    return utcnow()


def follow_once_migrated(store: Store) -> None:
    """follow, unless the store has no sandbox clock yet (before `gateway db upgrade`): then the world's time."""
    try:
        follow(store)
    except SQLAlchemyError:  # no such table: the commands that run then (db upgrade) need no sandbox time
        run_ahead(timedelta(0))


def move_to(store: Store, when: datetime) -> datetime:
    """Move the sandbox clock forward to `when` for every process of the gateway; refused backwards."""
    with store.transaction() as session:
        clock = session.get(SandboxClock, CLOCK_ID, with_for_update=True)
        world = datetime.now(UTC)
        current = world + (timedelta(seconds=clock.ahead_seconds) if clock is not None else timedelta(0))
        if when < current:
            raise Conflict(
                f"The sandbox clock is at {current.isoformat(timespec='seconds')}: it only moves forward "
                f"(asked for {when.isoformat(timespec='seconds')})."
            )
        ahead = (when - world).total_seconds()
        if clock is None:
            session.add(SandboxClock(id=CLOCK_ID, ahead_seconds=ahead, moved_at=when))
        else:
            clock.ahead_seconds, clock.moved_at = ahead, when
    run_ahead(timedelta(seconds=ahead))
    return when


def keep_following(store: Store, stop: threading.Event) -> threading.Thread:
    """A thread that puts this process's clock on the sandbox clock every FOLLOW_SECONDS until `stop`."""

    def run() -> None:
        while not stop.wait(FOLLOW_SECONDS):
            try:
                follow(store)
            except Exception as error:  # a store outage: the clock keeps its last offset meanwhile
                log.warning("sandbox clock not read", extra={"fields": {"error": str(error)[:300]}})

    thread = threading.Thread(target=run, name="sandbox-clock", daemon=True)
    thread.start()
    return thread
