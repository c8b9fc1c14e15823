"""TM Forum face (/tmf-api/...): TMF637 Product Inventory and TMF622 Product Ordering v4, with their TMF630 hubs,
for partners whose systems speak TM Forum. Partner keys, the same scopes and the same isolation as /v1; the
contract is the official specification (contracts/tmf/), not the gateway's own OpenAPI document, so these are
plain Flask blueprints. Errors are TMF-shaped (gateway.api.tmf.errors)."""

from __future__ import annotations

from flask import Flask

from gateway.api.tmf import errors, hubs, inventory, ordering  # noqa: F401 (the view modules add their routes)
from gateway.api.tmf.blueprints import inventory as inventory_api
from gateway.api.tmf.blueprints import ordering as ordering_api


def init_tmf(app: Flask) -> None:
    for blueprint in (inventory_api, ordering_api):
        errors.install(blueprint)
        app.register_blueprint(blueprint)
