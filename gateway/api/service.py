"""Service API (/v1/service): the streaming service's own systems (the `service` scope)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from contracts.partners import PartnerListQuerySchema, PartnerPageSchema
from gateway.api.auth import requires
from gateway.api.listings import partner_page
from gateway.domain.keys import Scope

blp = Blueprint("service", __name__, url_prefix="/v1/service", description="Service API: the streaming service.")


@blp.route("/partners")
class ServicePartners(MethodView):
    @requires(Scope.SERVICE)
    @blp.arguments(PartnerListQuerySchema, location="query")
    @blp.response(200, PartnerPageSchema)
    def get(self, query):
        """List partners, e.g. those serving a market before a policy change reaches it"""
        return partner_page(query)
