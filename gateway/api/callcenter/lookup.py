"""Call-center API: look up one of the partner's subscribers (GET /v1/callcenter/lookup)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from contracts.lookup import LookupQuerySchema, LookupSchema
from gateway.api.http.auth import current_partner_code, requires
from gateway.api.http.uow import reading
from gateway.domain.clock import utcnow
from gateway.domain.keys import Scope
from gateway.services import lookup as lookup_service

blp = Blueprint("lookup", __name__)


@blp.route("/lookup")
class SubscriberLookup(MethodView):
    @requires(Scope.CALLCENTER)
    @blp.arguments(LookupQuerySchema, location="query")
    @blp.response(200, LookupSchema)
    def get(self, query):
        """Look up one of the partner's subscribers by partner_ref

        Status and reason in plain words in the agent's language, key dates, the last notices and their
        delivery, the FAQ articles that explain the situation, the actions available and who can take each,
        and any open escalation.
        """
        with reading() as session:
            found = lookup_service.lookup_subscriber(
                session,
                partner_code=current_partner_code(),
                partner_ref=query["partner_ref"],
                locale=query.get("locale"),
                now=utcnow(),
            )
            return lookup_service.as_document(found)
