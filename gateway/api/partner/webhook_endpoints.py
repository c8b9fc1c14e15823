"""Partner API: the webhook endpoints this partner receives notices on (GET /v1/webhook-endpoints)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from contracts.partners import EndpointListSchema, EndpointSchema
from gateway.api.http.auth import current_partner_code, requires
from gateway.api.http.uow import reading
from gateway.domain.keys import Scope
from gateway.services import partners as partner_service

blp = Blueprint("webhook_endpoints", __name__)


@blp.route("/webhook-endpoints")
class OwnEndpoints(MethodView):
    @requires(Scope.EVENTS_READ)
    @blp.response(200, EndpointListSchema)
    def get(self):
        """List the endpoints this partner receives notices on"""
        with reading() as session:
            return {"items": partner_service.list_endpoints(session, current_partner_code())}


@blp.route("/webhook-endpoints/<endpoint_id>")
class OwnEndpoint(MethodView):
    @requires(Scope.EVENTS_READ)
    @blp.response(200, EndpointSchema)
    def get(self, endpoint_id):
        """Show one of this partner's endpoints"""
        with reading() as session:
            return partner_service.get_endpoint(session, endpoint_id, partner_code=current_partner_code())
