"""Partner API for notices: the event feed, the partner's own deliveries and redelivery, inbound callbacks."""

from __future__ import annotations

import re

from flask import Response, json, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from contracts.deliveries import (
    CallbackResultSchema,
    DeliveryDetailSchema,
    DeliveryPageSchema,
    EventFeedQuerySchema,
    EventFeedSchema,
    PartnerDeliveryQuerySchema,
    TestEventSchema,
)
from contracts.subscriptions import SubscriptionSchema
from gateway.api.http.auth import current_partner_code, requires
from gateway.api.http.idempotent import REPLAYED_HEADER, idempotent
from gateway.api.http.pagination import encode_cursor, number_after
from gateway.api.http.uow import reading, transaction
from gateway.api.partner.inbound import read_callback
from gateway.api.shared.deliveries import delivery_detail, delivery_page
from gateway.api.shared.presenters import subscription_body
from gateway.api.shared.subscription_actions import PARTNER_CALLER, refusals_for
from gateway.domain.clock import utcnow
from gateway.domain.errors import GatewayError, InvalidInput
from gateway.domain.keys import Scope
from gateway.http import unstorable
from gateway.http.guards import JSON, accepts_body, signed_body
from gateway.http.problems import PROBLEM_MEDIA_TYPE, handle_gateway_error, problem
from gateway.runtime import setting
from gateway.services import callbacks as callback_service
from gateway.services import deliveries as delivery_service
from gateway.services.partners import get_partner
from gateway.store.models import InboundEvent
from partners.base import CallbackRejected
from partners.registry import adapter_for

blp = Blueprint("events", __name__)

# What inbound_events.event_id can hold (VARCHAR(255)); Standard Webhooks ids are such tokens, e.g. msg_2KWPBg...
WEBHOOK_ID = re.compile(r"[\x21-\x7e]{1,255}")


@blp.route("/events")
class EventFeed(MethodView):
    @requires(Scope.EVENTS_READ)
    @blp.arguments(EventFeedQuerySchema, location="query")
    @blp.response(200, EventFeedSchema)
    def get(self, query):
        """This partner's events in order, as webhooks carry them: catch up after an outage, or pull instead"""
        after = number_after({"cursor": query["after"]} if "after" in query else {})
        with reading() as session:
            events = delivery_service.list_feed(
                session, current_partner_code(), after=after, limit=query["limit"], event_type=query.get("type")
            )
        last = events[-1].position if events else after
        return {"items": [event.payload for event in events], "next_cursor": encode_cursor([str(last)])}


@blp.route("/deliveries")
class OwnDeliveries(MethodView):
    @requires(Scope.EVENTS_READ)
    @blp.arguments(PartnerDeliveryQuerySchema, location="query")
    @blp.response(200, DeliveryPageSchema)
    def get(self, query):
        """This partner's deliveries by status, type and time: what reached the endpoints and what did not"""
        return delivery_page(query, partner_code=current_partner_code())


@blp.route("/deliveries/<int:delivery_id>")
class OwnDelivery(MethodView):
    @requires(Scope.EVENTS_READ)
    @blp.response(200, DeliveryDetailSchema)
    def get(self, delivery_id):
        """One of this partner's deliveries, with its event and attempts"""
        with reading() as session:
            return delivery_detail(session, delivery_id, partner_code=current_partner_code())


@blp.route("/deliveries/<int:delivery_id>/redeliver")
class OwnRedelivery(MethodView):
    @requires(Scope.SUBSCRIPTIONS_WRITE)
    @idempotent
    @blp.response(200, DeliveryDetailSchema)
    def post(self, delivery_id, session):
        """Ask for a delivery again (same webhook-id), e.g. after restoring the receiving system

        A write: it needs `subscriptions:write`, like the partner's other commands; a key holding only
        `events:read` reads the feed and the deliveries but cannot make the gateway send. A delivery to an
        endpoint that was deleted is a 409: there is nowhere to send it (the event stays in the feed).
        """
        partner_code = current_partner_code()
        delivery_service.replay_delivery(session, delivery_id, now=utcnow(), partner_code=partner_code)
        return delivery_detail(session, delivery_id, partner_code=partner_code)


@blp.route("/test-event")
class OwnTestEvent(MethodView):
    @requires(Scope.SUBSCRIPTIONS_WRITE)
    @idempotent
    @blp.response(202, TestEventSchema)
    def post(self, session):
        """Ask for a gateway.test event, sent the way every notice is: it proves endpoint, signature check and feed

        The event is written to this partner's outbox; a dispatcher publishes it to the feed (`GET /v1/events`)
        and sends it, signed with each endpoint's secret, to every enabled webhook endpoint (`endpoint_ids`).
        Follow it in `GET /v1/deliveries?type=gateway.test`. A write, like a redelivery: it needs
        `subscriptions:write`. Its data asks for no action.
        """
        return delivery_service.send_test_event(session, current_partner_code(), now=utcnow())


