"""Shapes shared by every audience: problems (RFC 9457) and cursor pages."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from gateway.domain import partner_refs


class FieldErrorSchema(Schema):
    location = fields.String(
        required=True, metadata={"description": "Where the field is: body, query, path or header."}
    )
    field = fields.String(required=True, metadata={"description": "Dotted path of the failing field."})
    detail = fields.String(required=True, metadata={"description": "What is wrong with it."})


class ProblemSchema(Schema):
    """An RFC 9457 problem: every error response, whatever its status."""

    type = fields.String(required=True, metadata={"description": "Stable identifier of the kind of problem."})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    instance = fields.String(metadata={"description": "The request path."})
    request_id = fields.String(metadata={"description": "Quote it when asking for help."})
    errors = fields.List(fields.Nested(FieldErrorSchema), metadata={"description": "One entry per failing field."})
    current_status = fields.String(
        metadata={"description": "On an invalid transition: the status of the subscription (or escalation)."}
    )
    allowed_transitions = fields.List(
        fields.String(),
        metadata={
            "description": "On an invalid transition: what you (this caller) may do from `current_status` instead, "
            "named as the action paths of your API name them (`POST .../subscriptions/{id}/<action>`, e.g. "
            "`cancel`, `change-plan`; for an escalation its actions); for a partner the same list as the "
            "subscription's `allowed_actions`. Empty when you can do nothing: what the scheduler or other "
            "parties may still do is left out."
        },
    )


class JsonBoolean(fields.Boolean):
    """true or false in a JSON body, and nothing else: marshmallow's Boolean also takes 0, 1.0, "yes" or "off",
    which the published schema (type boolean) refuses, so a client relying on them would break elsewhere."""

    def _deserialize(self, value, attr, data, **kwargs) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class PartnerRef(fields.String):
    """A partner_ref in a body or a query, loaded in its normal form (gateway.domain.partner_refs): what cannot be
    read as one is refused naming the field, never stored or looked up as typed."""

    def __init__(self, **options) -> None:
        metadata = {"description": partner_refs.DESCRIPTION, "example": "cust-000123", **options.pop("metadata", {})}
        # Published as the rule's pattern and 1-100 characters; the normal form meets both.
        rule = [validate.Length(min=1, max=partner_refs.MAX_LENGTH), validate.Regexp(partner_refs.PATTERN)]
        super().__init__(validate=rule, metadata=metadata, **options)

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        try:
            return partner_refs.normal_form(super()._deserialize(value, attr, data, **kwargs))
        except partner_refs.UnusableRef as unusable:
            raise ValidationError(str(unusable)) from None


class PageQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(
        validate=validate.Length(min=1, max=500),
        metadata={"description": "The `next_cursor` of the previous page."},
    )


class PageSchema(Schema):
    next_cursor = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Pass as `cursor` for the next page; null on the last page."},
    )


# Published as the fields' `pattern`, so generated clients know the rule: something besides spaces, tabs and line
# breaks (spelt out: Python's \s and JSON Schema's differ), and no NUL character (PostgreSQL text cannot hold one).
# The first two character classes are disjoint, so matching stays linear.
NOT_BLANK = validate.Regexp(
    r"^[ \t\r\n]*[^ \t\r\n\x00][^\x00]*$", error="Must contain more than white space, and no NUL character."
)
NO_NUL = validate.Regexp(r"^[^\x00]*$", error="Must not contain a NUL character.")


# Secrets shown once (an endpoint's signing secret, a partner's inbound secret): a response that carries one is
# replayed to a retry with the same Idempotency-Key without it (gateway.services.idempotency.withhold_secrets).
SHOWN_ONCE_ON_REPLAY = (
    "It is null when this response is a replay (a retry with the same Idempotency-Key, marked `Idempotent-Replayed: "
    "true`): the gateway never keeps a secret with the response it stores for retries, so a retry gets the same "
    "status and resource with the secret null and `secret_withheld` true."
)


def secret_withheld_field(new_secret: str) -> fields.Boolean:
    """`secret_withheld` beside a secret shown once; `new_secret` says how to get another."""
    return fields.Boolean(
        required=True,
        dump_default=False,
        metadata={
            "description": "true when `secret` is null because this response is a replay: the secret was shown "
            f"once, in the first response to the request. If that response was lost, issue a new one: {new_secret}."
        },
    )
