"""Service API for members' subscriptions: activation by code, reading any partner's subscription, the member's
own actions taken in the app, and viewing activity in bulk."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from contracts.subscriptions import (
    ActivationRequestSchema,
    ActivityReportSchema,
    ActivityResultSchema,
    ChangePlanSchema,
    EmptySchema,
    ServiceCancelSchema,
    SubscriptionSchema,
)
from gateway.api.http import uow
from gateway.api.http.auth import requires
from gateway.api.http.idempotent import idempotent
from gateway.api.shared.subscription_actions import ETAG_HEADER, SERVICE_CALLER, run_command, subscription_response
from gateway.domain.clock import utcnow
from gateway.domain.keys import Scope
from gateway.domain.lifecycle import Actor, Command, cancellation_command
from gateway.http.guards import accepts_body
from gateway.services import subscriptions as subscription_service

blp = Blueprint("subscriptions", __name__)


@blp.route("/activations")
class Activations(MethodView):
    @requires(Scope.SERVICE)
    @idempotent
    @blp.arguments(ActivationRequestSchema)
    @blp.response(200, SubscriptionSchema, headers=ETAG_HEADER)
    def post(self, body, session):
        """The member linked or created a streaming account with the partner's activation code"""
        subscription = subscription_service.activate_by_code(
            session, body["code"], member_id=body["member_id"], reason=body["reason"], now=utcnow()
        )
        return subscription_response(subscription, SERVICE_CALLER)


@blp.route("/subscriptions/<subscription_id>")
class ServiceSubscription(MethodView):
    @requires(Scope.SERVICE)
    @blp.response(200, SubscriptionSchema, headers=ETAG_HEADER)
    def get(self, subscription_id):
        """Show any partner's subscription"""
        with uow.reading() as session:
            subscription = subscription_service.get_subscription(session, subscription_id)
            return subscription_response(subscription, SERVICE_CALLER)


def _member_command(session: Session, subscription_id: str, command: Command, reason: str, plan: str | None = None):
    return run_command(
        session, subscription_id, command, actor=Actor.MEMBER, reason=reason, partner_code=None, plan=plan
    )


@blp.route("/subscriptions/<subscription_id>/cancel")
class ServiceCancel(MethodView):
    @requires(Scope.SERVICE)
    @idempotent
    @blp.arguments(ServiceCancelSchema, required=False)
    @blp.response(200, SubscriptionSchema, headers=ETAG_HEADER)
    def post(self, body, subscription_id, session):
        """The member cancelled in the app (period end), or the service closed the account (immediately)"""
        if cancellation_command(body["when"], body["reason"]) is Command.SCHEDULE_CANCELLATION:
            return _member_command(session, subscription_id, Command.SCHEDULE_CANCELLATION, body["reason"])
        return run_command(
            session, subscription_id, Command.CANCEL_NOW, actor=Actor.SERVICE, reason=body["reason"], partner_code=None
        )


@blp.route("/subscriptions/<subscription_id>/revert-cancellation")
class ServiceRevertCancellation(MethodView):
    @requires(Scope.SERVICE)
    @idempotent
    @blp.arguments(EmptySchema, required=False)
    @blp.response(200, SubscriptionSchema, headers=ETAG_HEADER)
    def post(self, body, subscription_id, session):
        """The member changed their mind in the app before the period ended"""
        return _member_command(session, subscription_id, Command.REVERT_CANCELLATION, "member_request")


@blp.route("/subscriptions/<subscription_id>/change-plan")
class ServiceChangePlan(MethodView):
    @requires(Scope.SERVICE)
    @idempotent
    @blp.arguments(ChangePlanSchema)
    @blp.response(200, SubscriptionSchema, headers=ETAG_HEADER)
    def post(self, body, subscription_id, session):
        """The member changed plan in the app: an upgrade at once, a downgrade at the period end"""
        return _member_command(session, subscription_id, Command.CHANGE_PLAN, "", plan=body["plan"])


@blp.route("/subscriptions/<subscription_id>/rejoin")
class ServiceRejoin(MethodView):
    @requires(Scope.SERVICE)
    @idempotent
    @blp.arguments(EmptySchema, required=False)
    @blp.response(200, SubscriptionSchema, headers=ETAG_HEADER)
    def post(self, body, subscription_id, session):
        """The member rejoined within the retention window: profile, list and settings are restored

        The gateway restores what it kept: the link to the member's streaming account, the plan and the member's
        language (profiles, list and settings themselves are the streaming service's). A subscription that was
        never activated has no member to restore, and one past its retention window is gone: both are a 409.
        """
        return _member_command(session, subscription_id, Command.REJOIN, "member_rejoined")


@blp.route("/subscriptions/<subscription_id>/keep")
class ServiceKeep(MethodView):
    @requires(Scope.SERVICE)
    @idempotent
    @blp.arguments(EmptySchema, required=False)
    @blp.response(200, SubscriptionSchema, headers=ETAG_HEADER)
    def post(self, body, subscription_id, session):
        """The member confirmed in the app that they want to keep the membership after an inactivity warning"""
        return _member_command(session, subscription_id, Command.CONFIRM_KEEP, "member_confirmed")


@blp.route("/activity")
class Activity(MethodView):
    @requires(Scope.SERVICE)
    @accepts_body("application/json", limit_setting="MAX_BULK_BYTES")
    @idempotent
    @blp.arguments(ActivityReportSchema)
    @blp.response(200, ActivityResultSchema)
    def post(self, body, session):
        """Report members' latest viewing times in bulk (up to 10,000 per request)

        Only live subscriptions (active, suspended, cancellation scheduled) take a viewing time; ids of others
        come back in `skipped`, ids of none in `unknown`, ids whose time is before the member joined in
        `before_joining`. A time in the future refuses the whole report (422).
        """
        views = [(item["subscription_id"], item["last_viewed_at"]) for item in body["items"]]
        result = subscription_service.record_viewing(session, views, now=utcnow())
        return result._asdict()
