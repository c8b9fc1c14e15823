"""Sharing policies: an operator schedules one, lists them; what a partner is told of one; which one is in effect
in a market, and what agents may not read before one is announced.

A policy goes scheduled → announced (its partners briefed) → effective (told it is in effect); the due-notice
run moves it along (due_notices).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain.errors import InvalidInput, NotFound
from gateway.domain.ids import new_id
from gateway.domain.sharing import POLICY_ARTICLES, RULES, Offer, PolicyStatus, announce_at, check_policy
from gateway.store.models import SharingPolicy, created_after

SCHEDULED, ANNOUNCED, EFFECTIVE = PolicyStatus


def create_policy(
    session: Session,
    *,
    markets: list[str],
    rule: str,
    extra_member: dict[str, Any],
    effective_at: datetime,
    lead: timedelta,
    now: datetime,
    publish_at: datetime | None = None,
) -> SharingPolicy:
    """Schedule a policy change; partners hear of it `lead` before `effective_at`, never before `publish_at`."""
    publish_at = (publish_at or now).astimezone(UTC)
    effective_at = effective_at.astimezone(UTC)
    plans = list(extra_member.get("plans", []))
    offers = {
        market: Offer(Decimal(price["amount"]), price["currency"])
        for market, price in extra_member.get("prices", {}).items()
    }
    errors = check_policy(
        markets=markets,
        rule=rule,
        prices=offers,
        plans=plans,
        publish_at=publish_at,
        effective_at=effective_at,
        now=now,
    )
    if errors:
        raise InvalidInput(errors)
    policy = SharingPolicy(
        id=new_id("shp"),
        markets=list(markets),
        rule=rule,
        extra_member={
            "plans": plans,
            "prices": {
                market: {"amount": f"{offer.amount:.2f}", "currency": offer.currency}
                for market, offer in sorted(offers.items())
            },
        },
        publish_at=publish_at,
        effective_at=effective_at,
        announce_at=announce_at(publish_at=publish_at, effective_at=effective_at, lead=lead),
        status=SCHEDULED,
        created_at=now,
        announced_at=None,
    )
    session.add(policy)
    session.flush()
    return policy


def get_policy(session: Session, policy_id: str) -> SharingPolicy:
    policy = session.get(SharingPolicy, policy_id)
    if policy is None:
        raise NotFound("sharing policy", policy_id)
    return policy


def list_policies(
    session: Session, *, limit: int, after: tuple[datetime, str] | None = None, status: str | None = None
) -> list[SharingPolicy]:
    """Policies, oldest first, after the (created_at, id) cursor."""
    query = select(SharingPolicy).order_by(SharingPolicy.created_at, SharingPolicy.id).limit(limit)
    if after is not None:
        query = query.where(created_after(SharingPolicy, after))
    if status is not None:
        query = query.where(SharingPolicy.status == status)
    return list(session.scalars(query))


def policy_terms(policy: SharingPolicy, markets: list[str]) -> dict[str, Any]:
    """What a partner serving `markets` is told: the rule, and the extra-member offer in those markets."""
    prices = policy.extra_member["prices"]
    return {
        "rule": policy.rule,
        "rule_description": RULES[policy.rule],
        "extra_member": {
            "plans": list(policy.extra_member["plans"]),
            "prices": {market: dict(prices[market]) for market in markets if market in prices},
            "partner_billed_eligible": False,
        },
        "publish_at": policy.publish_at,
        "effective_at": policy.effective_at,
    }


def embargoed_articles(session: Session, markets: list[str]) -> frozenset[str]:
    """The FAQ articles an agent serving `markets` may not read yet: those about the sharing policy, until a
    policy covering one of those markets has been announced."""
    told = session.scalars(select(SharingPolicy.markets).where(SharingPolicy.status.in_([ANNOUNCED, EFFECTIVE])))
    if any(set(covered) & set(markets) for covered in told):
        return frozenset()
    return POLICY_ARTICLES


def policy_in_effect(session: Session, market: str) -> SharingPolicy | None:
    """The latest policy in effect that covers `market`, if any."""
    policies = session.scalars(
        select(SharingPolicy)
        .where(SharingPolicy.status == EFFECTIVE)
        .order_by(SharingPolicy.effective_at.desc(), SharingPolicy.id.desc())
    )
    return next((policy for policy in policies if market in policy.markets), None)
