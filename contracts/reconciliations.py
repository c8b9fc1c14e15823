"""Reconciliation job shapes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.common import PageQuerySchema, PageSchema
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
    status = fields.String(required=True, validate=validate.OneOf(["running", "completed", "failed"]))
    rows = fields.Integer(required=True, metadata={"description": "Roster rows read so far."})
    counts = fields.Nested(ReconciliationCountsSchema, required=True)
    repaired = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(required=True, allow_none=True)
    applied_at = fields.DateTime(required=True, allow_none=True)


class ReconciliationItemSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    line = fields.Integer(required=True, allow_none=True, metadata={"description": "Roster line, when from it."})
    partner_ref = fields.String(required=True, allow_none=True)
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
