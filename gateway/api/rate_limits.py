"""Surge protection: every partner spends its own request budget per audience, counted by Flask-Limiter.

Counts live in memory by default (one count per process: each gunicorn worker keeps its own) or, with
GATEWAY_RATE_LIMIT_STORAGE_URL=redis://…, in Redis, shared by every worker and instance. Over budget, a
request gets a 429 problem with Retry-After; every limited response carries the X-RateLimit-* headers.
If the counter store is unreachable, requests go through unlimited and the failure is logged: surge
protection must not become the outage it protects against.
"""

from __future__ import annotations

from typing import NamedTuple

from flask import Flask, g, request
from flask_limiter import ApplicationLimit, Limiter

from gateway.api.auth import request_principal
from gateway.domain.rate_limits import AUDIENCE_OF_BLUEPRINT, budget_for, parse_audience_budgets
from gateway.services.keys import AuthenticationFailed, PartnerSuspended

EXTENSION = "gateway.rate_limits"
_BUDGET = "rate_budget"


class Budget(NamedTuple):
    """What the current request spends: whose bucket, on which audience, within which limit."""

    owner: str
    audience: str
    limit: str


def _request_budget(defaults: dict[str, str]) -> Budget | None:
    """The current request's budget, or None when no limit applies (worked out once per request)."""
    context = g._get_current_object()
    if _BUDGET in context:
        return context.get(_BUDGET)
    found = None
    current = request._get_current_object()
    audience = AUDIENCE_OF_BLUEPRINT.get(current.blueprint or "")
    # Requests without a key are refused by the view with a 401 after one indexed read; they spend no budget.
    if audience is not None and "Authorization" in current.headers:
        try:
            principal = request_principal()
        except (AuthenticationFailed, PartnerSuspended):
            principal = None
        if principal is not None:
            limit = budget_for(audience, defaults, principal.rate_limits)
            if limit is not None:
                # Per partner, whichever of its keys calls; service and operator keys count one by one.
                owner = f"partner:{principal.partner_code}" if principal.partner_code else f"key:{principal.key_prefix}"
                found = Budget(owner, audience, limit)
    setattr(context, _BUDGET, found)
    return found


def install_rate_limits(app: Flask) -> Limiter:
    settings = app.config["GATEWAY"]
    defaults = parse_audience_budgets(settings["RATE_LIMITS"])

    def budget() -> Budget:
        found = _request_budget(defaults)
        assert found is not None  # the request filter below exempts every request without one
        return found

    def over_budget_message() -> str:
        spent = budget()
        return (
            f"Too many requests: the {spent.audience} budget of {spent.owner.partition(':')[2]} "
            f"({spent.limit}) is spent. Retry after the number of seconds in Retry-After."
        )

    limiter = Limiter(
        key_func=lambda: budget().owner,
        application_limits=[
            ApplicationLimit(
                limit_provider=lambda: budget().limit,
                key_function=lambda: budget().owner,
                scope=lambda _endpoint: budget().audience,  # one bucket per owner and audience, across routes
                error_message=over_budget_message,
            )
        ],
        storage_uri=settings["RATE_LIMIT_STORAGE_URL"],
        strategy=settings["RATE_LIMIT_STRATEGY"],
        headers_enabled=True,
        swallow_errors=True,
        key_prefix="gateway",
    )
    limiter.request_filter(lambda: _request_budget(defaults) is None)
    limiter.init_app(app)
    app.extensions[EXTENSION] = limiter
    return limiter
