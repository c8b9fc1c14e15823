"""The event types the gateway emits: one registry, which the published catalog (contracts.events) documents
entry for entry (a test holds the two together)."""

from __future__ import annotations

import enum


class EventType(enum.StrEnum):
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
    # An operator's test of a partner's endpoint
    GATEWAY_TEST = "gateway.test"


# Every type's name, to look up a text such as an article's related events (`"x" in EventType` raises before
# Python 3.12).
EVENT_TYPE_NAMES = frozenset(event_type.value for event_type in EventType)
