"""API key shapes. A token appears in exactly one response: the one that issues it."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.common import PageQuerySchema, PageSchema
from contracts.partners import partner_code_field
from gateway.domain.keys import KeyKind, Scope

KINDS = [kind.value for kind in KeyKind]
SCOPES = [scope.value for scope in Scope]


class KeyIssueSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    partner = partner_code_field()  # required for partner keys, absent otherwise
    scopes = fields.List(
        fields.String(validate=validate.OneOf(SCOPES)), required=True, validate=validate.Length(min=1, max=10)
    )
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "What the key is for, e.g. 'billing system'."},
    )


class KeySchema(Schema):
    id = fields.String(required=True)
    prefix = fields.String(required=True, metadata={"description": "The visible start of the token."})
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    partner = fields.String(required=True, allow_none=True, attribute="partner_code")
    name = fields.String(required=True)
    scopes = fields.List(fields.String(), required=True)
    status = fields.String(required=True, validate=validate.OneOf(["active", "expiring", "expired", "revoked"]))
    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True, allow_none=True)
    revoked_at = fields.DateTime(required=True, allow_none=True)
    replaced_by = fields.String(required=True, allow_none=True)


class IssuedKeySchema(KeySchema):
    token = fields.String(
        required=True, metadata={"description": "The secret, shown only in this response: store it now."}
    )


class KeyListQuerySchema(PageQuerySchema):
    partner = partner_code_field()
    kind = fields.String(validate=validate.OneOf(KINDS))


class KeyPageSchema(PageSchema):
    items = fields.List(fields.Nested(KeySchema), required=True)


class KeyRotateSchema(Schema):
    overlap_hours = fields.Integer(
        validate=validate.Range(min=0, max=24 * 90),
        metadata={"description": "How long the old key keeps working; the configured default when absent."},
    )
