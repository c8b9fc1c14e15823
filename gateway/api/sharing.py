"""Sharing policies: operators schedule them and see who has acknowledged; partners read and acknowledge their
notices; the service sends per-account household and extra-member notices."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import g
from flask.views import MethodView

from contracts.sharing import (
    AccountNoticeRequestSchema,
    AccountNoticeResultSchema,
    PartnerNoticeListQuerySchema,
    PartnerNoticePageSchema,
    PartnerNoticeSchema,
    PolicyNoticePageSchema,
    PolicyNoticeQuerySchema,
    SharingPolicyCreateSchema,
    SharingPolicyListQuerySchema,
    SharingPolicyPageSchema,
    SharingPolicySchema,
)
from contracts.subscriptions import EmptySchema
from gateway.api import admin, partner, service
from gateway.api.http.auth import current_partner_code, requires
from gateway.api.http.idempotent import idempotent
from gateway.api.http.pagination import page, time_and_id_after
from gateway.api.http.uow import reading
from gateway.domain.clock import utcnow
from gateway.domain.keys import Scope
from gateway.runtime import setting
from gateway.services import sharing as sharing_service
from gateway.services.sharing import NoticeCounts
from gateway.store.models import Partner, PartnerNotice, SharingPolicy

# The routes below belong to the audiences' blueprints: operators, partners and the service.
BLUEPRINTS = (admin.blp, partner.blp, service.blp)


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


def _progress(notice: PartnerNotice) -> dict[str, Any]:
    return {
        "announced_at": notice.announced_at,
        "effective_sent_at": notice.effective_sent_at,
        "acknowledged_at": notice.acknowledged_at,
        "reminders_sent": notice.reminders_sent,
        "next_reminder_at": notice.next_reminder_at,
    }


def _notice_body(notice: PartnerNotice, policy: SharingPolicy) -> dict[str, Any]:
    return {
        "id": notice.id,
        "policy_id": policy.id,
        "markets": list(notice.markets),
        **sharing_service.policy_terms(policy, notice.markets),
        **_progress(notice),
    }


def _policy_notice_body(notice: PartnerNotice, partner_row: Partner) -> dict[str, Any]:
    return {
        "id": notice.id,
        "partner": partner_row.code,
        "partner_name": partner_row.display_name,
        "markets": list(notice.markets),
        "acknowledged_by": notice.acknowledged_by,
        **_progress(notice),
    }


def _notice_cursor(notice: PartnerNotice) -> list[str]:
    return [notice.announced_at.isoformat(), notice.id]


# --- operators ---------------------------------------------------------------------------------------------


@admin.blp.route("/sharing-policies")
class SharingPolicies(MethodView):
    @requires(Scope.ADMIN)
    @idempotent
    @admin.blp.arguments(SharingPolicyCreateSchema)
    @admin.blp.response(201, SharingPolicySchema)
    def post(self, body, session):
        """Schedule a sharing-policy change: partners in its markets hear of it a lead time before it takes effect"""
        lead_days = body.pop("lead_days", setting("SHARING_LEAD_DAYS"))
        policy = sharing_service.create_policy(session, lead=timedelta(days=lead_days), now=utcnow(), **body)
        return _policy_body(policy, NoticeCounts()), {"Location": f"/admin/v1/sharing-policies/{policy.id}"}

    @requires(Scope.ADMIN)
    @admin.blp.arguments(SharingPolicyListQuerySchema, location="query")
    @admin.blp.response(200, SharingPolicyPageSchema)
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


@admin.blp.route("/sharing-policies/<policy_id>")
class SharingPolicyItem(MethodView):
    @requires(Scope.ADMIN)
    @admin.blp.response(200, SharingPolicySchema)
    def get(self, policy_id):
        """Show one sharing policy and where its announcement stands"""
        with reading() as session:
            policy = sharing_service.get_policy(session, policy_id)
            counts = sharing_service.notice_counts(session, [policy.id]).get(policy.id, NoticeCounts())
        return _policy_body(policy, counts)


@admin.blp.route("/sharing-policies/<policy_id>/notices")
class SharingPolicyNotices(MethodView):
    @requires(Scope.ADMIN)
    @admin.blp.arguments(PolicyNoticeQuerySchema, location="query")
    @admin.blp.response(200, PolicyNoticePageSchema)
    def get(self, query, policy_id):
        """The partners briefed on a policy; acknowledged=false: those that have not acknowledged yet"""
        after = time_and_id_after(query)
        with reading() as session:
            found = sharing_service.list_policy_notices(
                session, policy_id, limit=query["limit"] + 1, after=after, acknowledged=query.get("acknowledged")
            )
        body = page(found, query["limit"], key=lambda row: _notice_cursor(row[0]))
        body["items"] = [_policy_notice_body(notice, partner_row) for notice, partner_row in body["items"]]
        return body


# --- partners ----------------------------------------------------------------------------------------------
# Reading notices needs events:read: they are briefings the partner receives as events, and the systems that
# read the event feed (where each sharing.* event names its notice_id) are the ones that follow them up.
# Acknowledging is a write the partner answers for, like a command on its subscriptions: subscriptions:write.


@partner.blp.route("/notices")
class PartnerNotices(MethodView):
    @requires(Scope.EVENTS_READ)
    @partner.blp.arguments(PartnerNoticeListQuerySchema, location="query")
    @partner.blp.response(200, PartnerNoticePageSchema)
    def get(self, query):
        """List this partner's sharing-policy notices, oldest first"""
        after = time_and_id_after(query)
        with reading() as session:
            found = sharing_service.list_partner_notices(
                session, current_partner_code(), limit=query["limit"] + 1, after=after
            )
        body = page(found, query["limit"], key=lambda row: _notice_cursor(row[0]))
        body["items"] = [_notice_body(notice, policy) for notice, policy in body["items"]]
        return body


@partner.blp.route("/notices/<notice_id>")
class PartnerNoticeItem(MethodView):
    @requires(Scope.EVENTS_READ)
    @partner.blp.response(200, PartnerNoticeSchema)
    def get(self, notice_id):
        """Show one sharing-policy notice and whether it is acknowledged"""
        with reading() as session:
            return _notice_body(*sharing_service.get_partner_notice(session, current_partner_code(), notice_id))


@partner.blp.route("/notices/<notice_id>/acknowledgement")
class PartnerNoticeAcknowledgement(MethodView):
    @requires(Scope.SUBSCRIPTIONS_WRITE)
    @idempotent
    @partner.blp.arguments(EmptySchema)
    @partner.blp.response(200, PartnerNoticeSchema)
    def post(self, body, notice_id, session):
        """Acknowledge a notice (the call center is briefed): reminders stop; acknowledging again changes nothing"""
        notice, policy = sharing_service.acknowledge(
            session, current_partner_code(), notice_id, key_id=g.principal.key_id, now=utcnow()
        )
        return _notice_body(notice, policy)


# --- the service -------------------------------------------------------------------------------------------


@service.blp.route("/subscriptions/<subscription_id>/notices")
class AccountNotices(MethodView):
    @requires(Scope.SERVICE)
    @idempotent
    @service.blp.arguments(AccountNoticeRequestSchema)
    @service.blp.response(202, AccountNoticeResultSchema)
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
