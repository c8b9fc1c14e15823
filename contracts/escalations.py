"""Escalation shapes: what call-center agents send to open, follow and settle a case, and what operators send to
work on it."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.common import NOT_BLANK, PageQuerySchema, PageSchema, PartnerRef
from contracts.partners import locale_field
from gateway.domain.escalations import Category, Priority, Side, Status

CATEGORIES = [str(category) for category in Category]
PRIORITIES = [str(priority) for priority in Priority]
STATUSES = [str(status) for status in Status]
TEXT_LIMIT = 4000


def _text(description: str, **options) -> fields.String:
    return fields.String(
        validate=[validate.Length(min=1, max=TEXT_LIMIT), NOT_BLANK], metadata={"description": description}, **options
    )


def _agent_ref(description: str, **options) -> fields.String:
    return fields.String(
        validate=[validate.Length(min=1, max=100), NOT_BLANK],
        metadata={"description": description, "example": "agent-0042"},
        **options,
    )


def _partner_ref(description: str, **options) -> PartnerRef:
    return PartnerRef(metadata={"description": description}, **options)


# -- requests ------------------------------------------------------------------------------------------------------


class EscalationCreateSchema(Schema):
    partner_ref = _partner_ref("The subscriber, by the partner's own reference.", required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES), metadata={"example": "billing"})
    priority = fields.String(
        load_default=str(Priority.NORMAL),
        validate=validate.OneOf(PRIORITIES),
        metadata={"description": "Sets the SLA due time (GATEWAY_ESCALATION_SLA); normal when absent."},
    )
    description = _text("What the customer reported and what the agent has checked.", required=True)
    agent_ref = _agent_ref("The agent opening the case.", required=True)
    locale = locale_field()  # the language the agent writes in; the partner's default when absent


class PartnerCommentSchema(Schema):
    agent_ref = _agent_ref("The agent writing.", required=True)
    comment = _text("Plain text.", required=True)


class CloseSchema(Schema):
    agent_ref = _agent_ref("The agent closing the resolved case.", required=True)
    comment = _text("Optional: e.g. the customer confirmed it is settled.")


class ReopenSchema(Schema):
    agent_ref = _agent_ref("The agent reopening the resolved case.", required=True)
    comment = _text("Why the case is not settled.", required=True)


class ServiceCommentSchema(Schema):
    comment = _text("Plain text.", required=True)
    author = _agent_ref("Who writes, on the service's side; the operator key's prefix when absent.")


class ServiceActionSchema(Schema):
    comment = _text("Optional note shown to the partner.")
    author = _agent_ref("Who acts, on the service's side; the operator key's prefix when absent.")


class ResolveSchema(Schema):
    comment = _text("What was done: the partner's agent reads it to the customer.", required=True)
    author = _agent_ref("Who resolves, on the service's side; the operator key's prefix when absent.")


class EscalationListQuerySchema(PageQuerySchema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    partner_ref = _partner_ref("Only this subscriber's escalations.")
    overdue = fields.Boolean(
        metadata={"description": "true: unresolved and past the SLA due time; false: everything else."}
    )


class AdminEscalationListQuerySchema(EscalationListQuerySchema):
    partner = fields.String(validate=validate.Length(min=2, max=32), metadata={"description": "A partner code."})


# -- responses -----------------------------------------------------------------------------------------------------


class EscalationSubscriberSchema(Schema):
    id = fields.String(required=True, metadata={"description": "The gateway's subscription id."})
    partner_ref = fields.String(required=True)


class EscalationSchema(Schema):
    id = fields.String(required=True, metadata={"example": "esc_4a8c2e6f0b1d3f5a7c90"})
    partner = fields.String(required=True, metadata={"description": "The partner code."})
    subscription = fields.Nested(EscalationSubscriberSchema, required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    priority = fields.String(required=True, validate=validate.OneOf(PRIORITIES))
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    description = fields.String(required=True)
    agent_ref = fields.String(required=True, metadata={"description": "The agent who opened it."})
    locale = fields.String(required=True)
    sla_due_at = fields.DateTime(
        required=True, metadata={"description": "When it should be resolved; restarted when it is reopened."}
    )
    overdue = fields.Boolean(required=True, metadata={"description": "Unresolved and past sla_due_at."})
    allowed_actions = fields.List(
        fields.String(), required=True, metadata={"description": "The status actions the caller's side may take now."}
    )
    version = fields.Integer(required=True, metadata={"description": "Grows with every change; the ETag."})
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    resolved_at = fields.DateTime(required=True, allow_none=True)
    closed_at = fields.DateTime(required=True, allow_none=True)


class EscalationEntrySchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["opened", "status", "comment"]))
    side = fields.String(required=True, validate=validate.OneOf([str(side) for side in Side]))
    author = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "Who made the entry: the partner's agent, or the person on the service's side. In the "
            "call-center API null when the service acted without naming a person (the operator's key is never "
            "shown to a partner); the operator API shows the key prefix (key:…) then."
        },
    )
    from_status = fields.String(required=True, allow_none=True)
    to_status = fields.String(required=True, allow_none=True)
    comment = fields.String(required=True, allow_none=True)
    occurred_at = fields.DateTime(required=True)


class EscalationDetailSchema(EscalationSchema):
    history = fields.List(
        fields.Nested(EscalationEntrySchema),
        required=True,
        metadata={"description": "Oldest first: the opening, every status change and every comment."},
    )


class EscalationPageSchema(PageSchema):
    items = fields.List(fields.Nested(EscalationSchema), required=True)
