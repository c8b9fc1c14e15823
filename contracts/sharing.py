"""Sharing-policy shapes: announcements, partners' notices and acknowledgements, per-account sharing notices."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.common import JsonBoolean, PageQuerySchema, PageSchema
from contracts.subscriptions import plan_field
from gateway.domain.countries import COUNTRY_CODES
from gateway.domain.partners import NOT_A_COUNTRY
from gateway.domain.sharing import CURRENCY, RULES, PolicyStatus

POLICY_STATUSES = [status.value for status in PolicyStatus]
ACCOUNT_NOTICES = ["household_verification_required", "extra_member_added", "extra_member_removed"]
# An amount as text, as money is written in JSON here: no binary floating point on the way.
AMOUNT = r"^(0|[1-9][0-9]{0,5})(\.[0-9]{1,2})?$"


class ExtraMemberPriceSchema(Schema):
    amount = fields.String(
        required=True,
        validate=validate.Regexp(AMOUNT, error="A positive amount with at most two decimals, as text: '4.99'."),
        metadata={"description": "A decimal amount as text.", "example": "4.99"},
    )
    currency = fields.String(
        required=True,
        validate=validate.Regexp(CURRENCY, error="An ISO 4217 code such as EUR."),
        metadata={"example": "EUR"},
    )


class ExtraMemberOfferSchema(Schema):
    plans = fields.List(
        plan_field(),
        load_default=list,
        validate=validate.Length(max=10),
        metadata={"description": "Plans that may add an extra member (never partner-billed ones)."},
    )
    prices = fields.Dict(
        keys=fields.String(validate=validate.OneOf(sorted(COUNTRY_CODES), error=NOT_A_COUNTRY)),
        values=fields.Nested(ExtraMemberPriceSchema),
        load_default=dict,
        metadata={
            "description": "The monthly price of an extra member per market (ISO 3166-1 alpha-2), each a market "
            "of the policy; no price: no extra member there.",
            "example": {"DE": {"amount": "4.99", "currency": "EUR"}},
        },
    )


class SharingPolicyCreateSchema(Schema):
    markets = fields.List(
        fields.String(validate=validate.OneOf(sorted(COUNTRY_CODES), error=NOT_A_COUNTRY)),
        required=True,
        validate=validate.Length(min=1, max=250),
        metadata={
            "description": "ISO 3166-1 alpha-2 country codes, each once.",
            "uniqueItems": True,
            "example": ["DE"],
        },
    )
    rule = fields.String(required=True, validate=validate.OneOf(sorted(RULES)), metadata={"example": "one_household"})
    extra_member = fields.Nested(ExtraMemberOfferSchema, load_default=lambda: {"plans": [], "prices": {}})
    effective_at = fields.AwareDateTime(
        required=True, metadata={"description": "When the rule takes effect (in the future; with a UTC offset)."}
    )
    publish_at = fields.AwareDateTime(
        metadata={"description": "Embargo: nobody hears of the policy before this (default: now)."}
    )
    lead_days = fields.Integer(
        validate=validate.Range(min=0, max=365),
        metadata={"description": "Partners hear of it this many days before it takes effect (default: 30)."},
    )


class ExtraMemberSchema(Schema):
    plans = fields.List(fields.String(), required=True)
    prices = fields.Dict(keys=fields.String(), values=fields.Nested(ExtraMemberPriceSchema), required=True)
    partner_billed_eligible = JsonBoolean(
        required=True, metadata={"description": "Always false: partner-billed plans may not add an extra member."}
    )


class PolicyTermsSchema(Schema):
    rule = fields.String(required=True)
    rule_description = fields.String(required=True, metadata={"description": "The rule in plain words."})
    extra_member = fields.Nested(ExtraMemberSchema, required=True)
    publish_at = fields.DateTime(required=True)
    effective_at = fields.DateTime(required=True)


class SharingPolicySchema(PolicyTermsSchema):
    id = fields.String(required=True, metadata={"example": "shp_4f1c2b9a0d8e7f6a5b4c"})
    markets = fields.List(fields.String(), required=True)
    announce_at = fields.DateTime(
        required=True, metadata={"description": "When partners hear of it: effective_at less the lead, or publish_at."}
    )
    status = fields.String(required=True, validate=validate.OneOf(POLICY_STATUSES))
    created_at = fields.DateTime(required=True)
    announced_at = fields.DateTime(required=True, allow_none=True)
    partners_notified = fields.Integer(required=True)
    partners_acknowledged = fields.Integer(required=True)


class SharingPolicyListQuerySchema(PageQuerySchema):
    status = fields.String(validate=validate.OneOf(POLICY_STATUSES))


class SharingPolicyPageSchema(PageSchema):
    items = fields.List(fields.Nested(SharingPolicySchema), required=True)


class NoticeProgressSchema(Schema):
    announced_at = fields.DateTime(required=True)
    effective_sent_at = fields.DateTime(
        required=True, allow_none=True, metadata={"description": "When sharing.policy_effective was sent."}
    )
    acknowledged_at = fields.DateTime(required=True, allow_none=True)
    reminders_sent = fields.Integer(required=True)
    next_reminder_at = fields.DateTime(
        required=True, allow_none=True, metadata={"description": "Null once acknowledged or out of reminders."}
    )


class PartnerNoticeSchema(PolicyTermsSchema, NoticeProgressSchema):
    """A partner's copy of a sharing-policy announcement."""

    id = fields.String(required=True, metadata={"example": "ntc_9a0d8e7f6a5b4c4f1c2b"})
    policy_id = fields.String(required=True)
    markets = fields.List(
        fields.String(), required=True, metadata={"description": "The policy's markets this partner serves."}
    )


class PartnerNoticeListQuerySchema(PageQuerySchema):
    pass


class PartnerNoticePageSchema(PageSchema):
    items = fields.List(fields.Nested(PartnerNoticeSchema), required=True)


class PolicyNoticeQuerySchema(PageQuerySchema):
    acknowledged = fields.Boolean(metadata={"description": "false: the partners that have not acknowledged yet."})


class PolicyNoticeSchema(NoticeProgressSchema):
    """Where one partner stands with a policy's announcement."""

    id = fields.String(required=True)
    partner = fields.String(required=True)
    partner_name = fields.String(required=True)
    markets = fields.List(fields.String(), required=True)
    acknowledged_by = fields.String(
        required=True, allow_none=True, metadata={"description": "The id of the key that acknowledged."}
    )


class PolicyNoticePageSchema(PageSchema):
    items = fields.List(fields.Nested(PolicyNoticeSchema), required=True)


class AccountNoticeRequestSchema(Schema):
    type = fields.String(
        required=True,
        validate=validate.OneOf(ACCOUNT_NOTICES),
        metadata={"description": "Sent to the partner as sharing.<type>.", "example": ACCOUNT_NOTICES[0]},
    )
    verify_by = fields.AwareDateTime(
        metadata={
            "description": "household_verification_required only: the member verifies the household by then "
            "(default: in 14 days)."
        }
    )


class AccountNoticeResultSchema(Schema):
    event_id = fields.String(required=True)
    type = fields.String(required=True, metadata={"example": "sharing.household_verification_required"})
    subscription_id = fields.String(required=True)
    sequence = fields.Integer(required=True)
