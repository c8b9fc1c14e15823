"""Service API (/v1/service): the streaming service's own systems (the `service` scope).

The audience's blueprint is composed here from one small blueprint per view module; its operations are tagged
`service` in the OpenAPI document.
"""

from __future__ import annotations

from flask_smorest import Blueprint

from gateway.api.service import notices, partners, subscriptions

blp = Blueprint("service", __name__, url_prefix="/v1/service", description="Service API: the streaming service.")
for views in (partners, subscriptions, notices):
    blp.register_blueprint(views.blp)
