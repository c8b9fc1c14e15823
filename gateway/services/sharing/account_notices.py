"""Per-account sharing notices the service sends once a policy is in effect in the member's market: household
verification required, extra member added (at the policy's extra-member price) or removed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from gateway.domain.errors import Conflict, InvalidInput
from gateway.domain.lifecycle import Actor, Status
from gateway.domain.sharing import extra_member_refusal
from gateway.services.notice_text import Money
from gateway.services.sharing.policies import policy_in_effect
from gateway.services.subscriptions import get_subscription, record_subscription_notice
from gateway.store.models import OutboxEvent, Subscription

HOUSEHOLD_VERIFICATION = "household_verification_required"
EXTRA_MEMBER_ADDED = "extra_member_added"
EXTRA_MEMBER_REMOVED = "extra_member_removed"
ACCOUNT_NOTICES = (HOUSEHOLD_VERIFICATION, EXTRA_MEMBER_ADDED, EXTRA_MEMBER_REMOVED)
# A sharing notice is about a membership the member still has.
NOTICE_STATUSES = (Status.ACTIVE, Status.SUSPENDED, Status.CANCELLATION_SCHEDULED)
VERIFY_WITHIN = timedelta(days=14)


def send_account_notice(
    session: Session, subscription_id: str, kind: str, *, now: datetime, verify_by: datetime | None = None
) -> OutboxEvent:
    """Tell the partner (and, through the notice text, the member) about the account's household or extra
    member: household verification required, extra member added or removed."""
    if kind not in ACCOUNT_NOTICES:
        raise InvalidInput({"type": f"One of: {', '.join(ACCOUNT_NOTICES)}."})
    if verify_by is not None and kind != HOUSEHOLD_VERIFICATION:
        raise InvalidInput({"verify_by": f"Only for {HOUSEHOLD_VERIFICATION}."})
    if verify_by is not None and verify_by <= now:
        raise InvalidInput({"verify_by": "A time in the future."})
    subscription = get_subscription(session, subscription_id, for_update=True)
    if subscription.status not in NOTICE_STATUSES:
        raise Conflict(
            f"Subscription {subscription_id} is {subscription.status}: sharing notices are for active, "
            "suspended or cancellation_scheduled subscriptions.",
            current_status=subscription.status,
        )
    if policy_in_effect(session, subscription.market) is None:
        # The embargo: before a policy covering the market is announced and in effect, a notice about the
        # member's household or extra member would tell the partner, and the member, what nobody may know yet.
        raise Conflict(
            f"No sharing policy is in effect in {subscription.market}: per-account sharing notices go out once "
            "one covering the member's market has taken effect."
        )
    data: dict[str, Any] = {}
    context: dict[str, Any] = {}
    if kind == HOUSEHOLD_VERIFICATION:
        deadline = (verify_by or now + VERIFY_WITHIN).astimezone(UTC)
        data, context = {"verify_by": deadline.isoformat()}, {"verify_by": deadline}
    elif kind == EXTRA_MEMBER_ADDED:
        price = _extra_member_price(session, subscription)
        data, context = {"price": price}, {"price": Money(Decimal(price["amount"]), price["currency"])}
    return record_subscription_notice(
        session,
        subscription,
        f"sharing.{kind}",
        reason=kind,
        actor=Actor.SERVICE,
        now=now,
        data=data,
        context=context,
    )


def _extra_member_price(session: Session, subscription: Subscription) -> dict[str, str]:
    policy = policy_in_effect(session, subscription.market)
    if policy is None:
        raise Conflict(f"No sharing policy in effect covers {subscription.market}.")
    offer = policy.extra_member
    refusal = extra_member_refusal(
        billed_by=subscription.billed_by,
        plan=subscription.plan,
        market=subscription.market,
        plans=offer["plans"],
        prices=offer["prices"],
    )
    if refusal is not None:
        raise Conflict(refusal)
    return dict(offer["prices"][subscription.market])
