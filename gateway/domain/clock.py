"""The one place the gateway reads the time, so tests can pass their own `now`.

A sandbox gateway's time runs ahead of the world's by the offset its clock was moved by
(gateway.services.sandbox keeps every process of the gateway on the offset in the store); elsewhere it is 0.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_ahead = timedelta(0)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC (on a sandbox gateway, the sandbox's)."""
    return datetime.now(UTC) + _ahead


def run_ahead(offset: timedelta) -> None:
    """Run this process's clock `offset` ahead of the world's (a sandbox gateway only)."""
    global _ahead
    _ahead = offset
