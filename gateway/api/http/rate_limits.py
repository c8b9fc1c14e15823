"""Surge protection: every partner spends its own request budget per audience, counted by `limits`.

Counts live in memory by default (one count per process: each gunicorn worker keeps its own) or, with
GATEWAY_RATE_LIMIT_STORAGE_URL=redis://…, in Redis, shared by every worker and instance. Over budget, a
request gets a 429 problem with Retry-After; every limited response carries the X-RateLimit-* headers.
If the counter store is unreachable, requests go through unlimited and the failure is logged: surge
protection must not become the outage it protects against.

Why `limits` itself rather than Flask-Limiter, which is built on it: with an active budget, Flask-Limiter's
per-request machinery (limit resolution, exemption scopes, its request context) doubled the app's own time
on the status lookup, the call partners make most. Here a request costs one counter hit (see LocalCounter).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from functools import cache
from typing import NamedTuple

from flask import Flask, Response, g, request
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, SlidingWindowCounterRateLimiter

from gateway.api.http.auth import request_principal
from gateway.domain.rate_limits import budget_for, parse_audience_budgets
from gateway.http.problems import problem
from gateway.services.keys import AuthenticationFailed, PartnerSuspended

EXTENSION = "gateway.rate_limits"
STRATEGIES = ("sliding-window-counter", "fixed-window")
_WINDOW = "rate_window"
# Top-level blueprint name -> the audience whose budget its requests spend (an audience's view modules are
# blueprints nested in it: a request's blueprint is e.g. "partner.subscriptions").
AUDIENCE_OF_BLUEPRINT = {
    "partner": "partner",
    "callcenter": "callcenter",
    "console": "callcenter",  # the agent console is the call center's own page
    "service": "service",
    "admin": "admin",
    # The TM Forum APIs are the partner API in another shape: the same keys spend the same budget.
    "tmf_inventory": "partner",
    "tmf_ordering": "partner",
}
log = logging.getLogger("gateway.rate_limits")


class Budget(NamedTuple):
    """What the current request spends: whose bucket, on which audience, within which limit."""

    owner: str
    audience: str
    limit: str


class Window(NamedTuple):
    """One window of a budget after a hit: whether the request fits, what is left, when it frees up."""

    allowed: bool
    remaining: int
    reset_at: float  # Unix seconds: when this window ends
    retry_at: float  # Unix seconds: when a refused request would fit


class LocalCounter:
    """Counts in this process: a fixed window, or two of them weighted into a sliding one.

    `limits` has a memory storage too, but it starts a timer thread every 10 ms under load and goes through
    several wrappers per call; here a hit is a dictionary update under a lock. Counters are few (partners x
    audiences x windows), so nothing needs sweeping.
    """

    def __init__(self, sliding: bool) -> None:
        self.sliding = sliding
        self._windows: dict[tuple, tuple[float, int, int]] = {}  # key -> (window start, previous count, count)
        self._lock = threading.Lock()

    def hit(self, item: RateLimitItem, owner: str, audience: str) -> Window:
        seconds, amount, now = item.get_expiry(), item.amount, time.time()
        start = now - now % seconds
        key = (owner, audience, amount, seconds)
        with self._lock:
            known_start, previous, count = self._windows.get(key, (start, 0, 0))
            if known_start < start:  # a new window: the last one's count becomes the previous one
                previous, count = (count if known_start == start - seconds else 0), 0
            # Sliding: the previous window still weighs as much of it as lies within the last `seconds`.
            weight = (1 - (now - start) / seconds) if self.sliding else 0.0
            allowed = previous * weight + count + 1 <= amount
            if allowed:
                count += 1
            self._windows[key] = (start, previous, count)
        remaining = max(0, math.floor(amount - previous * weight - count))
        return Window(allowed, remaining, start + seconds, self._frees_up_at(start, seconds, amount, previous, count))

    def _frees_up_at(self, start: float, seconds: int, amount: int, previous: int, count: int) -> float:
        """When one more request fits: the window's end, or sooner on a sliding window that is full only
        because of the previous window's weight, which falls as time passes."""
        if self.sliding and previous and count < amount:
            return start + seconds * (1 - (amount - 1 - count) / previous)
        return start + seconds


