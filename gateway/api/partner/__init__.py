"""Partner API (/v1): what a partner's own systems call. Everything here is filtered to the calling partner.

The audience's blueprint is composed here from one small blueprint per view module; its operations are tagged
`partner` in the OpenAPI document.
"""

from __future__ import annotations

from flask_smorest import Blueprint

from gateway.api.partner import events, notices, reconciliations, subscriptions, webhook_endpoints

blp = Blueprint("partner", __name__, url_prefix="/v1", description="Partner API: the partner's own systems.")
for views in (webhook_endpoints, events, reconciliations, notices, subscriptions):
    blp.register_blueprint(views.blp)
