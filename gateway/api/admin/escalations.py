"""Operator API for escalations: the streaming service's support lists cases across partners (overdue ones
first to mind), reads them, acknowledges, starts and resolves them, and comments."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from contracts.escalations import (
    AdminEscalationListQuerySchema,
    EscalationDetailSchema,
    EscalationPageSchema,
    ResolveSchema,
    ServiceActionSchema,
    ServiceCommentSchema,
)
from gateway.api.http import uow
from gateway.api.http.auth import requires
from gateway.api.http.idempotent import idempotent
from gateway.api.shared.escalations import ETAG_HEADER, check_if_match, escalation_detail, list_page
from gateway.domain.clock import utcnow
from gateway.domain.escalations import Action, Side
from gateway.domain.keys import Scope
from gateway.runtime import sla_policy
from gateway.services import escalations as escalation_service

blp = Blueprint("escalations", __name__)


def _author(body: dict[str, Any]) -> str:
    """Who acts for the service: as given, or the operator key that called (its prefix is not secret)."""
    return body.get("author") or f"key:{g.principal.key_prefix}"


def _service_change(session: Session, escalation_id: str, change) -> tuple[dict[str, Any], dict[str, str]]:
    """In the request's transaction: load the case under a lock, check If-Match, apply
    `change(session, escalation, now)`."""
    now = utcnow()
    escalation = escalation_service.get_escalation(session, escalation_id, for_update=True)
    check_if_match(escalation)
    change(session, escalation, now)
    return escalation_detail(session, escalation, Side.SERVICE, now)


def _service_action(session: Session, escalation_id: str, action: Action, body: dict[str, Any]):
    return _service_change(
        session,
        escalation_id,
        lambda session, escalation, now: escalation_service.change_status(
            session,
            escalation,
            action,
            side=Side.SERVICE,
            author=_author(body),
            now=now,
            sla=sla_policy(),
            comment=body.get("comment"),
        ),
    )


@blp.route("/escalations")
class AdminEscalations(MethodView):
    @requires(Scope.ADMIN)
    @blp.arguments(AdminEscalationListQuerySchema, location="query")
    @blp.response(200, EscalationPageSchema)
    def get(self, query):
        """List escalations across partners, oldest first: by partner, status, category, priority, overdue"""
        return list_page(query, side=Side.SERVICE, partner_code=query.get("partner"))


@blp.route("/escalations/<escalation_id>")
class AdminEscalationItem(MethodView):
    @requires(Scope.ADMIN)
    @blp.response(200, EscalationDetailSchema, headers=ETAG_HEADER)
    def get(self, escalation_id):
        """Show one escalation with its whole history"""
        with uow.reading() as session:
            escalation = escalation_service.get_escalation(session, escalation_id)
            return escalation_detail(session, escalation, Side.SERVICE, utcnow())


@blp.route("/escalations/<escalation_id>/acknowledge")
class AdminEscalationAcknowledge(MethodView):
    @requires(Scope.ADMIN)
    @idempotent
    @blp.arguments(ServiceActionSchema, required=False)
    @blp.response(200, EscalationDetailSchema, headers=ETAG_HEADER)
    def post(self, body, escalation_id, session):
        """Acknowledge an open escalation: the partner learns the service has seen it"""
        return _service_action(session, escalation_id, Action.ACKNOWLEDGE, body)


@blp.route("/escalations/<escalation_id>/start")
class AdminEscalationStart(MethodView):
    @requires(Scope.ADMIN)
    @idempotent
    @blp.arguments(ServiceActionSchema, required=False)
    @blp.response(200, EscalationDetailSchema, headers=ETAG_HEADER)
    def post(self, body, escalation_id, session):
        """Start work on an acknowledged escalation"""
        return _service_action(session, escalation_id, Action.START, body)


@blp.route("/escalations/<escalation_id>/resolve")
class AdminEscalationResolve(MethodView):
    @requires(Scope.ADMIN)
    @idempotent
    @blp.arguments(ResolveSchema)
    @blp.response(200, EscalationDetailSchema, headers=ETAG_HEADER)
    def post(self, body, escalation_id, session):
        """Resolve an escalation in progress, saying what was done; the partner closes or reopens it"""
        return _service_action(session, escalation_id, Action.RESOLVE, body)


@blp.route("/escalations/<escalation_id>/comments")
class AdminEscalationComments(MethodView):
    @requires(Scope.ADMIN)
    @idempotent
    @blp.arguments(ServiceCommentSchema)
    @blp.response(200, EscalationDetailSchema, headers=ETAG_HEADER)
    def post(self, body, escalation_id, session):
        """Comment on an escalation that is not closed, e.g. ask the partner's agent for details"""
        return _service_change(
            session,
            escalation_id,
            lambda session, escalation, now: escalation_service.add_comment(
                session, escalation, side=Side.SERVICE, author=_author(body), comment=body["comment"], now=now
            ),
        )
