"""Delivery rules: what a partner's answer means, when to try again, when an endpoint's circuit opens.

Pure functions of their inputs (time and randomness are passed in), so the retry timing is tested with a
fixed clock and a seeded random generator instead of sleeps.
"""

from __future__ import annotations

import enum
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its next attempt (or for an earlier event of its subscriber)
    DELIVERED = "delivered"
    DEAD = "dead"  # retries exhausted or a permanent refusal: waits for an operator's replay


class Outcome(enum.StrEnum):
    """What one attempt came to."""

    DELIVERED = "delivered"  # 2xx
    RETRY = "retry"  # 3xx, 408, 429, 5xx, timeouts, connection errors
    FAILED = "failed"  # any other 4xx: the partner refuses this event; retrying would not help
    GONE = "gone"  # 410: the endpoint is gone; it is disabled


class EndpointStatus(enum.StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"  # its deliveries wait for it to be enabled again
    DELETED = "deleted"  # gone for good: kept only so that its deliveries and attempts stay on record


class CircuitState(enum.StrEnum):
    CLOSED = "closed"  # deliveries flow
    OPEN = "open"  # the endpoint keeps failing: nothing is sent until the probe time
    HALF_OPEN = "half_open"  # one probe is out; its result closes or reopens the circuit


def classify_status(status: int) -> Outcome:
    if 200 <= status < 300:
        return Outcome.DELIVERED
    if status == 410:
        return Outcome.GONE
    if 300 <= status < 400 or status in (408, 429) or status >= 500:
        return Outcome.RETRY
    return Outcome.FAILED


_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_schedule(text: str) -> list[timedelta]:
    """'5s,5m,2h' -> the waits after the first, second, third failed attempt."""
    waits = []
    for part in text.split(","):
        match = _DURATION.match(part)
        if match is None:
            raise ValueError(f"{part.strip()!r} is not a duration such as 5s, 5m, 2h or 1d")
        waits.append(timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)]))
    if not waits:
        raise ValueError("the retry schedule is empty")
    return waits


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """A Retry-After header (seconds or an HTTP date) as a wait from now; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


@dataclass(frozen=True)
class RetryPolicy:
    schedule: list[timedelta]
    retry_after_max: timedelta
    jitter: float = 0.2  # each wait is spread over +-20% so retries of many events do not arrive in step

    def next_attempt_at(
        self, failed_attempts: int, now: datetime, rng: random.Random, retry_after: timedelta | None = None
    ) -> datetime | None:
        """When to try again after `failed_attempts` failures, or None when the schedule is used up.

        A partner's Retry-After is honoured when it asks for longer than the schedule would wait, up to
        `retry_after_max`; it never shortens the schedule.
        """
        if failed_attempts > len(self.schedule):
            return None
        wait = self.schedule[failed_attempts - 1] * rng.uniform(1 - self.jitter, 1 + self.jitter)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.retry_after_max))
        return now + wait


@dataclass(frozen=True)
class CircuitPolicy:
    failure_threshold: int
    probe_interval: timedelta
    disable_after: timedelta


@dataclass(frozen=True)
class EndpointHealth:
    """An endpoint's circuit, as stored; the transitions below return the next one."""

    state: CircuitState
    consecutive_failures: int
    retry_at: datetime | None  # open: when the next probe may go
    failing_since: datetime | None  # first failure since the last success

    def admits(self, now: datetime) -> bool:
        """Whether a delivery may be sent now (an open circuit admits one probe once its time has come)."""
        if self.state == CircuitState.CLOSED:
            return True
        return self.retry_at is not None and self.retry_at <= now

    def after_success(self) -> EndpointHealth:
        return EndpointHealth(CircuitState.CLOSED, 0, None, None)

    def after_failure(self, now: datetime, policy: CircuitPolicy) -> EndpointHealth:
        failures = self.consecutive_failures + 1
        since = self.failing_since or now
        if self.state != CircuitState.CLOSED or failures >= policy.failure_threshold:
            return EndpointHealth(CircuitState.OPEN, failures, now + policy.probe_interval, since)
        return EndpointHealth(CircuitState.CLOSED, failures, None, since)

    def should_disable(self, now: datetime, policy: CircuitPolicy) -> bool:
        return self.failing_since is not None and now - self.failing_since >= policy.disable_after
