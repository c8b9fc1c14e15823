"""Call-center API: the partner the calling agent works for (GET /v1/callcenter/profile)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from contracts.callcenter import CallCenterProfileSchema
from gateway.api.http.auth import current_partner_code, requires
from gateway.api.http.uow import reading
from gateway.domain.keys import Scope
from gateway.services import partners as partner_service

blp = Blueprint("profile", __name__)


@blp.route("/profile")
class Profile(MethodView):
    @requires(Scope.CALLCENTER)
    @blp.response(200, CallCenterProfileSchema)
    def get(self):
        """The partner this agent works for: name, default language, markets"""
        with reading() as session:
            return partner_service.get_partner(session, current_partner_code())
