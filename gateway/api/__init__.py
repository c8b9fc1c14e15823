"""The HTTP API: one flask-smorest blueprint per audience, each a package that composes its view modules
(partner, callcenter, service, admin), what they share (shared), the plumbing (http), the operational routes
(ops), and the TM Forum face (tmf) — the last two plain Flask, outside the OpenAPI document."""

from __future__ import annotations

from flask import Flask

from gateway.api import admin, callcenter, ops, partner, service
from gateway.api.http import uow
from gateway.api.http.auth import SECURITY_SCHEME
from gateway.api.http.openapi import DOC_ENDPOINTS, SPEC_SETTINGS, GatewayApi
from gateway.api.http.webhooks_doc import document_webhooks
from gateway.api.tmf import init_tmf
from gateway.http import unstorable
from gateway.http.guards import install_request_guards

# Each audience's blueprint nests its view modules' blueprints, which carry routes only: a request hook on one of
# them would be looked up and run on every request it serves, so hooks stay on the app.
AUDIENCES = (partner, callcenter, service, admin)
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
    for audience in AUDIENCES:
        api.register_blueprint(audience.blp)
    app.register_blueprint(ops.blp)
    init_tmf(app)
    api.document_later(document_webhooks)
    return api
