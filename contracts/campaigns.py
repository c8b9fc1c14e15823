"""Campaign shapes: starting an inactivity campaign run and following it as a job."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.common import JsonBoolean, PageQuerySchema, PageSchema
from gateway.domain.jobs import JobStatus


class CampaignCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["inactivity"]))
    dry_run = JsonBoolean(
        load_default=True,
        metadata={"description": "true (default): count who would be warned, by partner and market; change nothing."},
    )


class CampaignCountSchema(Schema):
    partner = fields.String(required=True)
    market = fields.String(required=True)
    members = fields.Integer(required=True, metadata={"description": "Would be warned (dry run) or warned."})


class CampaignSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([status.value for status in JobStatus]))
    dry_run = fields.Boolean(required=True)
    respond_by = fields.DateTime(required=True, metadata={"description": "The answer date warnings carry."})
    candidates = fields.Integer(
        required=True, metadata={"description": "Inactive members without a warning when the run was created."}
    )
    warned = fields.Integer(required=True)
    counts = fields.List(fields.Nested(CampaignCountSchema), required=True)
    created_at = fields.DateTime(required=True)
    started_at = fields.DateTime(required=True, allow_none=True)
    finished_at = fields.DateTime(required=True, allow_none=True)


class CampaignPageSchema(PageSchema):
    items = fields.List(fields.Nested(CampaignSchema), required=True)


class CampaignListQuerySchema(PageQuerySchema):
    pass
