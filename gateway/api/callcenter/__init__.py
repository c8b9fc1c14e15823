"""Call-center API (/v1/callcenter): what partners' agents and their console call.

The audience's blueprint is composed here from one small blueprint per view module; its operations are tagged
`callcenter` in the OpenAPI document.
"""

from __future__ import annotations

from flask_smorest import Blueprint

from gateway.api.callcenter import escalations, faq, lookup, profile

blp = Blueprint("callcenter", __name__, url_prefix="/v1/callcenter", description="Call-center API: partners' agents.")
for views in (profile, escalations, faq, lookup):
    blp.register_blueprint(views.blp)
