"""Delivery shapes: deliveries and their attempts, replays, the event feed, inbound callbacks, endpoint health."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.common import SHOWN_ONCE_ON_REPLAY, PageQuerySchema, PageSchema, secret_withheld_field
from contracts.partners import partner_code_field
from gateway.domain.delivery import DeliveryStatus, Outcome
from gateway.domain.events import EVENT_TYPE_NAMES

DELIVERY_STATUSES = [status.value for status in DeliveryStatus]
# A filter by type names one the gateway sends: a misspelt one is refused with the list, not answered with nothing.
EVENT_TYPE = {
    "validate": validate.OneOf(sorted(EVENT_TYPE_NAMES), error="Unknown event type; known: {choices}."),
    "metadata": {"example": "subscription.cancelled"},
}


class AttemptSchema(Schema):
    attempted_at = fields.DateTime(required=True)
    duration_ms = fields.Float(required=True)
    http_status = fields.Integer(required=True, allow_none=True)
    error_class = fields.String(required=True, allow_none=True, metadata={"example": "ReadTimeout"})
    response_excerpt = fields.String(
        required=True, allow_none=True, metadata={"description": "The start of the partner's answer (2 KB at most)."}
    )
    outcome = fields.String(required=True, validate=validate.OneOf([outcome.value for outcome in Outcome]))


class DeliverySchema(Schema):
    id = fields.Integer(required=True)
    event_id = fields.String(
        required=True, attribute="webhook_id", metadata={"description": "The webhook-id the partner receives."}
    )
    event_type = fields.String(required=True)
    partner = fields.String(required=True, attribute="partner_code")
    endpoint_id = fields.String(required=True)
    subscription_id = fields.String(required=True, allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(DELIVERY_STATUSES))
    attempts = fields.Integer(required=True, metadata={"description": "Rounds tried since the last (re)play."})
    next_attempt_at = fields.DateTime(required=True, allow_none=True)
    last_error = fields.String(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(required=True, allow_none=True)


class DeliveryDetailSchema(DeliverySchema):
    event = fields.Dict(required=True, metadata={"description": "The event exactly as it is sent."})
    attempt_log = fields.List(fields.Nested(AttemptSchema), required=True)


class DeliveryPageSchema(PageSchema):
    items = fields.List(fields.Nested(DeliverySchema), required=True)


class DeliveryFilterSchema(Schema):
    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))
    type = fields.String(**EVENT_TYPE)
    since = fields.AwareDateTime(metadata={"description": "Created at or after (ISO 8601 with offset)."})
    until = fields.AwareDateTime(metadata={"description": "Created before."})


class PartnerDeliveryQuerySchema(PageQuerySchema, DeliveryFilterSchema):
    pass


class AdminDeliveryQuerySchema(PartnerDeliveryQuerySchema):
    partner = partner_code_field()


class ReplaySchema(DeliveryFilterSchema):
    partner = partner_code_field(required=True)
    status = fields.String(load_default="dead", validate=validate.OneOf(["dead", "delivered"]))


class ReplayResultSchema(Schema):
    replayed = fields.Integer(required=True)


class EventFeedQuerySchema(Schema):
    after = fields.String(
        validate=validate.Length(min=1, max=500),
        metadata={"description": "The `next_cursor` of the previous page; from the oldest kept event when absent."},
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    type = fields.String(**EVENT_TYPE)


class EventFeedSchema(Schema):
    items = fields.List(fields.Dict(), required=True, metadata={"description": "Events as webhooks carry them."})
    next_cursor = fields.String(
        required=True,
        metadata={"description": "Pass as `after` to continue; the same cursor again when nothing is new yet."},
    )


class TestEventSchema(Schema):
    event_id = fields.String(
        required=True, metadata={"description": "The webhook-id the test event arrives with, and its feed id."}
    )
    event_type = fields.String(required=True, metadata={"example": "gateway.test"})
    endpoint_ids = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "The partner's enabled webhook endpoints when the event was recorded: a dispatcher "
            "delivers it to each, signed like every notice. Empty: the event is only in the feed (GET /v1/events)."
        },
    )


class OperatorEventSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"example": "endpoint.disabled"})
    partner = fields.String(required=True, allow_none=True, attribute="partner_code")
    endpoint_id = fields.String(required=True, allow_none=True)
    detail = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class OperatorEventQuerySchema(Schema):
    since = fields.AwareDateTime()
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class OperatorEventListSchema(Schema):
    items = fields.List(fields.Nested(OperatorEventSchema), required=True)


class CallbackResultSchema(Schema):
    event_id = fields.String(required=True)
    event_type = fields.String(required=True)
    outcome = fields.String(required=True, metadata={"description": "applied, or duplicate for a redelivery."})
    subscription = fields.Dict(required=True, metadata={"description": "The subscription after the command."})


class InboundSecretSchema(Schema):
    secret = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "whsec_...: sign callbacks to POST /v1/callbacks with it. Shown once. "
            + SHOWN_ONCE_ON_REPLAY
        },
    )
    secret_withheld = secret_withheld_field("POST /admin/v1/partners/{code}/inbound-secret again")
