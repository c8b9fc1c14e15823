"""Call-center shapes."""

from __future__ import annotations

from marshmallow import Schema, fields


class CallCenterProfileSchema(Schema):
    """What an agent's tools need to know about the partner they work for."""

    partner = fields.String(required=True, attribute="code")
    display_name = fields.String(required=True)
    default_locale = fields.String(required=True, metadata={"description": "BCP 47; the agent's default language."})
    markets = fields.List(fields.String(), required=True)
