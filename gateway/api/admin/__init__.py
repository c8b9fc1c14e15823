"""Operator API (/admin/v1): partners (their endpoints and TMF637 inventories), keys, deliveries, escalations, the
FAQ, campaigns and sharing policies.

The audience's blueprint is composed here from one small blueprint per view module; its operations are tagged
`admin` in the OpenAPI document.
"""

from __future__ import annotations

from flask_smorest import Blueprint

from gateway.api.admin import campaigns, deliveries, escalations, faq, inventory, keys, partners, sharing

blp = Blueprint("admin", __name__, url_prefix="/admin/v1", description="Operator API: partners, endpoints, keys.")
for views in (partners, inventory, keys, deliveries, campaigns, escalations, faq, sharing):
    blp.register_blueprint(views.blp)
