"""What a partner's callback asks for: its type and data, read with the contract's schemas into a change of one
subscription (the service applies it: gateway.services.callbacks)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields

from contracts.subscriptions import CancelSchema, ChangePlanSchema, ResumeSchema, SuspendSchema
from gateway.domain.errors import InvalidInput
from gateway.domain.lifecycle import Command, cancellation_command
from gateway.services.callbacks import AskedChange


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


def read_callback(event_type: str, data: Mapping[str, Any]) -> AskedChange:
    """The change a callback of `event_type` asks for; InvalidInput naming the type or each bad `data.` field."""
    if event_type not in INBOUND_TYPES:
        raise InvalidInput({"type": f"Unknown callback type; known: {', '.join(sorted(INBOUND_TYPES))}."})
    schema, to_command = INBOUND_TYPES[event_type]
    try:
        target = _Target().load({"subscription_id": data.get("subscription_id")})
        loaded = schema().load({key: value for key, value in data.items() if key != "subscription_id"})
    except ValidationError as error:
        raise InvalidInput({f"data.{name}": "; ".join(map(str, problems)) for name, problems in _flat(error)}) from None
    command, reason, plan = to_command(loaded)
    return AskedChange(target["subscription_id"], command, reason, plan)


def _flat(error: ValidationError):
    messages = error.messages if isinstance(error.messages, dict) else {"_": error.messages}
    for name, problems in messages.items():
        yield name, problems if isinstance(problems, list) else [problems]
