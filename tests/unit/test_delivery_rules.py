"""Delivery rules: what answers mean, the retry schedule with jitter and Retry-After, the circuit."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from gateway.domain.delivery import (
    CircuitPolicy,
    CircuitState,
    EndpointHealth,
    Outcome,
    RetryPolicy,
    classify_status,
    parse_retry_after,
    parse_schedule,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
DEFAULT_SCHEDULE = "5s,5m,30m,2h,5h,10h,10h,14h,20h,24h"


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (299, Outcome.DELIVERED),
        (301, Outcome.RETRY),
        (308, Outcome.RETRY),
        (408, Outcome.RETRY),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (503, Outcome.RETRY),
        (410, Outcome.GONE),
        (400, Outcome.FAILED),
        (401, Outcome.FAILED),
        (404, Outcome.FAILED),
        (422, Outcome.FAILED),
    ],
)
def test_what_a_status_means(status, outcome):
    assert classify_status(status) == outcome


def test_the_default_schedule_reads_as_the_issue_states():
    assert parse_schedule(DEFAULT_SCHEDULE) == [
        timedelta(seconds=5),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=5),
        timedelta(hours=10),
        timedelta(hours=10),
        timedelta(hours=14),
        timedelta(hours=20),
        timedelta(hours=24),
    ]


@pytest.mark.parametrize("text", ["", "5", "5x", "5s,,5m", "-5s", "five minutes"])
def test_a_bad_schedule_is_refused(text):
    with pytest.raises(ValueError):
        parse_schedule(text)


def test_retry_after_in_seconds_or_as_an_http_date():
    assert parse_retry_after("120", NOW) == timedelta(seconds=120)
    assert parse_retry_after("Sun, 22 Nov 2026 12:10:00 GMT", NOW) == timedelta(minutes=10)
    assert parse_retry_after("Sun, 22 Nov 2026 11:00:00 GMT", NOW) == timedelta(0)
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_each_wait_follows_the_schedule_within_the_jitter():
    policy = RetryPolicy(parse_schedule(DEFAULT_SCHEDULE), timedelta(hours=24))
    rng = random.Random(1)
    for failures, wait in enumerate(policy.schedule, start=1):
        waits = [policy.next_attempt_at(failures, NOW, rng) - NOW for _ in range(200)]
        assert min(waits) >= wait * 0.8 and max(waits) <= wait * 1.2
        assert len(set(waits)) > 1, "jitter spreads the retries"


def test_the_schedule_runs_out_after_its_last_wait():
    policy = RetryPolicy(parse_schedule("5s,5m"), timedelta(hours=1))
    assert policy.next_attempt_at(2, NOW, random.Random(1)) is not None
    assert policy.next_attempt_at(3, NOW, random.Random(1)) is None


def test_retry_after_lengthens_a_wait_up_to_the_bound_and_never_shortens_it():
    policy = RetryPolicy([timedelta(minutes=5)], timedelta(hours=1), jitter=0)
    rng = random.Random(1)
    assert policy.next_attempt_at(1, NOW, rng, timedelta(minutes=30)) == NOW + timedelta(minutes=30)
    assert policy.next_attempt_at(1, NOW, rng, timedelta(days=3)) == NOW + timedelta(hours=1)
    assert policy.next_attempt_at(1, NOW, rng, timedelta(seconds=1)) == NOW + timedelta(minutes=5)


CIRCUIT = CircuitPolicy(failure_threshold=3, probe_interval=timedelta(minutes=1), disable_after=timedelta(days=5))
CLOSED = EndpointHealth(CircuitState.CLOSED, 0, None, None)


def test_the_circuit_opens_after_the_threshold_and_admits_one_probe_per_interval():
    health = CLOSED.after_failure(NOW, CIRCUIT).after_failure(NOW, CIRCUIT)
    assert health.state == CircuitState.CLOSED and health.admits(NOW)
    health = health.after_failure(NOW, CIRCUIT)
    assert health.state == CircuitState.OPEN and health.consecutive_failures == 3
    assert not health.admits(NOW + timedelta(seconds=59))
    assert health.admits(NOW + timedelta(minutes=1))
    probe_failed = health.after_failure(NOW + timedelta(minutes=1), CIRCUIT)
    assert probe_failed.state == CircuitState.OPEN and probe_failed.retry_at == NOW + timedelta(minutes=2)
    assert probe_failed.failing_since == NOW
    assert probe_failed.after_success() == CLOSED


def test_an_endpoint_failing_for_the_whole_period_is_to_be_disabled():
    health = CLOSED.after_failure(NOW, CIRCUIT)
    assert not health.should_disable(NOW + timedelta(days=4, hours=23), CIRCUIT)
    later = health.after_failure(NOW + timedelta(days=5), CIRCUIT)
    assert later.should_disable(NOW + timedelta(days=5), CIRCUIT)
    assert not later.after_success().should_disable(NOW + timedelta(days=6), CIRCUIT)
