"""Inbound partner callbacks: a partner pushes its own changes as signed webhooks; each becomes a command.

The adapter has verified the signature; here the event is applied once: its webhook-id is recorded in the
same transaction as the command, and a redelivered event gets the first result back without a second effect.
An event the command refuses (unknown type, bad data, no such subscription, a transition the lifecycle rules
out) is remembered with its refusal just the same: a redelivery gets that refusal again and is not applied,
even if the subscription has changed meanwhile so that it would now succeed. A partner with a change to make
after a refusal sends a new message, with a webhook-id of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from gateway.domain.lifecycle import Actor, Command
from gateway.services import subscriptions as subscription_service
from gateway.store.models import InboundEvent, Subscription


@dataclass(frozen=True)
class AskedChange:
    """What a callback asks of one subscription, read from its data (gateway.api.partner.inbound)."""

    subscription_id: str
    command: Command
    reason: str
    plan: str | None = None


APPLIED = 200  # the status of an applied callback's answer
EVENT_TYPE_LENGTH = InboundEvent.__table__.c.event_type.type.length


def find_duplicate(session: Session, partner_code: str, event_id: str) -> InboundEvent | None:
    """The callback remembered under this webhook-id, applied or refused; None for a new one."""
    return session.get(InboundEvent, (partner_code, event_id))


def remember_refusal(
    session: Session,
    *,
    partner_code: str,
    event_id: str,
    event_type: str,
    status_code: int,
    problem: dict,
    now: datetime,
) -> None:
    """Remember a callback the command refused, with the refusal's status and problem body, for redeliveries."""
    session.add(
        InboundEvent(
            partner_code=partner_code,
            event_id=event_id,
            event_type=event_type[:EVENT_TYPE_LENGTH],  # an unknown type is the partner's text, of any length
            status_code=status_code,
            result=problem,
            received_at=now,
        )
    )
    session.flush()


def apply_callback(
    session: Session,
    *,
    partner_code: str,
    event_id: str,
    event_type: str,
    asked: AskedChange,
    now: datetime,
    present: Callable[[Subscription], dict],
) -> dict:
    """Apply one inbound event and remember it; the result body (also given to later duplicates)."""
    subscription = subscription_service.get_subscription(
        session, asked.subscription_id, partner_code=partner_code, for_update=True
    )
    subscription_service.apply_command(
        session, subscription, asked.command, actor=Actor.PARTNER, reason=asked.reason, now=now, plan=asked.plan
    )
    result = {"event_id": event_id, "event_type": event_type, "subscription": present(subscription)}
    session.add(
        InboundEvent(
            partner_code=partner_code,
            event_id=event_id,
            event_type=event_type,
            status_code=APPLIED,
            result=result,
            received_at=now,
        )
    )
    session.flush()
    return result
