"""Service API: the partners, listed for the streaming service (GET /v1/service/partners)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from contracts.partners import PartnerListQuerySchema, PartnerPageSchema
from gateway.api.http.auth import requires
from gateway.api.shared.listings import partner_page
from gateway.domain.keys import Scope

blp = Blueprint("partners", __name__)


@blp.route("/partners")
class ServicePartners(MethodView):
    @requires(Scope.SERVICE)
    @blp.arguments(PartnerListQuerySchema, location="query")
    @blp.response(200, PartnerPageSchema)
    def get(self, query):
        """List partners, e.g. those serving a market before a policy change reaches it"""
        return partner_page(query)
