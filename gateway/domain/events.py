"""The events the gateway emits: one registry of their types, which the published catalog (contracts.events)
documents entry for entry (a test holds the two together), and the one way an event is put together, whichever
writer records it (gateway.services.outbox): its envelope, and the data of a lifecycle change."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any


class EventType(enum.StrEnum):
    # A subscription's creation: sent only to endpoints that ask for it by type (OPT_IN_EVENT_TYPES)
    SUBSCRIPTION_CREATED = "subscription.created"
    # A subscription's lifecycle (gateway.domain.lifecycle)
    SUBSCRIPTION_ACTIVATED = "subscription.activated"
    SUBSCRIPTION_PLAN_CHANGED = "subscription.plan_changed"
    SUBSCRIPTION_SUSPENDED = "subscription.suspended"
    SUBSCRIPTION_RESUMED = "subscription.resumed"
    SUBSCRIPTION_CANCELLATION_SCHEDULED = "subscription.cancellation_scheduled"
    SUBSCRIPTION_CANCELLATION_REVERTED = "subscription.cancellation_reverted"
    SUBSCRIPTION_CANCELLED = "subscription.cancelled"
    SUBSCRIPTION_REACTIVATED = "subscription.reactivated"
    SUBSCRIPTION_PURGED = "subscription.purged"
    # A member's account: inactivity and data retention
    ACCOUNT_INACTIVITY_WARNING = "account.inactivity_warning"
    ACCOUNT_KEEP_CONFIRMED = "account.keep_confirmed"
    ACCOUNT_RETENTION_EXPIRING = "account.retention_expiring"
    # Sharing policy: one account's household and extra members, and announcements to a partner
    SHARING_HOUSEHOLD_VERIFICATION_REQUIRED = "sharing.household_verification_required"
    SHARING_EXTRA_MEMBER_ADDED = "sharing.extra_member_added"
    SHARING_EXTRA_MEMBER_REMOVED = "sharing.extra_member_removed"
    SHARING_POLICY_ANNOUNCED = "sharing.policy_announced"
    SHARING_POLICY_EFFECTIVE = "sharing.policy_effective"
    SHARING_ACKNOWLEDGEMENT_REMINDER = "sharing.acknowledgement_reminder"
    # A call-center escalation, as the service handles it
    ESCALATION_UPDATED = "escalation.updated"
    # A TMF622 product order placed by the partner (gateway.domain.product_orders)
    PRODUCT_ORDER_STATE_CHANGED = "product_order.state_changed"
    # An operator's test of a partner's endpoint
    GATEWAY_TEST = "gateway.test"


# Event types an endpoint receives only when it names them (a TM Forum hub filtering for ProductCreateEvent):
# an endpoint that filters nothing never gets them. A partner creating a subscription knows it did, so today's
# webhook endpoints keep exactly the traffic they had; a TMF listener needs the creation as an event of its own.
OPT_IN_EVENT_TYPES = frozenset({EventType.SUBSCRIPTION_CREATED})

# Every type's name, to look up a text such as an article's related events (`"x" in EventType` raises before
# Python 3.12).
EVENT_TYPE_NAMES = frozenset(event_type.value for event_type in EventType)


def subscription_ref(subscription_id: str, partner_ref: str) -> dict[str, str]:
    """How an event names the subscription it is about: the gateway's id and the partner's own reference."""
    return {"id": subscription_id, "partner_ref": partner_ref}


def envelope(
    *,
    event_id: str,
    event_type: str,
    occurred_at: datetime,
    partner_code: str,
    data: dict[str, Any],
    subscription: dict[str, str] | None = None,
    sequence: int | None = None,
) -> dict[str, Any]:
    """An event as its partner receives it. An event about one subscription names it (`subscription_ref`) and
    carries its `sequence`, the place of the change in that subscription's history; other events carry neither.

    The keys keep this order: the stored JSON, and so what a partner reads, is the same text for every writer.
    """
    payload: dict[str, Any] = {
        "id": event_id,
        "type": event_type,
        "occurred_at": occurred_at.isoformat(),
        "partner": partner_code,
    }
    if subscription is not None:
        payload["subscription"] = subscription
        payload["sequence"] = sequence
    payload["data"] = data
    return payload


def creation_event_data(
    *,
    status: str,
    actor: str,
    plan: str,
    market: str,
    locale: str,
    billed_by: str,
    billing_anchor: date,
    activation_expires_at: datetime,
) -> dict[str, Any]:
    """The `data` of subscription.created: where the new subscription stands and what it was created with."""
    return {
        "status": status,
        "reason": "created",
        "actor": actor,
        "plan": plan,
        "market": market,
        "locale": locale,
        "billed_by": billed_by,
        "billing_anchor": billing_anchor.isoformat(),
        "activation_expires_at": activation_expires_at.isoformat(),
    }


def change_event_data(
    *,
    status: str,
    previous_status: str,
    reason: str,
    actor: str,
    effective_at: datetime,
    plan: str,
    details: Mapping[str, Any],
    notice: Mapping[str, str] | None,
) -> dict[str, Any]:
    """The `data` of the event reporting one lifecycle change (a command of the transition table), whoever
    applies it, one subscription at a time or a campaign's thousands: where the subscription went and came
    from, why and at whose word, when the change takes hold, its plan afterwards, the command's own `details`
    (as JSON), and the member's text when the change has one."""
    data = {
        "status": status,
        "previous_status": previous_status,
        "reason": reason,
        "actor": actor,
        "effective_at": effective_at.isoformat(),
        "plan": plan,
        **details,
    }
    if notice is not None:
        data["notice"] = notice
    return data
