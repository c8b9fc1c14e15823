"""Partner API for sharing-policy notices: read them and acknowledge them (GET /v1/notices, .../acknowledgement)."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from contracts.sharing import PartnerNoticeListQuerySchema, PartnerNoticePageSchema, PartnerNoticeSchema
from contracts.subscriptions import EmptySchema
from gateway.api.http.auth import current_partner_code, requires
from gateway.api.http.idempotent import idempotent
from gateway.api.http.pagination import page, time_and_id_after
from gateway.api.http.uow import reading
from gateway.api.shared.notices import notice_cursor, progress
from gateway.domain.clock import utcnow
from gateway.domain.keys import Scope
from gateway.services import sharing as sharing_service
from gateway.store.models import PartnerNotice, SharingPolicy

blp = Blueprint("notices", __name__)


def _notice_body(notice: PartnerNotice, policy: SharingPolicy) -> dict[str, Any]:
    return {
        "id": notice.id,
        "policy_id": policy.id,
        "markets": list(notice.markets),
        **sharing_service.policy_terms(policy, notice.markets),
        **progress(notice),
    }


# Reading notices needs events:read: they are briefings the partner receives as events, and the systems that
# read the event feed (where each sharing.* event names its notice_id) are the ones that follow them up.
# Acknowledging is a write the partner answers for, like a command on its subscriptions: subscriptions:write.


@blp.route("/notices")
class PartnerNotices(MethodView):
    @requires(Scope.EVENTS_READ)
    @blp.arguments(PartnerNoticeListQuerySchema, location="query")
    @blp.response(200, PartnerNoticePageSchema)
    def get(self, query):
        """List this partner's sharing-policy notices, oldest first"""
        after = time_and_id_after(query)
        with reading() as session:
            found = sharing_service.list_partner_notices(
                session, current_partner_code(), limit=query["limit"] + 1, after=after
            )
        body = page(found, query["limit"], key=lambda row: notice_cursor(row[0]))
        body["items"] = [_notice_body(notice, policy) for notice, policy in body["items"]]
        return body


@blp.route("/notices/<notice_id>")
class PartnerNoticeItem(MethodView):
    @requires(Scope.EVENTS_READ)
    @blp.response(200, PartnerNoticeSchema)
    def get(self, notice_id):
        """Show one sharing-policy notice and whether it is acknowledged"""
        with reading() as session:
            return _notice_body(*sharing_service.get_partner_notice(session, current_partner_code(), notice_id))


@blp.route("/notices/<notice_id>/acknowledgement")
class PartnerNoticeAcknowledgement(MethodView):
    @requires(Scope.SUBSCRIPTIONS_WRITE)
    @idempotent
    @blp.arguments(EmptySchema, required=False)
    @blp.response(200, PartnerNoticeSchema)
    def post(self, body, notice_id, session):
        """Acknowledge a notice (the call center is briefed): reminders stop; acknowledging again changes nothing"""
        notice, policy = sharing_service.acknowledge(
            session, current_partner_code(), notice_id, key_id=g.principal.key_id, now=utcnow()
        )
        return _notice_body(notice, policy)
