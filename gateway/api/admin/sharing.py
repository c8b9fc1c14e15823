"""Operator API for sharing policies: schedule a change, follow its announcement and see which partners have
acknowledged it (partners' side: partner/notices; the per-account notices: service/notices)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from contracts.sharing import (
    PolicyNoticePageSchema,
    PolicyNoticeQuerySchema,
    SharingPolicyCreateSchema,
    SharingPolicyListQuerySchema,
    SharingPolicyPageSchema,
    SharingPolicySchema,
)
from gateway.api.http.auth import requires
from gateway.api.http.idempotent import idempotent
from gateway.api.http.pagination import page, time_and_id_after
from gateway.api.http.uow import reading
from gateway.api.shared.notices import notice_cursor, progress
from gateway.domain.clock import utcnow
from gateway.domain.keys import Scope
from gateway.runtime import setting
from gateway.services import sharing as sharing_service
from gateway.services.sharing import NoticeCounts
from gateway.store.models import Partner, PartnerNotice, SharingPolicy

blp = Blueprint("sharing", __name__)


def _policy_body(policy: SharingPolicy, counts: NoticeCounts) -> dict[str, Any]:
    return {
        "id": policy.id,
        "markets": list(policy.markets),
        **sharing_service.policy_terms(policy, policy.markets),
        "announce_at": policy.announce_at,
        "status": policy.status,
        "created_at": policy.created_at,
        "announced_at": policy.announced_at,
        "partners_notified": counts.notified,
        "partners_acknowledged": counts.acknowledged,
    }


def _policy_notice_body(notice: PartnerNotice, partner_row: Partner) -> dict[str, Any]:
    return {
        "id": notice.id,
        "partner": partner_row.code,
        "partner_name": partner_row.display_name,
        "markets": list(notice.markets),
        "acknowledged_by": notice.acknowledged_by,
        **progress(notice),
    }


@blp.route("/sharing-policies")
class SharingPolicies(MethodView):
    @requires(Scope.ADMIN)
    @idempotent
    @blp.arguments(SharingPolicyCreateSchema)
    @blp.response(201, SharingPolicySchema)
    def post(self, body, session):
        """Schedule a sharing-policy change: partners in its markets hear of it a lead time before it takes effect"""
        lead_days = body.pop("lead_days", setting("SHARING_LEAD_DAYS"))
        policy = sharing_service.create_policy(session, lead=timedelta(days=lead_days), now=utcnow(), **body)
        return _policy_body(policy, NoticeCounts()), {"Location": f"/admin/v1/sharing-policies/{policy.id}"}

    @requires(Scope.ADMIN)
    @blp.arguments(SharingPolicyListQuerySchema, location="query")
    @blp.response(200, SharingPolicyPageSchema)
    def get(self, query):
        """List sharing policies, oldest first, by status, with how many partners have acknowledged"""
        after = time_and_id_after(query)
        with reading() as session:
            found = sharing_service.list_policies(
                session, limit=query["limit"] + 1, after=after, status=query.get("status")
            )
            body = page(found, query["limit"], key=lambda policy: [policy.created_at.isoformat(), policy.id])
            counts = sharing_service.notice_counts(session, [policy.id for policy in body["items"]])
        body["items"] = [_policy_body(policy, counts.get(policy.id, NoticeCounts())) for policy in body["items"]]
        return body


@blp.route("/sharing-policies/<policy_id>")
class SharingPolicyItem(MethodView):
    @requires(Scope.ADMIN)
    @blp.response(200, SharingPolicySchema)
    def get(self, policy_id):
        """Show one sharing policy and where its announcement stands"""
        with reading() as session:
            policy = sharing_service.get_policy(session, policy_id)
            counts = sharing_service.notice_counts(session, [policy.id]).get(policy.id, NoticeCounts())
        return _policy_body(policy, counts)


@blp.route("/sharing-policies/<policy_id>/notices")
class SharingPolicyNotices(MethodView):
    @requires(Scope.ADMIN)
    @blp.arguments(PolicyNoticeQuerySchema, location="query")
    @blp.response(200, PolicyNoticePageSchema)
    def get(self, query, policy_id):
        """The partners briefed on a policy; acknowledged=false: those that have not acknowledged yet"""
        after = time_and_id_after(query)
        with reading() as session:
            found = sharing_service.list_policy_notices(
                session, policy_id, limit=query["limit"] + 1, after=after, acknowledged=query.get("acknowledged")
            )
        body = page(found, query["limit"], key=lambda row: notice_cursor(row[0]))
        body["items"] = [_policy_notice_body(notice, partner_row) for notice, partner_row in body["items"]]
        return body
