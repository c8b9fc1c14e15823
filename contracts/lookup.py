"""Subscriber lookup shapes: what a call-center agent sees about one subscriber."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.common import PartnerRef
from contracts.partners import locale_field
from contracts.subscriptions import STATUSES
from gateway.domain.delivery import DeliveryStatus
from gateway.domain.lifecycle import TRANSITIONS, Actor
from gateway.domain.situation import Inactivity, NoticeDelivery


class LookupQuerySchema(Schema):
    partner_ref = PartnerRef(required=True)
    locale = locale_field()  # the agent's language; texts fall back de-AT -> de -> en; the partner's by default


class LookupSubscriptionSchema(Schema):
    id = fields.String(required=True)
    partner_ref = fields.String(required=True)
    plan = fields.String(required=True)
    pending_plan = fields.String(
        required=True, allow_none=True, metadata={"description": "A downgrade waiting for the period end."}
    )
    market = fields.String(required=True)
    locale = fields.String(required=True, metadata={"description": "The member's language."})
    billed_by = fields.String(required=True)


class StatusTextSchema(Schema):
    code = fields.String(required=True, validate=validate.OneOf(STATUSES))
    label = fields.String(required=True, metadata={"example": "Cancellation scheduled"})
    text = fields.String(required=True, metadata={"description": "What the status means for the customer."})


class ReasonTextSchema(Schema):
    code = fields.String(required=True, metadata={"example": "member_request"})
    text = fields.String(required=True, metadata={"example": "The customer asked for it."})


class InactivityTextSchema(Schema):
    state = fields.String(required=True, validate=validate.OneOf([state.value for state in Inactivity]))
    text = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "Null unless the membership is active (the only status that is ever warned) or was "
            "cancelled for inactivity (state cancelled)."
        },
    )


class KeyDatesSchema(Schema):
    joined = fields.DateTime(required=True, allow_none=True)
    last_activity = fields.DateTime(required=True, allow_none=True)
    activation_expires = fields.DateTime(required=True, allow_none=True)
    inactivity_warned = fields.DateTime(required=True, allow_none=True)
    respond_by = fields.DateTime(required=True, allow_none=True)
    cancelled = fields.DateTime(required=True, allow_none=True, metadata={"description": "Billing stopped."})
    access_until = fields.DateTime(required=True, allow_none=True)
    retention_until = fields.DateTime(required=True, allow_none=True)


class EndpointDeliverySchema(Schema):
    endpoint_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([status.value for status in DeliveryStatus]))
    attempts = fields.Integer(required=True)
    last_error = fields.String(required=True, allow_none=True)
    finished_at = fields.DateTime(required=True, allow_none=True)


class NoticeSentSchema(Schema):
    event_id = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The event's id while the feed keeps it; null once it is past the retention."},
    )
    type = fields.String(required=True, attribute="event_type")
    occurred_at = fields.DateTime(required=True)
    subject = fields.String(required=True, allow_none=True, metadata={"description": "Of the notice text, if any."})
    delivery_status = fields.String(
        required=True,
        attribute="delivery",
        validate=validate.OneOf([status.value for status in NoticeDelivery]),
        metadata={
            "description": "queued (not yet published), in_feed (no webhook endpoint; in the event feed), "
            "pending, delivered (every endpoint), dead (retries ran out somewhere), archived (sent long ago: "
            "its event and delivery records are past the feed's retention; the subscription's history keeps it)."
        },
    )
    deliveries = fields.List(fields.Nested(EndpointDeliverySchema), required=True)


class FaqLinkSchema(Schema):
    slug = fields.String(required=True)
    locale = fields.String(required=True)
    title = fields.String(required=True)


class ActorSchema(Schema):
    actor = fields.String(required=True, validate=validate.OneOf([actor.value for actor in Actor]))
    label = fields.String(required=True)


class ActionSchema(Schema):
    command = fields.String(required=True, validate=validate.OneOf([str(command) for command in TRANSITIONS]))
    label = fields.String(required=True)
    actors = fields.List(fields.Nested(ActorSchema), required=True)
    due_at = fields.DateTime(
        required=True, allow_none=True, metadata={"description": "When the scheduler does it by itself."}
    )


class OpenEscalationSchema(Schema):
    id = fields.String(required=True)
    category = fields.String(required=True)
    priority = fields.String(required=True)
    status = fields.String(required=True)
    sla_due_at = fields.DateTime(required=True)
    created_at = fields.DateTime(required=True)


class SharingStandingSchema(Schema):
    household_verify_by = fields.DateTime(
        required=True,
        allow_none=True,
        metadata={"description": "The deadline of the last household verification asked for; null if none."},
    )
    extra_member = fields.Boolean(
        required=True, metadata={"description": "An extra member was added to the account and not removed since."}
    )


class LookupSchema(Schema):
    """One subscriber's situation, in the agent's language."""

    subscription = fields.Nested(LookupSubscriptionSchema, required=True)
    locale = fields.String(required=True, metadata={"description": "The language of the texts."})
    status = fields.Nested(StatusTextSchema, required=True)
    reason = fields.Nested(ReasonTextSchema, required=True)
    inactivity = fields.Nested(InactivityTextSchema, required=True)
    dates = fields.Nested(KeyDatesSchema, required=True)
    sharing = fields.Nested(
        SharingStandingSchema,
        required=True,
        metadata={"description": "Where the account stands under the sharing policy, from the notices sent."},
    )
    notices = fields.List(
        fields.Nested(NoticeSentSchema),
        required=True,
        metadata={"description": "The newest notices sent about the subscriber, from its history; newest first."},
    )
    faq = fields.List(fields.Nested(FaqLinkSchema), required=True)
    actions = fields.List(fields.Nested(ActionSchema), required=True)
    escalations = fields.List(fields.Nested(OpenEscalationSchema), required=True)
