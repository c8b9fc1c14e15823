"""HTTP layer: one flask-smorest blueprint per audience, problem+json errors, auth, operational routes."""

from __future__ import annotations

from flask import Flask

from gateway.api import (
    admin,
    admin_deliveries,
    admin_escalations,
    admin_faq,
    callcenter,
    campaigns,
    escalations,
    events,
    faq,
    lookup,
    ops,
    partner,
    reconciliations,
    service,
    sharing,
    subscriptions,
)
from gateway.api.http import uow
from gateway.api.http.auth import SECURITY_SCHEME
from gateway.api.http.openapi import DOC_ENDPOINTS, SPEC_SETTINGS, GatewayApi
from gateway.api.http.webhooks_doc import document_webhooks
from gateway.http import unstorable
from gateway.http.guards import install_request_guards

PUBLIC_ENDPOINTS = ops.PUBLIC_ENDPOINTS | DOC_ENDPOINTS


def init_api(app: Flask) -> GatewayApi:
    for name, value in SPEC_SETTINGS.items():
        app.config.setdefault(name, value)
    install_request_guards(app)
    app.teardown_request(uow.close_request_rows)
    api = GatewayApi(app)
    api.ma_plugin.converter.add_attribute_function(unstorable.publish_no_nul)  # the guard's rule, in the contract
    api.spec.components.security_scheme(
        SECURITY_SCHEME,
        {"type": "http", "scheme": "bearer", "description": "A gateway API key: gw_<prefix>_<secret>."},
    )
    # The subscription and reconciliation routes belong to the partner blueprint.
    assert subscriptions.blp is partner.blp and reconciliations.blp is partner.blp and events.blp is partner.blp
    assert admin_deliveries.blp is admin.blp and campaigns.blp is admin.blp
    assert escalations.blp is callcenter.blp and admin_escalations.blp is admin.blp
    assert lookup.blp is callcenter.blp
    assert faq.blp is callcenter.blp and admin_faq.blp is admin.blp
    assert set(sharing.BLUEPRINTS) <= {partner.blp, service.blp, admin.blp}
    for blueprint in (partner.blp, callcenter.blp, service.blp, admin.blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(ops.blp)
    api.document_later(document_webhooks)
    return api
