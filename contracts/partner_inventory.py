"""The shapes of a partner's own TMF637 inventory as the operator sets it: where `gateway reconcile --from-tmf`
reads the partner's products, and whether a token is presented there (the token itself is write-only)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from gateway.domain.partners import ENDPOINT_URL, NOT_AN_ENDPOINT
from partners.tmf_inventory import BEARER_TOKEN, MAX_TOKEN_LENGTH, NOT_A_TOKEN

URL_DESCRIPTION = (
    "The base URL of the partner's TMF637 Product Inventory API (…/productInventory/v4); the gateway reads "
    "GET {url}/product a page at a time (offset, limit). https and a public host, as for webhook endpoints; no "
    "query, no fragment; redirects are not followed."
)

# The token rule (partners.tmf_inventory.BEARER_TOKEN) as a pattern JSON Schema tools read alike.
TOKEN_PATTERN = "^[!-~]*$"  # noqa: S105 (a pattern, not a secret)


def _bearer_token(value: str) -> None:
    if not BEARER_TOKEN.fullmatch(value):  # the whole value: a line break after a good start writes a header
        raise ValidationError(NOT_A_TOKEN)


class PartnerInventorySchema(Schema):
    url = fields.String(
        required=True, allow_none=True, metadata={"description": f"{URL_DESCRIPTION} Null: none is set."}
    )
    token_set = fields.Boolean(
        required=True,
        metadata={"description": "Whether a bearer token is presented there. The token itself is never shown."},
    )


class PartnerInventoryUpdateSchema(Schema):
    url = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=2048), validate.Regexp(ENDPOINT_URL, error=NOT_AN_ENDPOINT)],
        metadata={
            "description": URL_DESCRIPTION,
            "format": "uri",
            "example": "https://inventory.partner.example/tmf-api/productInventory/v4",
        },
    )
    token = fields.String(
        load_only=True,
        allow_none=True,
        load_default=None,
        validate=_bearer_token,
        metadata={
            "description": "The bearer token the gateway presents (Authorization: Bearer …): 1 to "
            f"{MAX_TOKEN_LENGTH} visible ASCII characters. Null or left out: none. URL and token are replaced "
            "together, so a token never goes on to another URL. Write-only: never shown again.",
            # The rule as the published schema states it (one validator holds it, so one error names it).
            "minLength": 1,
            "maxLength": MAX_TOKEN_LENGTH,
            "pattern": TOKEN_PATTERN,
        },
    )
