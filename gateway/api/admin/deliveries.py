"""Operator API for deliveries: list and inspect, replay one or a filtered set, pause a partner, test events."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from contracts.deliveries import (
    AdminDeliveryQuerySchema,
    DeliveryDetailSchema,
    DeliveryPageSchema,
    InboundSecretSchema,
    OperatorEventListSchema,
    OperatorEventQuerySchema,
    ReplayResultSchema,
    ReplaySchema,
    TestEventSchema,
)
from contracts.partners import PartnerSchema
from gateway.api.http.auth import requires
from gateway.api.http.idempotent import idempotent
from gateway.api.http.uow import reading
from gateway.api.shared.deliveries import delivery_detail, delivery_filter, delivery_page
from gateway.domain.clock import utcnow
from gateway.domain.keys import Scope
from gateway.services import deliveries as delivery_service
from gateway.services import partners as partner_service

blp = Blueprint("deliveries", __name__)


@blp.route("/deliveries")
class Deliveries(MethodView):
    @requires(Scope.ADMIN)
    @blp.arguments(AdminDeliveryQuerySchema, location="query")
    @blp.response(200, DeliveryPageSchema)
    def get(self, query):
        """List deliveries by partner, status, event type and creation time, in publishing order"""
        return delivery_page(query, partner_code=query.get("partner"))


@blp.route("/deliveries/<int:delivery_id>")
class DeliveryItem(MethodView):
    @requires(Scope.ADMIN)
    @blp.response(200, DeliveryDetailSchema)
    def get(self, delivery_id):
        """Show a delivery with its event and every attempt"""
        with reading() as session:
            return delivery_detail(session, delivery_id)


@blp.route("/deliveries/<int:delivery_id>/replay")
class DeliveryReplay(MethodView):
    @requires(Scope.ADMIN)
    @idempotent
    @blp.response(200, DeliveryDetailSchema)
    def post(self, delivery_id, session):
        """Send a delivery again with a fresh retry schedule (same webhook-id)

        A delivery to a deleted endpoint is a 409: there is nowhere to send it.
        """
        delivery_service.replay_delivery(session, delivery_id, now=utcnow())
        return delivery_detail(session, delivery_id)


@blp.route("/deliveries/replay")
class DeliveriesReplay(MethodView):
    @requires(Scope.ADMIN)
    @idempotent
    @blp.arguments(ReplaySchema)
    @blp.response(200, ReplayResultSchema)
    def post(self, body, session):
        """Replay every matching delivery of a partner: by default its dead letters (since, until, type)

        Deliveries to deleted endpoints are left out (and not counted): there is nowhere to send them.
        """
        count = delivery_service.replay_matching(
            session, delivery_filter(body, partner_code=body["partner"]), now=utcnow()
        )
        return {"replayed": count}


def _pause(session: Session, code: str, paused: bool):
    return delivery_service.set_deliveries_paused(session, code, paused)


@blp.route("/partners/<code>/deliveries/pause")
class PartnerDeliveriesPause(MethodView):
    @requires(Scope.ADMIN)
    @idempotent
    @blp.response(200, PartnerSchema)
    def post(self, code, session):
        """Hold every delivery to a partner; events are still recorded and wait"""
        return _pause(session, code, True)


@blp.route("/partners/<code>/deliveries/resume")
class PartnerDeliveriesResume(MethodView):
    @requires(Scope.ADMIN)
    @idempotent
    @blp.response(200, PartnerSchema)
    def post(self, code, session):
        """Release a partner's held deliveries, in order"""
        return _pause(session, code, False)


@blp.route("/partners/<code>/test-event")
class PartnerTestEvent(MethodView):
    @requires(Scope.ADMIN)
    @idempotent
    @blp.response(202, TestEventSchema)
    def post(self, code, session):
        """Send a gateway.test event to the partner's endpoints (and feed)"""
        return delivery_service.send_test_event(session, code, now=utcnow())


@blp.route("/partners/<code>/inbound-secret")
class PartnerInboundSecret(MethodView):
    @requires(Scope.ADMIN)
    @idempotent
    @blp.response(201, InboundSecretSchema)
    def post(self, code, session):
        """Issue the secret a partner signs its callbacks with (replacing any earlier one); shown once"""
        return {"secret": partner_service.new_inbound_secret(session, code)}


@blp.route("/operator-events")
class OperatorEvents(MethodView):
    @requires(Scope.ADMIN)
    @blp.arguments(OperatorEventQuerySchema, location="query")
    @blp.response(200, OperatorEventListSchema)
    def get(self, query):
        """What operators should know about, newest first: e.g. endpoints disabled after failing for days"""
        with reading() as session:
            return {
                "items": delivery_service.list_operator_events(session, since=query.get("since"), limit=query["limit"])
            }