class SharedCounter:
    """Counts in a `limits` storage (Redis), shared by every process that uses it."""

    def __init__(self, url: str, sliding: bool) -> None:
        self.storage = storage_from_string(url)
        strategy = SlidingWindowCounterRateLimiter if sliding else FixedWindowRateLimiter
        self.limiter = strategy(self.storage)

    def hit(self, item: RateLimitItem, owner: str, audience: str) -> Window:
        allowed = self.limiter.hit(item, owner, audience)
        stats = self.limiter.get_window_stats(item, owner, audience)
        return Window(allowed, stats.remaining, stats.reset_time, stats.reset_time)


def _counter(url: str, strategy: str) -> LocalCounter | SharedCounter:
    if strategy not in STRATEGIES:
        raise ValueError(f"GATEWAY_RATE_LIMIT_STRATEGY={strategy!r}: use one of {', '.join(STRATEGIES)}")
    sliding = strategy == "sliding-window-counter"
    return LocalCounter(sliding) if url == "memory://" else SharedCounter(url, sliding)


@cache
def _items(limit: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(limit))


class RequestBudgets:
    """Counts each request against its budget before the view runs, and says how much is left after."""

    def __init__(self, settings: dict) -> None:
        self.defaults = parse_audience_budgets(settings["RATE_LIMITS"])
        self.counter = _counter(settings["RATE_LIMIT_STORAGE_URL"], settings["RATE_LIMIT_STRATEGY"])
        self._store_failure_logged_at = -math.inf

    def budget(self) -> Budget | None:
        """The current request's budget, or None when no limit applies."""
        current = request._get_current_object()
        audience = AUDIENCE_OF_BLUEPRINT.get((current.blueprint or "").partition(".")[0])
        # Requests without a usable key are refused by the view with a 401 after one indexed read; they
        # spend no budget.
        if audience is None or "Authorization" not in current.headers:
            return None
        try:
            principal = request_principal()
        except (AuthenticationFailed, PartnerSuspended):
            return None
        limit = budget_for(audience, self.defaults, principal.rate_limits)
        if limit is None:
            return None
        # Per partner, whichever of its keys calls; service and operator keys count one by one.
        owner = f"partner:{principal.partner_code}" if principal.partner_code else f"key:{principal.key_prefix}"
        return Budget(owner, audience, limit)

    def spend(self) -> Response | None:
        """before_request: count the request; a 429 problem when a window of its budget is full."""
        budget = self.budget()
        if budget is None:
            return None
        try:
            for item in _items(budget.limit):
                window = self.counter.hit(item, budget.owner, budget.audience)
                # The headers describe the tightest window: the one a client runs into first.
                shown = g.get(_WINDOW)
                if not window.allowed or shown is None or window.remaining < shown[1].remaining:
                    g.rate_window = (item, window)
                if not window.allowed:
                    return self._refusal(budget, item)
        except Exception:  # the counter store is down or refused us: let the request through
            self._log_store_failure()
            g.pop(_WINDOW, None)
        return None

    def _refusal(self, budget: Budget, item: RateLimitItem) -> Response:
        partner = budget.owner.partition(":")[2]
        return problem(
            "rate-limited",
            f"Too many requests: the {budget.audience} budget of {partner} ({budget.limit}) is spent. "
            f"Retry after the number of seconds in Retry-After.",
            extensions={"limit": str(item)},
        )

    def add_headers(self, response: Response) -> Response:
        """after_request: how much of the window is left, and when to come back once it is spent."""
        window = g.get(_WINDOW)
        if window is not None:
            item, counted = window
            # add, not set: only this hook writes these headers, and set() first searches the list for them.
            headers = response.headers
            headers.add("X-RateLimit-Limit", str(item.amount))
            headers.add("X-RateLimit-Remaining", str(counted.remaining))
            headers.add("X-RateLimit-Reset", str(math.ceil(counted.reset_at)))
            if response.status_code == 429:
                headers.add("Retry-After", str(max(1, math.ceil(counted.retry_at - time.time()))))
        return response

    def _log_store_failure(self) -> None:
        # Once a minute at most: with the store down every request would say it again.
        now = time.monotonic()
        if now - self._store_failure_logged_at >= 60:
            self._store_failure_logged_at = now
            log.warning("rate limit counters unreachable: requests go through unlimited", exc_info=True)


def install_rate_limits(app: Flask) -> RequestBudgets:
    budgets = RequestBudgets(app.config["GATEWAY"])
    app.before_request(budgets.spend)
    app.after_request(budgets.add_headers)
    app.extensions[EXTENSION] = budgets
    return budgets
