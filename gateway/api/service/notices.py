"""Service API: household-verification and extra-member notices about one member's account, sent to its partner
(POST /v1/service/subscriptions/{id}/notices)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from contracts.sharing import AccountNoticeRequestSchema, AccountNoticeResultSchema
from gateway.api.http.auth import requires
from gateway.api.http.idempotent import idempotent
from gateway.domain.clock import utcnow
from gateway.domain.keys import Scope
from gateway.services import sharing as sharing_service

blp = Blueprint("notices", __name__)


@blp.route("/subscriptions/<subscription_id>/notices")
class AccountNotices(MethodView):
    @requires(Scope.SERVICE)
    @idempotent
    @blp.arguments(AccountNoticeRequestSchema)
    @blp.response(202, AccountNoticeResultSchema)
    def post(self, body, subscription_id, session):
        """Send a household-verification or extra-member notice about a member's account to its partner"""
        event = sharing_service.send_account_notice(
            session, subscription_id, body["type"], now=utcnow(), verify_by=body.get("verify_by")
        )
        return {
            "event_id": event.event_id,
            "type": event.event_type,
            "subscription_id": subscription_id,
            "sequence": event.sequence,
        }
