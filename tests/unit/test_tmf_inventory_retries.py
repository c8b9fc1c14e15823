"""How a page of a partner's TMF637 inventory is retried (partners.tmf_inventory.retry_policy): only while the
inventory is unavailable, a few times, waiting longer each time or as long as Retry-After asks, within a bound."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from tenacity import RetryCallState

from partners.tmf_inventory import (
    DEFAULT_LIMITS,
    InvalidInventoryAnswer,
    InventoryChanged,
    InventoryForbidden,
    InventoryRefused,
    InventoryUnavailable,
    retry_policy,
    retry_wait,
)

QUICK = replace(DEFAULT_LIMITS, attempts=3, first_retry_wait=0.0, max_retry_wait=0.0)


def _tries(error: Exception, limits=QUICK) -> tuple[int, BaseException | None]:
    tries = 0

    async def page():
        nonlocal tries
        tries += 1
        raise error

    async def pull():
        return await retry_policy(limits)(page)

    try:
        asyncio.run(pull())
    except Exception as raised:  # what came out is what the test looks at
        return tries, raised
    return tries, None


def test_an_unavailable_inventory_is_tried_the_limits_number_of_times_then_its_last_failure_raised():
    error = InventoryUnavailable("answered 503")
    assert _tries(error) == (3, error)


@pytest.mark.parametrize(
    "error",
    [
        InventoryRefused("401"),
        InventoryForbidden("loopback"),
        InvalidInventoryAnswer("not JSON"),
        InventoryChanged("count changed"),
    ],
)
def test_every_other_failure_is_raised_at_once(error):
    assert _tries(error) == (1, error)


def test_a_page_that_comes_on_a_later_try_is_the_answer():
    answers = [InventoryUnavailable("503"), InventoryUnavailable("reset"), "page"]

    async def page():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def pull():
        return await retry_policy(QUICK)(page)

    assert asyncio.run(pull()) == "page" and not answers


def _state(attempt: int, error: Exception) -> RetryCallState:
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    state.set_exception((type(error), error, None))
    return state


LIMITS = replace(DEFAULT_LIMITS, first_retry_wait=1.0, max_retry_wait=30.0)


@pytest.mark.parametrize(("attempt", "backoff"), [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0)])
def test_the_wait_doubles_with_each_try_plus_up_to_a_quarter_of_it(attempt, backoff):
    waits = [retry_wait(_state(attempt, InventoryUnavailable("503")), LIMITS) for _ in range(50)]
    assert all(backoff <= wait <= backoff * 1.25 for wait in waits)
    assert len(set(waits)) > 1  # jittered: pulls that failed together do not come back together


def test_a_retry_after_is_waited_out_but_never_longer_than_the_bound():
    assert retry_wait(_state(1, InventoryUnavailable("429", retry_after=12.0)), LIMITS) == 12.0
    assert retry_wait(_state(1, InventoryUnavailable("503", retry_after=3600.0)), LIMITS) == 30.0
    assert retry_wait(_state(9, InventoryUnavailable("503")), LIMITS) == 30.0
