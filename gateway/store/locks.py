"""Locks held for a transaction, by name, on the one backend that needs them.

PostgreSQL runs writers side by side, so work that must have one writer at a time takes a transaction-level
advisory lock. SQLite has one writer already: its write transaction excludes every other, so the lock is a
no-op there and `try_hold` always succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

# The lock is the schema's: gateways (or test runs) sharing one PostgreSQL database in schemas of their own
# never hold each other up.
_KEYS = "(:key, hashtext(current_schema()))"


@dataclass(frozen=True)
class TransactionLock:
    """A lock taken inside a transaction and given back when it ends (commit or rollback)."""

    key: int  # any constant, one per kind of work

    def hold(self, session: Session) -> None:
        """Wait until no other transaction holds the lock, and keep it until this one ends."""
        if _needs_lock(session):
            session.execute(text(f"SELECT pg_advisory_xact_lock{_KEYS}"), {"key": self.key})

    def try_hold(self, session: Session) -> bool:
        """`hold`, unless another transaction holds the lock: then False at once."""
        if not _needs_lock(session):
            return True
        return bool(session.scalar(text(f"SELECT pg_try_advisory_xact_lock{_KEYS}"), {"key": self.key}))


def _needs_lock(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
