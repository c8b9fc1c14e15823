"""Sharing-policy rules: what an announcement must say, when partners hear of it, and who may add an extra member."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from gateway.domain.countries import COUNTRY_CODES
from gateway.domain.lifecycle import PARTNER_BILLED, SERVICE_BILLED
from gateway.domain.plans import PLANS


class PolicyStatus(enum.StrEnum):
    """Where a sharing policy stands: each step is taken by the scheduler's due-notice run."""

    SCHEDULED = "scheduled"  # created; partners have not heard of it yet
    ANNOUNCED = "announced"  # partners were told, ahead of the date it takes effect
    EFFECTIVE = "effective"  # in force; partners were told that it is


# The rules a policy can bring in. Call centers read the description to customers in their own words.
RULES = {
    "one_household": "An account is shared by one household; people outside it need their own account "
    "or an extra-member slot paid by the account owner.",
}
CURRENCY = re.compile(r"^[A-Z]{3}$")  # ISO 4217 alphabetic code
# Who bills a subscription: the partner (inside its bundle) or the streaming service itself (the partner only
# provisions it). Partner-billed plans may not add an extra member: the partner has nothing to bill it with.
BILLED_BY = (PARTNER_BILLED, SERVICE_BILLED)

# FAQ articles that speak of the sharing policy as a fact: under its embargo, nobody reads them. They are hidden
# from agents (search, article, the lookup's suggestions) until a policy covering one of their markets is
# announced.
POLICY_ARTICLES = frozenset({"paid-sharing-household", "extra-member"})


@dataclass(frozen=True)
class Offer:
    amount: Decimal
    currency: str


def check_policy(
    *,
    markets: list[str],
    rule: str,
    prices: dict[str, Offer],
    plans: list[str],
    publish_at: datetime,
    effective_at: datetime,
    now: datetime,
) -> dict[str, str]:
    """Field errors of an announcement (empty when it may be scheduled)."""
    errors: dict[str, str] = {}
    if not markets:
        errors["markets"] = "Name at least one market."
    elif unknown := sorted(set(markets) - COUNTRY_CODES):
        errors["markets"] = f"Not ISO 3166-1 alpha-2 country codes: {', '.join(unknown)}."
    elif len(set(markets)) != len(markets):
        errors["markets"] = "A market is named twice."
    if rule not in RULES:
        errors["rule"] = f"One of: {', '.join(sorted(RULES))}."
    if outside := sorted(set(prices) - set(markets)):
        errors["extra_member.prices"] = f"Priced in markets the policy does not cover: {', '.join(outside)}."
    for market, offer in sorted(prices.items()):
        if offer.amount <= 0 or offer.amount.as_tuple().exponent < -2:
            errors[f"extra_member.prices.{market}.amount"] = "A positive amount with at most two decimals."
        if not CURRENCY.match(offer.currency):
            errors[f"extra_member.prices.{market}.currency"] = "An ISO 4217 code such as EUR."
    if unknown_plans := sorted(set(plans) - set(PLANS)):
        errors["extra_member.plans"] = f"Unknown plans: {', '.join(unknown_plans)}; plans are {', '.join(PLANS)}."
    if prices and not plans:
        errors["extra_member.plans"] = "Name the plans that may add an extra member."
    if effective_at <= now:
        errors["effective_at"] = "The effective date must be in the future."
    elif publish_at > effective_at:
        errors["publish_at"] = "The embargo must lift before the policy takes effect."
    return errors


def announce_at(*, publish_at: datetime, effective_at: datetime, lead: timedelta) -> datetime:
    """Partners hear of a policy `lead` before it takes effect, but never before its publish time (embargo)."""
    return max(publish_at, effective_at - lead)


def extra_member_refusal(*, billed_by: str, plan: str, market: str, plans: list[str], prices: dict) -> str | None:
    """Why this subscription may not add an extra member under a policy in effect, or None when it may."""
    if market not in prices:
        return f"The policy in effect offers no extra member in {market}."
    if billed_by == PARTNER_BILLED:
        return "Partner-billed plans may not add an extra member."
    if plan not in plans:
        return f"The {plan} plan may not add an extra member; eligible: {', '.join(plans)}."
    return None
