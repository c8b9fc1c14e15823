"""Operator API for partners: onboard, change, suspend and resume them, and manage their webhook endpoints."""

from __future__ import annotations

from datetime import timedelta

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from contracts.partners import (
    EndpointCreateSchema,
    EndpointListSchema,
    EndpointSchema,
    EndpointWithSecretSchema,
    PartnerCreatedSchema,
    PartnerCreateSchema,
    PartnerListQuerySchema,
    PartnerPageSchema,
    PartnerSchema,
    PartnerUpdateSchema,
)
from gateway.api.http.auth import requires
from gateway.api.http.etags import etag, expected_version
from gateway.api.http.idempotent import idempotent
from gateway.api.http.uow import in_transaction, reading
from gateway.api.shared.listings import partner_page
from gateway.api.shared.presenters import attributes
from gateway.domain.clock import utcnow
from gateway.domain.keys import Scope
from gateway.domain.partners import PartnerStatus
from gateway.runtime import setting
from gateway.services import partners as partner_service

blp = Blueprint("partners", __name__)

ETAG_HEADER = {
    "ETag": {"description": "The partner's version; send it back as If-Match.", "schema": {"type": "string"}}
}


def _partner_response(partner):
    return partner, {"ETag": etag(partner.version)}


@blp.route("/partners")
class Partners(MethodView):
    @requires(Scope.ADMIN)
    @blp.arguments(PartnerListQuerySchema, location="query")
    @blp.response(200, PartnerPageSchema)
    def get(self, query):
        """List partners, by code"""
        return partner_page(query)

    @requires(Scope.ADMIN)
    @idempotent
    @blp.arguments(PartnerCreateSchema)
    @blp.response(201, PartnerCreatedSchema, headers=ETAG_HEADER)
    def post(self, body, session):
        """Onboard a partner; endpoints created from webhook_urls come with their signing secrets, shown once"""
        partner = partner_service.add_partner(
            session, now=utcnow(), allow_private_endpoints=setting("ALLOW_PRIVATE_ENDPOINTS"), **body
        )
        endpoints = partner_service.list_endpoints(session, partner.code)
        created, headers = _partner_response(partner)
        return {**attributes(created), "webhook_endpoints": endpoints}, headers


@blp.route("/partners/<code>")
class PartnerItem(MethodView):
    @requires(Scope.ADMIN)
    @blp.response(200, PartnerSchema, headers=ETAG_HEADER)
    def get(self, code):
        """Show one partner"""
        with reading() as session:
            partner = partner_service.get_partner(session, code)
        return _partner_response(partner)

    @requires(Scope.ADMIN)
    @in_transaction
    @blp.arguments(PartnerUpdateSchema, required=False)
    @blp.response(200, PartnerSchema, headers=ETAG_HEADER)
    def patch(self, body, code, session):
        """Change a partner's name, markets, locale, flavour, delivery rate, budgets or time zone (If-Match guards)"""
        partner = partner_service.update_partner(
            session, code, expected_version=expected_version(), now=utcnow(), **body
        )
        return _partner_response(partner)


def _set_status(session: Session, code: str, status: PartnerStatus):
    partner = partner_service.set_partner_status(session, code, status, now=utcnow())
    return _partner_response(partner)


@blp.route("/partners/<code>/suspend")
class PartnerSuspend(MethodView):
    @requires(Scope.ADMIN)
    @idempotent
    @blp.response(200, PartnerSchema, headers=ETAG_HEADER)
    def post(self, code, session):
        """Suspend a partner: its keys are refused at once"""
        return _set_status(session, code, PartnerStatus.SUSPENDED)


@blp.route("/partners/<code>/resume")
class PartnerResume(MethodView):
    @requires(Scope.ADMIN)
    @idempotent
    @blp.response(200, PartnerSchema, headers=ETAG_HEADER)
    def post(self, code, session):
        """Resume a suspended partner"""
        return _set_status(session, code, PartnerStatus.ACTIVE)


@blp.route("/partners/<code>/webhook-endpoints")
class PartnerEndpoints(MethodView):
    @requires(Scope.ADMIN)
    @blp.response(200, EndpointListSchema)
    def get(self, code):
        """List a partner's webhook endpoints"""
        with reading() as session:
            return {"items": partner_service.list_endpoints(session, code)}

    @requires(Scope.ADMIN)
    @idempotent
    @blp.arguments(EndpointCreateSchema)
    @blp.response(201, EndpointWithSecretSchema)
    def post(self, body, code, session):
        """Add a webhook endpoint to a partner; its signing secret is in this response only"""
        return partner_service.add_endpoint(
            session, code, now=utcnow(), allow_private=setting("ALLOW_PRIVATE_ENDPOINTS"), **body
        )


@blp.route("/webhook-endpoints/<endpoint_id>")
class EndpointItem(MethodView):
    @requires(Scope.ADMIN)
    @in_transaction
    @blp.response(204)
    def delete(self, endpoint_id, session):
        """Delete a webhook endpoint; its deliveries stay on record, the pending ones as dead letters

        Nothing is sent to the endpoint any more and it is no longer listed (reading it is a 404). Its deliveries
        and their attempts stay visible to the operator and the partner; those still pending end as dead letters
        whose `last_error` says when the endpoint was deleted, and a replay of any of them is a 409.
        """
        partner_service.remove_endpoint(session, endpoint_id, now=utcnow())


@blp.route("/webhook-endpoints/<endpoint_id>/rotate-secret")
class EndpointRotateSecret(MethodView):
    @requires(Scope.ADMIN)
    @idempotent
    @blp.response(200, EndpointWithSecretSchema)
    def post(self, endpoint_id, session):
        """Give an endpoint a new signing secret; the old one keeps signing too until the overlap ends"""
        overlap = timedelta(hours=setting("WEBHOOK_SECRET_OVERLAP_HOURS"))
        return partner_service.rotate_endpoint_secret(session, endpoint_id, overlap=overlap, now=utcnow())


@blp.route("/webhook-endpoints/<endpoint_id>/enable")
class EndpointEnable(MethodView):
    @requires(Scope.ADMIN)
    @idempotent
    @blp.response(200, EndpointSchema)
    def post(self, endpoint_id, session):
        """Deliver to a disabled endpoint again; the deliveries that waited for it go out in order"""
        return partner_service.enable_endpoint(session, endpoint_id)
