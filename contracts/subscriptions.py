"""Subscription shapes: create, read, history, and the action bodies."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.common import PageQuerySchema, PageSchema, PartnerRef
from contracts.partners import locale_field
from gateway.domain.countries import COUNTRY_CODES
from gateway.domain.lifecycle import Status
from gateway.domain.partners import NOT_A_COUNTRY
from gateway.domain.plans import PLANS
from gateway.domain.sharing import BILLED_BY

STATUSES = [status.value for status in Status]


def plan_field(**options) -> fields.String:
    return fields.String(validate=validate.OneOf(PLANS), metadata={"example": "standard"}, **options)


class SubscriptionCreateSchema(Schema):
    partner_ref = PartnerRef(required=True)
    plan = plan_field(required=True)
    market = fields.String(required=True, validate=validate.OneOf(sorted(COUNTRY_CODES), error=NOT_A_COUNTRY))
    billing_anchor = fields.Date(
        required=True, metadata={"description": "First day of a billing period; periods are monthly from it."}
    )
    locale = locale_field()  # the member's language; the partner's default when absent
    billed_by = fields.String(
        load_default="partner",
        validate=validate.OneOf(BILLED_BY),
        metadata={
            "description": "partner: billed in the partner's bundle (default); service: the partner "
            "provisions it and the streaming service bills the member."
        },
    )


class ActivationSchema(Schema):
    code = fields.String(required=True, metadata={"description": "Give it to the member, e.g. by SMS."})
    url = fields.String(required=True, metadata={"description": "Where the member enters the code."})
    expires_at = fields.DateTime(required=True)


class PlanChangeSchema(Schema):
    plan = fields.String(required=True)
    effective_at = fields.DateTime(required=True)


class InactivityWarningSchema(Schema):
    warned_at = fields.DateTime(required=True)
    respond_by = fields.DateTime(required=True)


class SubscriptionSchema(Schema):
    id = fields.String(required=True)
    partner_ref = fields.String(required=True)
    plan = fields.String(required=True)
    scheduled_plan_change = fields.Nested(PlanChangeSchema, required=True, allow_none=True)
    market = fields.String(required=True)
    locale = fields.String(required=True)
    billing_anchor = fields.Date(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    status_reason = fields.String(required=True)
    activation = fields.Nested(ActivationSchema, required=True, allow_none=True)
    activated_at = fields.DateTime(required=True, allow_none=True)
    last_viewed_at = fields.DateTime(
        required=True,
        allow_none=True,
        metadata={"description": "When the member last watched, as the service reports it; not part of the etag."},
    )
    access_until = fields.DateTime(
        required=True, allow_none=True, metadata={"description": "When a scheduled cancellation takes effect."}
    )
    cancelled_at = fields.DateTime(required=True, allow_none=True)
    retention_until = fields.DateTime(
        required=True, allow_none=True, metadata={"description": "Until then a rejoin restores the profile."}
    )
    billed_by = fields.String(
        required=True,
        validate=validate.OneOf(BILLED_BY),
        metadata={"description": "Who bills the member: the partner (in its bundle) or the streaming service."},
    )
    inactivity_warning = fields.Nested(
        InactivityWarningSchema,
        required=True,
        allow_none=True,
        metadata={"description": "An open inactivity warning: keep the membership by respond_by or it is cancelled."},
    )
    allowed_actions = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "What you (this caller) may do from here, named as the action paths of your API name "
            "them (POST .../subscriptions/{id}/<action>): a partner's and the service's differ. In an event, the "
            "partner's."
        },
    )
    sequence = fields.Integer(required=True, metadata={"description": "Sequence number of the latest event."})
    etag = fields.String(
        required=True,
        metadata={
            "description": "The entity tag of this state of the subscription, as the ETag header carries it: send "
            "it as If-Match on an action, also after reading the subscription in a list. Events carry none: read "
            "the subscription for it. It changes with what a partner acts on (status, plan, dates, the inactivity "
            "warning), not with last_viewed_at."
        },
    )
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class SubscriptionListQuerySchema(PageQuerySchema):
    partner_ref = PartnerRef(metadata={"description": "Only the subscription with this reference (normal form)."})
    status = fields.String(validate=validate.OneOf(STATUSES))


class SubscriptionPageSchema(PageSchema):
    items = fields.List(fields.Nested(SubscriptionSchema), required=True)


class HistoryEntrySchema(Schema):
    sequence = fields.Integer(required=True)
    command = fields.String(required=True)
    from_status = fields.String(required=True, allow_none=True)
    to_status = fields.String(required=True)
    reason = fields.String(required=True)
    actor = fields.String(required=True)
    agent = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The partner's call-center agent who made the change in the agent console, as they "
            "signed in (name or agent ID); null for changes made otherwise.",
            "example": "Ana",
        },
    )
    occurred_at = fields.DateTime(required=True)


class HistorySchema(Schema):
    items = fields.List(fields.Nested(HistoryEntrySchema), required=True)


class ChangePlanSchema(Schema):
    plan = plan_field(required=True)


class SuspendSchema(Schema):
    reason = fields.String(load_default="non_payment", validate=validate.OneOf(["non_payment"]))


class ResumeSchema(Schema):
    reason = fields.String(load_default="payment_recovered", validate=validate.OneOf(["payment_recovered"]))


class CancelSchema(Schema):
    when = fields.String(
        load_default="period_end",
        validate=validate.OneOf(["period_end", "immediately"]),
        metadata={"description": "period_end: access continues until the billing period ends."},
    )
    reason = fields.String(
        load_default="member_request",
        validate=validate.OneOf(["member_request", "partner_churn", "account_closed", "fraud"]),
        metadata={
            "description": "member_request (the member's own cancellation, of a plan the partner bills) only at "
            "the period end; the partner's own reasons (partner_churn, account_closed, fraud) only immediately."
        },
    )


class EmptySchema(Schema):
    """No fields: the action needs none (an empty object or no body)."""


class ActivationRequestSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=4, max=20))
    member_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    reason = fields.String(
        load_default="account_linked", validate=validate.OneOf(["account_linked", "account_created"])
    )


class ServiceCancelSchema(Schema):
    when = fields.String(load_default="period_end", validate=validate.OneOf(["period_end", "immediately"]))
    reason = fields.String(
        load_default="member_request",
        validate=validate.OneOf(["member_request", "account_closed", "fraud"]),
        metadata={
            "description": "period_end with member_request: the member cancelled in the app (a plan the service "
            "bills); immediately: account closed or fraud."
        },
    )


class ViewingSchema(Schema):
    subscription_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    last_viewed_at = fields.AwareDateTime(  # a time zone is required: no guessing
        required=True, metadata={"description": "When the member last watched: not in the future."}
    )


class ActivityReportSchema(Schema):
    items = fields.List(fields.Nested(ViewingSchema), required=True, validate=validate.Length(min=1, max=10_000))


class ActivityResultSchema(Schema):
    updated = fields.Integer(
        required=True, metadata={"description": "Subscriptions whose latest viewing time moved forward."}
    )
    unknown = fields.List(fields.String(), required=True, metadata={"description": "Ids of no subscription."})
    skipped = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "Ids of subscriptions that are pending activation, cancelled or purged: their viewing "
            "time is not stored."
        },
    )
    before_joining = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "Ids whose reported time is before the member joined (activated): not stored. A "
            "time in the future refuses the whole report (422, nothing stored)."
        },
    )
