"""Inbound partner callbacks: a partner pushes its own changes as signed webhooks; each becomes a command.

The adapter has verified the signature; here the event is applied once: its webhook-id is recorded in the
same transaction as the command, and a redelivered event gets the first result back without a second effect.
An event the command refuses (unknown type, bad data, no such subscription, a transition the lifecycle rules
out) is remembered with its refusal just the same: a redelivery gets that refusal again and is not applied,
even if the subscription has changed meanwhile so that it would now succeed. A partner with a change to make
after a refusal sends a new message, with a webhook-id of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields
from sqlalchemy.orm import Session

from contracts.subscriptions import CancelSchema, ChangePlanSchema, ResumeSchema, SuspendSchema
from gateway.domain.errors import InvalidInput
from gateway.domain.lifecycle import Actor, Command, cancellation_command
from gateway.services import subscriptions as subscription_service
from gateway.store.models import InboundEvent, Subscription


def _cancel_command(data: Mapping[str, Any]) -> tuple[Command, str, str | None]:
    return cancellation_command(data["when"], data["reason"], field="data.reason"), data["reason"], None


# inbound type -> (the data it carries besides subscription_id, how that becomes command, reason, plan)
INBOUND_TYPES: dict[str, tuple[type[Schema], Callable[[Mapping[str, Any]], tuple[Command, str, str | None]]]] = {
    "subscription.suspend": (SuspendSchema, lambda data: (Command.SUSPEND, data["reason"], None)),
    "subscription.resume": (ResumeSchema, lambda data: (Command.RESUME, data["reason"], None)),
    "subscription.cancel": (CancelSchema, _cancel_command),
    "subscription.change_plan": (ChangePlanSchema, lambda data: (Command.CHANGE_PLAN, "", data["plan"])),
}


class _Target(Schema):
    subscription_id = fields.String(required=True)


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
    data: Mapping[str, Any],
    now: datetime,
    present: Callable[[Subscription], dict],
) -> dict:
    """Apply one inbound event and remember it; the result body (also given to later duplicates)."""
    if event_type not in INBOUND_TYPES:
        raise InvalidInput({"type": f"Unknown callback type; known: {', '.join(sorted(INBOUND_TYPES))}."})
    schema, to_command = INBOUND_TYPES[event_type]
    try:
        target = _Target().load({"subscription_id": data.get("subscription_id")})
        loaded = schema().load({key: value for key, value in data.items() if key != "subscription_id"})
    except ValidationError as error:
        raise InvalidInput({f"data.{name}": "; ".join(map(str, problems)) for name, problems in _flat(error)}) from None
    command, reason, plan = to_command(loaded)
    subscription = subscription_service.get_subscription(
        session, target["subscription_id"], partner_code=partner_code, for_update=True
    )
    subscription_service.apply_command(
        session, subscription, command, actor=Actor.PARTNER, reason=reason, now=now, plan=plan
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


def _flat(error: ValidationError):
    messages = error.messages if isinstance(error.messages, dict) else {"_": error.messages}
    for name, problems in messages.items():
        yield name, problems if isinstance(problems, list) else [problems]