@blp.route("/callbacks")
class Callbacks(MethodView):
    @requires(Scope.SUBSCRIPTIONS_WRITE)
    @accepts_body(*JSON, limit_setting="MAX_BODY_BYTES")
    @signed_body
    @blp.response(200, CallbackResultSchema)
    @blp.doc(
        requestBody={
            "required": True,
            "description": "A Standard Webhooks message signed with the partner's inbound secret: "
            '{"type": "subscription.suspend|resume|cancel|change_plan", "data": {"subscription_id": ..., ...}}. '
            "A message whose webhook-id was seen before gets the first answer again, with "
            "`Idempotent-Replayed: true`, and has no effect: an applied one its result (outcome `duplicate`), a "
            "refused one (404, 409 or 422: the subscription, the lifecycle or the data ruled it out) the same "
            "status and problem, even if it would succeed now; send a change you still want as a new message. "
            "Refusals before the message is verified and read (a bad signature, an unusable webhook-id) and "
            "failures (429, 5xx) are not remembered: a redelivery is handled afresh.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    )
    def post(self):
        """Apply the partner's own change, pushed as a signed webhook (verified, applied once per webhook-id)"""
        partner_code = current_partner_code()
        message_id = request.headers.get("webhook-id", "")
        storable_id = WEBHOOK_ID.fullmatch(message_id) is not None  # one no store could keep was never applied
        with reading() as session:
            partner = get_partner(session, partner_code)
            duplicate = callback_service.find_duplicate(session, partner_code, message_id) if storable_id else None
        if not partner.inbound_secret:
            return problem("conflict", "No inbound secret is set for this partner; ask the operators for one.")
        try:
            inbound = adapter_for(partner.flavour).parse_callback(
                request.get_data(), dict(request.headers), [partner.inbound_secret]
            )
        except CallbackRejected as rejected:
            return problem("invalid-signature", str(rejected))
        # Signed, so the partner's own message: say what the store cannot keep (verified first: a stranger's
        # unsigned body learns nothing about its fields).
        if not storable_id:
            raise InvalidInput({"webhook-id": "1-255 printable ASCII characters, no spaces."}, "header")
        unstorable.check_json_body(request.get_data())
        if duplicate is not None:
            return _first_answer(duplicate)
        # Two transactions of its own: a refused message is remembered after its effect has rolled back.
        try:
            with refusals_for(PARTNER_CALLER), transaction() as session:
                result = callback_service.apply_callback(
                    session,
                    partner_code=partner_code,
                    event_id=inbound.event_id,
                    event_type=inbound.event_type,
                    asked=read_callback(inbound.event_type, inbound.data),
                    now=utcnow(),
                    present=lambda s: SubscriptionSchema().dump(
                        subscription_body(s, setting("ACTIVATION_URL"), PARTNER_CALLER.actions_from)
                    ),
                )
        except GatewayError as refused:  # nothing was applied (rolled back): remember the refusal instead
            refusal = handle_gateway_error(refused)
            try:
                with transaction() as session:
                    callback_service.remember_refusal(
                        session,
                        partner_code=partner_code,
                        event_id=inbound.event_id,
                        event_type=inbound.event_type,
                        status_code=refusal.status_code,
                        problem=refusal.get_json(),
                        now=utcnow(),
                    )
            except IntegrityError:  # a concurrent delivery of the same webhook-id was answered first
                return _concurrent_answer(partner_code, inbound.event_id)
            return refusal
        except IntegrityError:  # the same webhook-id answered for a concurrent request just now
            return _concurrent_answer(partner_code, inbound.event_id)
        return {**result, "outcome": "applied"}


def _first_answer(remembered: InboundEvent):
    """What a redelivered message gets: the first delivery's answer, marked as replayed."""
    replayed = {REPLAYED_HEADER: "true"}
    if remembered.applied:
        return {**remembered.result, "outcome": "duplicate"}, replayed
    return Response(
        json.dumps(remembered.result), status=remembered.status_code, mimetype=PROBLEM_MEDIA_TYPE, headers=replayed
    )


def _concurrent_answer(partner_code: str, event_id: str):
    with reading() as session:
        return _first_answer(callback_service.find_duplicate(session, partner_code, event_id))
