"""Reconciliation job shapes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.common import PageQuerySchema, PageSchema
from gateway.domain.jobs import JobStatus
from gateway.domain.leases import lease_minutes
from gateway.domain.roster import Drift

KINDS = [kind.value for kind in Drift]


class ReconciliationCountsSchema(Schema):
    bad_row = fields.Integer(required=True)
    only_at_partner = fields.Integer(required=True)
    only_at_gateway = fields.Integer(required=True)
    status_mismatch = fields.Integer(required=True)
    plan_mismatch = fields.Integer(required=True)


class ReconciliationSchema(Schema):
    id = fields.String(required=True)
    partner = fields.String(required=True, attribute="partner_code")
    format = fields.String(required=True, attribute="roster_format")
    status = fields.String(
        required=True,
        validate=validate.OneOf([status.value for status in JobStatus if status is not JobStatus.PENDING]),
        metadata={
            "description": f"failed: the upload broke off, or the job made no progress for {lease_minutes()} minutes "
            "(its process died) and the scheduler gave it up. Either way nothing was applied: send the roster again."
        },
    )
    rows = fields.Integer(required=True, metadata={"description": "Roster rows read so far."})
    counts = fields.Nested(ReconciliationCountsSchema, required=True)
    unreadable_rows = fields.Integer(
        required=True,
        metadata={
            "description": "Bad rows that name no usable partner_ref (not JSON, a quote opened in or before the ref, "
            "a control character in it), so far. Any of them might be a customer missing from the roster."
        },
    )
    only_at_gateway_withheld = fields.Boolean(
        required=True,
        metadata={
            "description": "True once the job has completed without listing who is only at the gateway, because who "
            "is missing cannot be said: a row named no usable partner_ref (unreadable_rows), or no row could be "
            "compared. counts.only_at_gateway is then 0 whoever is missing, and applying cancels no one for it: fix "
            "the bad rows and upload again. False while the job runs."
        },
    )
    repaired = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(required=True, allow_none=True)
    applied_at = fields.DateTime(required=True, allow_none=True)


KIND_DESCRIPTION = (
    "bad_row: a roster row that cannot be compared (the reason in detail); only_at_partner: no subscription has "
    "the row's partner_ref; only_at_gateway: a live subscription no roster row names (a bad row naming it counts; "
    "a roster with no good row at all, or with any bad row that names no usable partner_ref, lists none, as who is "
    "missing cannot be said); "
    "status_mismatch and plan_mismatch: the row and the subscription disagree. What the gateway has scheduled is "
    "not drift: a subscription with a downgrade due at the period end agrees with either plan, one whose "
    "cancellation is scheduled with active or cancelled."
)
PARTNER_REF_DESCRIPTION = (
    "The row's partner_ref (the subscription's, for only_at_gateway). On a bad row, only when it names one a good "
    "row could have (trimmed, 1-100 characters, no control character): that "
    "customer counts as on the roster, so is never only_at_gateway, and nothing is repaired for it. Null when the "
    "row shows none (not JSON; an unclosed quote opening in or before its partner_ref column; a control character "
    "in it); then the job lists no one as only_at_gateway."
)


class ReconciliationItemSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS), metadata={"description": KIND_DESCRIPTION})
    line = fields.Integer(required=True, allow_none=True, metadata={"description": "Roster line, when from it."})
    partner_ref = fields.String(required=True, allow_none=True, metadata={"description": PARTNER_REF_DESCRIPTION})
    partner_status = fields.String(required=True, allow_none=True)
    partner_plan = fields.String(required=True, allow_none=True)
    subscription_id = fields.String(required=True, allow_none=True)
    gateway_status = fields.String(required=True, allow_none=True)
    gateway_plan = fields.String(required=True, allow_none=True)
    repair = fields.String(required=True, allow_none=True, metadata={"description": "What applying does."})
    detail = fields.String(required=True)
    repaired_at = fields.DateTime(required=True, allow_none=True)


class ReconciliationItemQuerySchema(PageQuerySchema):
    kind = fields.String(validate=validate.OneOf(KINDS))


class ReconciliationItemPageSchema(PageSchema):
    items = fields.List(fields.Nested(ReconciliationItemSchema), required=True)
