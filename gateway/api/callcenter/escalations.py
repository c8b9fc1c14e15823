"""Call-center API for escalations: agents open cases about their subscribers, follow them, comment, and close
or reopen what the service has resolved."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from contracts.escalations import (
    CloseSchema,
    EscalationCreateSchema,
    EscalationDetailSchema,
    EscalationListQuerySchema,
    EscalationPageSchema,
    PartnerCommentSchema,
    ReopenSchema,
)
from gateway.api.http import uow
from gateway.api.http.auth import current_partner_code, requires
from gateway.api.http.idempotent import idempotent
from gateway.api.shared.escalations import ETAG_HEADER, check_if_match, escalation_detail, list_page
from gateway.domain.clock import utcnow
from gateway.domain.escalations import Action, Side
from gateway.domain.keys import Scope
from gateway.runtime import sla_policy
from gateway.services import escalations as escalation_service

blp = Blueprint("escalations", __name__)

CREATED_HEADERS = {
    **ETAG_HEADER,
    "Location": {"description": "Where the escalation is read and followed.", "schema": {"type": "string"}},
}
ALREADY_OPEN = (
    "An unresolved escalation for this subscriber and category exists already: this is it, unchanged (Location "
    "points to it). Add what this agent knows as a comment."
)


def location_of(escalation_id: str) -> str:
    return url_for("callcenter.escalations.EscalationItem", escalation_id=escalation_id)


@blp.route("/escalations")
class Escalations(MethodView):
    @requires(Scope.CALLCENTER)
    @idempotent
    @blp.arguments(EscalationCreateSchema)
    @blp.response(201, EscalationDetailSchema, description="The new escalation.", headers=CREATED_HEADERS)
    @blp.alt_response(200, schema=EscalationDetailSchema, description=ALREADY_OPEN, headers=CREATED_HEADERS)
    def post(self, body, session):
        """Escalate a subscriber's case to the streaming service, due by the SLA of its priority"""
        now = utcnow()
        opened = escalation_service.open_escalation(
            session, partner_code=current_partner_code(), now=now, sla=sla_policy(), **body
        )
        representation, headers = escalation_detail(session, opened.escalation, Side.PARTNER, now)
        headers["Location"] = location_of(opened.escalation.id)
        return representation, 201 if opened.created else 200, headers

    @requires(Scope.CALLCENTER)
    @blp.arguments(EscalationListQuerySchema, location="query")
    @blp.response(200, EscalationPageSchema)
    def get(self, query):
        """List this partner's escalations, oldest first, by status, category, priority, subscriber or overdue"""
        return list_page(query, side=Side.PARTNER, partner_code=current_partner_code())


@blp.route("/escalations/<escalation_id>")
class EscalationItem(MethodView):
    @requires(Scope.CALLCENTER)
    @blp.response(200, EscalationDetailSchema, headers=ETAG_HEADER)
    def get(self, escalation_id):
        """Show one escalation with its whole history: status changes and comments from both sides"""
        with uow.reading() as session:
            escalation = escalation_service.get_escalation(session, escalation_id, partner_code=current_partner_code())
            return escalation_detail(session, escalation, Side.PARTNER, utcnow())


def _partner_change(session: Session, escalation_id: str, change) -> tuple[dict[str, Any], dict[str, str]]:
    """In the request's transaction: load the partner's case under a lock, check If-Match, apply
    `change(session, escalation, now)`."""
    now = utcnow()
    escalation = escalation_service.get_escalation(
        session, escalation_id, partner_code=current_partner_code(), for_update=True
    )
    check_if_match(escalation)
    change(session, escalation, now)
    return escalation_detail(session, escalation, Side.PARTNER, now)


def _partner_action(session: Session, escalation_id: str, action: Action, body: dict[str, Any]):
    return _partner_change(
        session,
        escalation_id,
        lambda session, escalation, now: escalation_service.change_status(
            session,
            escalation,
            action,
            side=Side.PARTNER,
            author=body["agent_ref"],
            now=now,
            sla=sla_policy(),
            comment=body.get("comment"),
        ),
    )


@blp.route("/escalations/<escalation_id>/comments")
class EscalationComments(MethodView):
    @requires(Scope.CALLCENTER)
    @idempotent
    @blp.arguments(PartnerCommentSchema)
    @blp.response(200, EscalationDetailSchema, headers=ETAG_HEADER)
    def post(self, body, escalation_id, session):
        """Add a comment to an escalation that is not closed (the service sees it at once)"""
        return _partner_change(
            session,
            escalation_id,
            lambda session, escalation, now: escalation_service.add_comment(
                session, escalation, side=Side.PARTNER, author=body["agent_ref"], comment=body["comment"], now=now
            ),
        )


@blp.route("/escalations/<escalation_id>/close")
class EscalationClose(MethodView):
    @requires(Scope.CALLCENTER)
    @idempotent
    @blp.arguments(CloseSchema)
    @blp.response(200, EscalationDetailSchema, headers=ETAG_HEADER)
    def post(self, body, escalation_id, session):
        """Close an escalation the service has resolved: the case is settled"""
        return _partner_action(session, escalation_id, Action.CLOSE, body)


@blp.route("/escalations/<escalation_id>/reopen")
class EscalationReopen(MethodView):
    @requires(Scope.CALLCENTER)
    @idempotent
    @blp.arguments(ReopenSchema)
    @blp.response(200, EscalationDetailSchema, headers=ETAG_HEADER)
    def post(self, body, escalation_id, session):
        """Reopen a resolved escalation that is not settled: it goes back to open with a new SLA due time"""
        return _partner_action(session, escalation_id, Action.REOPEN, body)
