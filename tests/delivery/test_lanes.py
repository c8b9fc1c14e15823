"""Lanes on their own: how many requests each endpoint has in flight, and the pace that sizes its lane."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest

from gateway.delivery.dispatcher import FIRST_WAITING_PER_LANE, MOST_WAITING_PER_LANE, waiting_room
from gateway.delivery.lanes import Lanes, Request

LEASE_ENDS = datetime(2030, 1, 1, tzinfo=UTC)


class SlowEndpoints:
    """A send that takes `seconds` for each endpoint, noting how many requests each has in flight at most."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds
        self.in_flight: dict[str, int] = dict.fromkeys(seconds, 0)
        self.most_in_flight: dict[str, int] = dict.fromkeys(seconds, 0)
        self.given_back: list[Request] = []
        self.sent: list[tuple[str, int]] = []

    async def send(self, request: Request) -> bool:
        endpoint = request.endpoint_id
        self.in_flight[endpoint] += 1
        self.most_in_flight[endpoint] = max(self.most_in_flight[endpoint], self.in_flight[endpoint])
        await asyncio.sleep(self.seconds[endpoint])
        self.in_flight[endpoint] -= 1
        self.sent.append((endpoint, request.deliveries[0]))
        return False

    def give_back(self, requests: list[Request]) -> None:
        self.given_back += requests


@pytest.fixture
def lanes_for():
    opened = []

    def make(endpoints: SlowEndpoints, per_endpoint: int = 2) -> Lanes:
        lanes = Lanes(
            per_endpoint=per_endpoint,
            concurrency=16,
            give_up_after=5,
            send=endpoints.send,
            give_back=endpoints.give_back,
        )
        lanes.open()
        opened.append(lanes)
        return lanes

    yield make
    for lanes in opened:
        lanes.wait_idle(timeout=5)
        lanes.close()


def requests(endpoint: str, count: int) -> list[Request]:
    return [Request(endpoint, [index], LEASE_ENDS) for index in range(count)]


def test_each_endpoint_has_at_most_its_limit_in_flight_and_its_pace_is_kept_after_its_lane_empties(lanes_for):
    endpoints = SlowEndpoints({"fast": 0.01, "slow": 0.2})
    lanes = lanes_for(endpoints, per_endpoint=2)
    lanes.add(requests("fast", 10) + requests("slow", 4))
    assert lanes.wait_idle(timeout=5)

    assert endpoints.most_in_flight == {"fast": 2, "slow": 2}
    assert lanes.load() == {}  # both lanes are empty, and forgotten
    pace = lanes.pace()
    assert 0.01 <= pace["fast"] < 0.1
    assert 0.2 <= pace["slow"] < 0.4
    assert endpoints.given_back == []


def test_pace_is_a_moving_average_that_follows_an_endpoint_slowing_down(lanes_for):
    endpoints = SlowEndpoints({"partner": 0.01})
    lanes = lanes_for(endpoints, per_endpoint=1)
    lanes.add(requests("partner", 3))
    assert lanes.wait_idle(timeout=5)
    quick = lanes.pace()["partner"]

    endpoints.seconds["partner"] = 0.2
    lanes.add(requests("partner", 6))
    assert lanes.wait_idle(timeout=5)
    # Six requests of 0.2 s move the average most of the way (0.15 s), not all of it.
    assert quick < 0.05 < 0.1 < lanes.pace()["partner"] < 0.2


def test_a_lane_holds_what_its_endpoint_sends_in_half_a_second_within_bounds():
    # Before any send is timed: a first guess, deeper for single events than for batches.
    assert waiting_room(None, batch=False, in_flight=4) == FIRST_WAITING_PER_LANE[False]
    assert waiting_room(None, batch=True, in_flight=4) == FIRST_WAITING_PER_LANE[True]
    # A partner answering in 100 ms, 4 requests at a time, gets through 20 requests in half a second.
    assert waiting_room(0.1, batch=False, in_flight=4) == 20
    assert waiting_room(0.1, batch=True, in_flight=4) == 20
    # A fast one is capped, so a claim does not read far ahead into the backlog for one endpoint ...
    assert waiting_room(0.0005, batch=False, in_flight=4) == MOST_WAITING_PER_LANE[False]
    assert waiting_room(0.0005, batch=True, in_flight=4) == MOST_WAITING_PER_LANE[True]
    # ... and one taking seconds a request keeps one waiting, not dozens whose leases would run out unsent.
    assert waiting_room(5.0, batch=False, in_flight=4) == 1
    assert waiting_room(0.0, batch=True, in_flight=1) == MOST_WAITING_PER_LANE[True]


def test_requests_added_from_another_thread_are_all_sent(lanes_for):
    endpoints = SlowEndpoints({"a": 0.001, "b": 0.001})
    lanes = lanes_for(endpoints)
    adders = [threading.Thread(target=lanes.add, args=(requests(name, 20),)) for name in ("a", "b")]
    for adder in adders:
        adder.start()
    for adder in adders:
        adder.join()
    assert lanes.wait_idle(timeout=5)
    assert sorted(endpoints.sent) == sorted((name, index) for name in ("a", "b") for index in range(20))
