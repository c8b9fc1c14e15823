"""Partner registry shapes: partners and their webhook endpoints."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.common import PageQuerySchema, PageSchema

# Field factories, so create (required) and update (optional) declare each field once.
def markets_field(**options) -> fields.List:
    return fields.List(
        fields.String(validate=validate.Length(equal=2)),
        validate=validate.Length(min=1, max=250),
        metadata={"description": "ISO 3166-1 alpha-2 country codes.", "example": ["DE", "AT"]},
        **options,
    )


def locale_field(**options) -> fields.String:
    return fields.String(
        validate=validate.Length(min=2, max=35),
        metadata={"description": "BCP 47 language tag.", "example": "de-DE"},
        **options,
    )


def flavour_field(**options) -> fields.String:
    return fields.String(
        validate=validate.Length(min=1, max=32),
        metadata={"description": "Which partners/ adapter speaks to this partner.", "example": "standard"},
        **options,
    )


def display_name_field(**options) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=200), **options)


def endpoint_url_field(**options) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=2048), metadata={"format": "uri"}, **options)


class PartnerCreateSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=2, max=32), metadata={"example": "telco-de"})
    display_name = display_name_field(required=True)
    markets = markets_field(required=True)
    default_locale = locale_field(required=True)
    flavour = flavour_field(load_default="standard")
    webhook_urls = fields.List(endpoint_url_field(), load_default=list, validate=validate.Length(max=10))


class PartnerUpdateSchema(Schema):
    display_name = display_name_field()
    markets = markets_field()
    default_locale = locale_field()
    flavour = flavour_field()


class PartnerSchema(Schema):
    code = fields.String(required=True)
    display_name = fields.String(required=True)
    markets = fields.List(fields.String(), required=True)
    default_locale = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["active", "suspended"]))
    flavour = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class PartnerListQuerySchema(PageQuerySchema):
    status = fields.String(validate=validate.OneOf(["active", "suspended"]))
    market = fields.String(validate=validate.Length(equal=2))


class PartnerPageSchema(PageSchema):
    items = fields.List(fields.Nested(PartnerSchema), required=True)


class EndpointCreateSchema(Schema):
    url = endpoint_url_field(required=True)
    description = fields.String(load_default="", validate=validate.Length(max=200))


class EndpointSchema(Schema):
    id = fields.String(required=True)
    partner = fields.String(required=True, attribute="partner_code")
    url = fields.String(required=True)
    description = fields.String(required=True)
    status = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class EndpointListSchema(Schema):
    items = fields.List(fields.Nested(EndpointSchema), required=True)
