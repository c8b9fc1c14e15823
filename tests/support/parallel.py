"""Running one call from many threads at the same moment, for the tests that race requests or schedulers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def all_at_once(count: int, call: Callable[[int], T]) -> list[T]:
    """Run `call(index)` from `count` threads released together by a barrier; the results in thread order."""
    barrier = threading.Barrier(count)

    def run(index: int) -> T:
        barrier.wait()
        return call(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))
