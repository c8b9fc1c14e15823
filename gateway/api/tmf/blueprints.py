"""The two TM Forum APIs' blueprints, which the view modules add their routes to."""

from __future__ import annotations

from flask import Blueprint

inventory = Blueprint("tmf_inventory", __name__, url_prefix="/tmf-api/productInventory/v4")
ordering = Blueprint("tmf_ordering", __name__, url_prefix="/tmf-api/productOrdering/v4")
