"""A marker beside the SQLite database, rewritten after every commit that changed an API key or a partner.

Authentication needs the key and its partner on every request. Reading them from SQLite was the largest
share of the status lookup's own time, so a process may keep what it read (gateway.services.key_cache)
for as long as this marker stays the same. Any process that revokes, rotates or suspends through the
gateway rewrites the marker after its commit, so every other process reads the store again on its next
request: revocation still applies from the next request on.

Why a file: in WAL mode SQLite needs all processes that open a database to be on one host (they share its
-shm file), so a file beside the database reaches exactly the processes that share the database. It is
read with one pread per request. PostgreSQL serves many hosts and gets no marker: there a key is read
on every request.
"""

from __future__ import annotations

import logging
import os
import weakref

from sqlalchemy import event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from gateway.store.hot_reads import KEY_COLUMNS, PARTNER_COLUMNS
from gateway.store.models import ApiKey, Partner

MARKER_SUFFIX = "-key-changes"
log = logging.getLogger("gateway.store")
_CHANGED = "gateway_keys_changed"  # session.info flag: this transaction wrote a key or a partner


class KeyChangeMarker:
    """Eight bytes that differ after each change. They are random rather than counted, so two processes
    that write at the same moment need no lock: any new value tells readers that what they kept is stale."""

    SIZE = 8

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        weakref.finalize(self, os.close, self._fd)

    @classmethod
    def beside(cls, url: str | URL) -> KeyChangeMarker | None:
        """The marker for a SQLite file database; None for PostgreSQL, for in-memory SQLite (no file to put
        it beside) and when the file cannot be opened: then nothing is kept."""
        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
            return None
        try:
            return cls(os.path.realpath(parsed.database) + MARKER_SUFFIX)
        except OSError as error:  # keys are then read on every request, as without a marker
            log.warning("no key-change marker beside the database (%s): keys are read on every request", error)
            return None

    def read(self) -> bytes:
        return os.pread(self._fd, self.SIZE, 0)

    def bump(self) -> None:
        os.pwrite(self._fd, os.urandom(self.SIZE), 0)


# What authentication reads (gateway.store.hot_reads.KEY_BY_PREFIX): a change to anything else, such as the
# dispatcher's pacing of a partner's deliveries, leaves every kept principal valid.
_READ_BY_AUTHENTICATION = {
    ApiKey: {column.name for column in KEY_COLUMNS},
    Partner: {column.name for column in PARTNER_COLUMNS},
}


def _changes_what_authentication_reads(instance: object) -> bool:
    watched = _READ_BY_AUTHENTICATION.get(type(instance))
    if watched is None:
        return False
    attributes = inspect(instance).attrs
    return any(attributes[name].history.has_changes() for name in watched)


def watch_key_changes(sessions: sessionmaker, marker: KeyChangeMarker) -> None:
    """Rewrite `marker` after each commit of a session from `sessions` that changed what authentication reads
    of an API key or a partner, or deleted one. A new key needs no notice (nobody kept it), and the marker
    changes only once the change is visible: a process that reads it before the commit and the store after
    sees the marker change. Savepoints are not commits: only the outermost transaction's end counts."""

    @event.listens_for(sessions, "after_flush")
    def note(session: Session, _context) -> None:
        deleted = any(type(instance) in _READ_BY_AUTHENTICATION for instance in session.deleted)
        if deleted or any(_changes_what_authentication_reads(instance) for instance in session.dirty):
            session.info[_CHANGED] = True

    @event.listens_for(sessions, "after_commit")
    def tell(session: Session) -> None:
        if session.in_nested_transaction() or not session.info.pop(_CHANGED, False):
            return
        try:
            marker.bump()
        except OSError:  # committed all the same: other workers see it once their kept copy is too old
            log.exception("could not rewrite the key-change marker %s", marker.path)

    @event.listens_for(sessions, "after_rollback")
    def forget(session: Session) -> None:
        if not session.in_nested_transaction():
            session.info.pop(_CHANGED, None)
