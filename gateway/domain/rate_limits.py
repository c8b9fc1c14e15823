"""Surge protection rules: which request budget applies to a caller, per audience, with per-partner overrides.

A budget is a `limits` expression ("600/minute", "20/second;1000/hour"). Each audience of the API has a
default (GATEWAY_RATE_LIMITS); a partner may have its own budget for any audience (set by operators on the
partner), or `unlimited`. Every partner has its own bucket per audience, so a flooded call center spends its
own budget without slowing the same partner's subscription sync, let alone another partner.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache

AUDIENCES = ("partner", "callcenter", "service", "admin")
UNLIMITED = "unlimited"
# The rate-limit notation of the `limits` library, which counts the requests (gateway.api.http.rate_limits): one or
# more `N/unit` or `N per M units`, separated by , ; or |. Written out here so the rule needs no library; a test
# holds it to what `limits` reads.
_ONE_LIMIT = r"\s*[0-9]+\s*(?:/|\s*per\s*)\s*(?:[0-9]+)?\s*(?:second|minute|hour|day|month|year)s?\s*"
BUDGET = re.compile(rf"{_ONE_LIMIT}(?:[,;|]{_ONE_LIMIT})*", re.IGNORECASE)


@cache
def check_budget(text: str) -> str:
    """The budget as given, once `limits` can read it; ValueError naming the problem otherwise."""
    if text == UNLIMITED:
        return text
    if not BUDGET.fullmatch(text):
        raise ValueError(f"{text!r} is not a rate limit: write e.g. 600/minute or 20/second;1000/hour, or {UNLIMITED}")
    return text


def parse_audience_budgets(text: str) -> dict[str, str]:
    """`callcenter=600/minute,partner=50/second` -> {audience: budget}. Audiences left out have no limit."""
    budgets: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        audience, separator, budget = item.partition("=")
        audience, budget = audience.strip(), budget.strip()
        if not separator or audience not in AUDIENCES:
            raise ValueError(f"{item!r}: expected <audience>=<limit> with an audience among {', '.join(AUDIENCES)}")
        if audience in budgets:
            raise ValueError(f"{audience} is given twice")
        budgets[audience] = check_budget(budget)
    return budgets


def partner_budget_errors(overrides: Mapping[str, str]) -> dict[str, str]:
    """Field errors for a partner's own budgets (empty when all is well)."""
    errors = {}
    for audience, budget in overrides.items():
        if audience not in AUDIENCES:
            errors[f"rate_limits.{audience}"] = f"Not an audience: use one of {', '.join(AUDIENCES)}."
            continue
        try:
            check_budget(budget)
        except ValueError as error:
            errors[f"rate_limits.{audience}"] = str(error)
    return errors


def budget_for(audience: str, defaults: Mapping[str, str], overrides: Mapping[str, str] | None) -> str | None:
    """The budget a caller spends on this audience: the partner's own, else the default; None: no limit."""
    budget = (overrides or {}).get(audience) or defaults.get(audience)
    return None if budget in (None, UNLIMITED) else budget
