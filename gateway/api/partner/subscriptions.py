"""Partner API for bundled subscriptions: create, read, list, history, and the lifecycle actions."""

from __future__ import annotations

from datetime import timedelta

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from contracts.subscriptions import (
    CancelSchema,
    ChangePlanSchema,
    EmptySchema,
    HistorySchema,
    ResumeSchema,
    SubscriptionCreateSchema,
    SubscriptionListQuerySchema,
    SubscriptionPageSchema,
    SubscriptionSchema,
    SuspendSchema,
)
from gateway.api.http import uow
from gateway.api.http.auth import current_partner_code, requires
from gateway.api.http.idempotent import idempotent
from gateway.api.http.pagination import page, time_and_id_after
from gateway.api.shared.presenters import direct_json, history_entry_body, subscription_body
from gateway.api.shared.subscription_actions import (
    ETAG_HEADER,
    PARTNER_CALLER,
    location_of,
    run_command,
    subscription_response,
)
from gateway.domain.clock import utcnow
from gateway.domain.keys import Scope
from gateway.domain.lifecycle import Actor, Command, cancellation_command
from gateway.runtime import setting
from gateway.services import subscriptions as subscription_service

blp = Blueprint("subscriptions", __name__)


@blp.route("/subscriptions")
class Subscriptions(MethodView):
    @requires(Scope.SUBSCRIPTIONS_WRITE)
    @idempotent
    @blp.arguments(SubscriptionCreateSchema)
    @blp.response(201, SubscriptionSchema, headers=ETAG_HEADER)
    def post(self, body, session):
        """Create a bundled subscription; the member activates it with the returned code"""
        subscription = subscription_service.create_subscription(
            session,
            partner_code=current_partner_code(),
            now=utcnow(),
            activation_window=timedelta(days=setting("ACTIVATION_WINDOW_DAYS")),
            **body,
        )
        representation, headers = subscription_response(subscription)
        return representation, {**headers, "Location": location_of(subscription.id)}

    @requires(Scope.SUBSCRIPTIONS_READ)
    @blp.arguments(SubscriptionListQuerySchema, location="query")
    @blp.response(200, SubscriptionPageSchema)
    def get(self, query):
        """List this partner's subscriptions, oldest first, by partner_ref or status"""
        after = time_and_id_after(query)
        with uow.reading() as session:
            found = subscription_service.list_subscriptions(
                session,
                partner_code=current_partner_code(),
                limit=query["limit"] + 1,
                after=after,
                partner_ref=query.get("partner_ref"),
                status=query.get("status"),
            )
        body = page(found, query["limit"], key=lambda item: [item.created_at.isoformat(), item.id])
        actions = PARTNER_CALLER.actions_from
        body["items"] = [subscription_body(item, setting("ACTIVATION_URL"), actions) for item in body["items"]]
        return body


@blp.route("/subscriptions/<subscription_id>")
class SubscriptionItem(MethodView):
    @requires(Scope.SUBSCRIPTIONS_READ)
    @blp.response(200, SubscriptionSchema, headers=ETAG_HEADER)
    def get(self, subscription_id):
        """Show one subscription"""
        subscription = subscription_service.read_subscription(
            uow.request_rows(), subscription_id, partner_code=current_partner_code()
        )
        return direct_json(*subscription_response(subscription))


@blp.route("/subscriptions/<subscription_id>/history")
class SubscriptionHistory(MethodView):
    @requires(Scope.SUBSCRIPTIONS_READ)
    @blp.response(200, HistorySchema)
    def get(self, subscription_id):
        """Every change of the subscription: from, to, reason, actor, the console agent if any, time"""
        with uow.reading() as session:
            subscription = subscription_service.get_subscription(
                session, subscription_id, partner_code=current_partner_code()
            )
            return {
                "items": [history_entry_body(entry) for entry in subscription_service.history(session, subscription)]
            }


def _partner_command(session: Session, subscription_id: str, command: Command, reason: str, plan: str | None = None):
    return run_command(
        session,
        subscription_id,
        command,
        actor=Actor.PARTNER,
        reason=reason,
        partner_code=current_partner_code(),
        plan=plan,
    )


@blp.route("/subscriptions/<subscription_id>/change-plan")
class ChangePlan(MethodView):
    @requires(Scope.SUBSCRIPTIONS_WRITE)
    @idempotent
    @blp.arguments(ChangePlanSchema)
    @blp.response(200, SubscriptionSchema, headers=ETAG_HEADER)
    def post(self, body, subscription_id, session):
        """Change the plan: an upgrade applies at once, a downgrade when the billing period ends"""
        # The reason (upgrade or downgrade) follows from the plans; apply_command works it out.
        return _partner_command(session, subscription_id, Command.CHANGE_PLAN, "", plan=body["plan"])


@blp.route("/subscriptions/<subscription_id>/suspend")
class Suspend(MethodView):
    @requires(Scope.SUBSCRIPTIONS_WRITE)
    @idempotent
    @blp.arguments(SuspendSchema, required=False)
    @blp.response(200, SubscriptionSchema, headers=ETAG_HEADER)
    def post(self, body, subscription_id, session):
        """Suspend an active subscription (the customer did not pay)"""
        return _partner_command(session, subscription_id, Command.SUSPEND, body["reason"])


@blp.route("/subscriptions/<subscription_id>/resume")
class Resume(MethodView):
    @requires(Scope.SUBSCRIPTIONS_WRITE)
    @idempotent
    @blp.arguments(ResumeSchema, required=False)
    @blp.response(200, SubscriptionSchema, headers=ETAG_HEADER)
    def post(self, body, subscription_id, session):
        """Resume a suspended subscription (payment recovered)"""
        return _partner_command(session, subscription_id, Command.RESUME, body["reason"])


@blp.route("/subscriptions/<subscription_id>/cancel")
class Cancel(MethodView):
    @requires(Scope.SUBSCRIPTIONS_WRITE)
    @idempotent
    @blp.arguments(CancelSchema, required=False)
    @blp.response(200, SubscriptionSchema, headers=ETAG_HEADER)
    def post(self, body, subscription_id, session):
        """Cancel at the end of the billing period (the member keeps access until then) or immediately"""
        command = cancellation_command(body["when"], body["reason"])
        return _partner_command(session, subscription_id, command, body["reason"])


@blp.route("/subscriptions/<subscription_id>/revert-cancellation")
class RevertCancellation(MethodView):
    @requires(Scope.SUBSCRIPTIONS_WRITE)
    @idempotent
    @blp.arguments(EmptySchema, required=False)
    @blp.response(200, SubscriptionSchema, headers=ETAG_HEADER)
    def post(self, body, subscription_id, session):
        """Keep a subscription whose cancellation is scheduled"""
        return _partner_command(session, subscription_id, Command.REVERT_CANCELLATION, "member_request")


@blp.route("/subscriptions/<subscription_id>/keep")
class KeepMembership(MethodView):
    @requires(Scope.SUBSCRIPTIONS_WRITE)
    @idempotent
    @blp.arguments(EmptySchema, required=False)
    @blp.response(200, SubscriptionSchema, headers=ETAG_HEADER)
    def post(self, body, subscription_id, session):
        """The member told the partner to keep the membership after an inactivity warning"""
        return _partner_command(session, subscription_id, Command.CONFIRM_KEEP, "partner_confirmed")
