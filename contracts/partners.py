"""Partner registry shapes: partners and their webhook endpoints."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from contracts.common import SHOWN_ONCE_ON_REPLAY, PageQuerySchema, PageSchema, secret_withheld_field
from gateway.domain import time_zones
from gateway.domain.countries import COUNTRY_CODES
from gateway.domain.partners import (
    ENDPOINT_URL,
    LOCALE,
    NOT_A_COUNTRY,
    NOT_A_LOCALE,
    NOT_A_PARTNER_CODE,
    NOT_AN_ENDPOINT,
    PARTNER_CODE,
)
from partners.registry import FLAVOURS


# Field factories, so create (required) and update (optional) declare each field once. The validators
# mirror the domain rules, so the published contract says exactly what a partner may send.
def markets_field(**options) -> fields.List:
    return fields.List(
        fields.String(validate=validate.OneOf(sorted(COUNTRY_CODES), error=NOT_A_COUNTRY)),
        validate=validate.Length(min=1, max=250),
        metadata={"description": "ISO 3166-1 alpha-2 country codes, upper case.", "example": ["DE", "AT"]},
        **options,
    )


def locale_field(**options) -> fields.String:
    return fields.String(
        validate=[validate.Length(min=2, max=35), validate.Regexp(LOCALE, error=NOT_A_LOCALE)],
        metadata={"description": "BCP 47 language tag: language[-Script][-REGION].", "example": "de-DE"},
        **options,
    )


def flavour_field(**options) -> fields.String:
    return fields.String(
        validate=validate.OneOf(sorted(FLAVOURS)),
        metadata={"description": "Which partners/ adapter speaks to this partner.", "example": "standard"},
        **options,
    )


def _a_time_zone(value: str) -> None:
    if not time_zones.is_time_zone(value):
        raise ValidationError(time_zones.NOT_A_TIME_ZONE)


def display_name_field(**options) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=200), **options)


def endpoint_url_field(**options) -> fields.String:
    return fields.String(
        validate=[validate.Length(min=1, max=2048), validate.Regexp(ENDPOINT_URL, error=NOT_AN_ENDPOINT)],
        metadata={"format": "uri", "example": "https://hooks.partner.example/gateway"},
        **options,
    )


def partner_code_field(**options) -> fields.String:
    return fields.String(
        # The length too: Python's `$` also matches before a final line break, so 32 letters and a "\n" would
        # pass the pattern alone and overflow the VARCHAR(32) column on PostgreSQL.
        validate=[validate.Length(min=2, max=32), validate.Regexp(PARTNER_CODE, error=NOT_A_PARTNER_CODE)],
        metadata={"example": "telco-de"},
        **options,
    )


class PartnerCreateSchema(Schema):
    code = partner_code_field(required=True)
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
    delivery_rate = fields.Float(
        allow_none=True,
        validate=validate.Range(min=0.01, max=100_000),
        metadata={"description": "Events per second at most, across all dispatchers; null removes the limit."},
    )
    rate_limits = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        allow_none=True,
        metadata={
            "description": "This partner's own request budget per audience (partner, callcenter, service, admin), "
            'e.g. {"callcenter": "100/minute"} or "unlimited"; audiences left out use the gateway\'s defaults. '
            "null removes every override.",
            "example": {"callcenter": "20/second;1000/minute"},
        },
    )
    time_zone = fields.String(
        allow_none=True,
        validate=[validate.Length(min=1, max=time_zones.MAX_LENGTH), _a_time_zone],
        metadata={
            "description": "The IANA time zone the partner's agents read times in (the console's default for them); "
            "null returns to the one derived from the partner's default locale and markets.",
            "example": "Europe/Berlin",
        },
    )


class PartnerSchema(Schema):
    code = fields.String(required=True)
    display_name = fields.String(required=True)
    markets = fields.List(fields.String(), required=True)
    default_locale = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["active", "suspended"]))
    flavour = fields.String(required=True)
    deliveries_paused = fields.Boolean(required=True)
    delivery_rate = fields.Float(
        required=True, allow_none=True, metadata={"description": "Events per second at most; null: no limit."}
    )
    rate_limits = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        allow_none=True,
        metadata={"description": "The partner's own request budgets per audience; null: the gateway's defaults."},
    )
    time_zone = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The IANA time zone an operator set for the partner's agents; null: none set (the "
            "console derives one from the default locale and markets).",
            "example": "Europe/Berlin",
        },
    )
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class PartnerListQuerySchema(PageQuerySchema):
    status = fields.String(validate=validate.OneOf(["active", "suspended"]))
    market = fields.String(validate=validate.OneOf(sorted(COUNTRY_CODES), error=NOT_A_COUNTRY))


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
    status = fields.String(required=True, validate=validate.OneOf(["enabled", "disabled"]))
    disabled_reason = fields.String(required=True, allow_none=True)
    circuit_state = fields.String(required=True, validate=validate.OneOf(["closed", "open", "half_open"]))
    consecutive_failures = fields.Integer(required=True)
    failing_since = fields.DateTime(required=True, allow_none=True)
    previous_secret_expires_at = fields.DateTime(
        required=True, allow_none=True, metadata={"description": "Until then the previous secret signs too."}
    )
    created_at = fields.DateTime(required=True)


class EndpointWithSecretSchema(EndpointSchema):
    secret = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The Standard Webhooks signing secret (whsec_...). Shown this once; store it now. "
            + SHOWN_ONCE_ON_REPLAY,
            "example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        },
    )
    secret_withheld = secret_withheld_field("POST /admin/v1/webhook-endpoints/{id}/rotate-secret")


class EndpointListSchema(Schema):
    items = fields.List(fields.Nested(EndpointSchema), required=True)


class PartnerCreatedSchema(PartnerSchema):
    webhook_endpoints = fields.List(
        fields.Nested(EndpointWithSecretSchema),
        required=True,
        metadata={"description": "The endpoints created from webhook_urls, with their secrets (shown once)."},
    )
