"""TMF622 Product Ordering: orders whose items drive the subscription lifecycle commands (POST /productOrder), the
partner's orders (GET /productOrder[/{id}]), and the answer to a CancelProductOrder (POST /cancelProductOrder).

Partner keys: subscriptions:write to order, subscriptions:read to read, as /v1; another partner's orders and
products are never seen. Each order is carried out within its request (gateway.services.product_orders), so the
201 shows it completed, failed or partial; an item the lifecycle refuses is `failed` with a note saying why, in
/v1's words. A request the gateway cannot carry out as a whole is refused with a TMF Error and nothing applied:
400 for a malformed order (every failing field named), 404 for a product the partner does not have, 409 for an
externalId already used by an order that asked something else. Errors raised here leave as problem+json and are
reshaped into TMF Errors on the way out (gateway.api.tmf.errors).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import request
from sqlalchemy.orm import Session

from gateway.api.http import uow
from gateway.api.http.auth import current_partner_code, requires
from gateway.api.http.idempotent import REPLAYED_HEADER, idempotent
from gateway.api.tmf.blueprints import inventory, ordering
from gateway.api.tmf.query import (
    FIELDS,
    CollectionQuery,
    Filterable,
    Kind,
    QueryRefused,
    json_response,
    page_response,
    read_fields,
    select,
    takes_query,
)
from gateway.domain.clock import utcnow
from gateway.domain.errors import InvalidInput
from gateway.domain.keys import Scope
from gateway.domain.product_orders import ORDER_ATTRIBUTES, ORDER_STATE_TYPES, with_hrefs
from gateway.runtime import setting
from gateway.services import product_orders as order_service
from gateway.store.models import ProductOrder

STATE, EXTERNAL_ID = "state", "externalId"
# What a selection (`fields=`) always keeps besides id and href: the attributes ProductOrder requires, so a
# selected order still conforms to the definition.
ALWAYS_KEPT = frozenset({"productOrderItem"})
ORDER_QUERY = CollectionQuery(
    attributes=ORDER_ATTRIBUTES,
    filters={STATE: Filterable(Kind.CHOICE, ORDER_STATE_TYPES), EXTERNAL_ID: Filterable(Kind.TEXT)},
)


@ordering.post("/productOrder")
@requires(Scope.SUBSCRIPTIONS_WRITE)
@idempotent
def create_product_order(session: Session):
    """Place an order: its items are carried out at once, each through the subscription lifecycle."""
    placed = order_service.place_order(
        session,
        partner_code=current_partner_code(),
        body=_json_body("A ProductOrder"),
        now=utcnow(),
        activation_window=timedelta(days=setting("ACTIVATION_WINDOW_DAYS")),
    )
    [body] = _shown(session, [placed.order])
    headers = {"Location": body["href"]}
    if placed.replayed:  # the order its externalId named already: as a replayed Idempotency-Key says it
        headers[REPLAYED_HEADER] = "true"
    return json_response(body, 201, headers)


@ordering.get("/productOrder")
@requires(Scope.SUBSCRIPTIONS_READ)
@takes_query(ORDER_QUERY.parameter_names())
def list_product_orders():
    """The partner's orders, oldest first, by state and externalId, a page at a time (TMF630)."""
    try:
        query = ORDER_QUERY.read(request.args)
    except QueryRefused as refused:
        return refused.response()
    criteria = {STATE: None, EXTERNAL_ID: None}
    for condition in query.filters:  # each parameter is one filter: its repeats and commas are its values
        criteria[condition.attribute] = frozenset(condition.values)
    with uow.reading() as session:
        found = order_service.list_orders(
            session,
            partner_code=current_partner_code(),
            offset=query.offset,
            limit=query.limit,
            states=criteria[STATE],
            external_ids=criteria[EXTERNAL_ID],
        )
        items = [select(body, _kept(query.fields)) for body in _shown(session, found.orders)]
    return page_response(items, total=found.total, offset=query.offset)


@ordering.get("/productOrder/<order_id>")
@requires(Scope.SUBSCRIPTIONS_READ)
@takes_query((FIELDS,))
def get_product_order(order_id: str):
    """One of the partner's orders."""
    try:
        fields = read_fields(request.args, ORDER_ATTRIBUTES)
    except QueryRefused as refused:
        return refused.response()
    with uow.reading() as session:
        order = order_service.get_order(session, order_id, partner_code=current_partner_code())
        [body] = _shown(session, [order])
    return json_response(select(body, _kept(fields)))


@ordering.post("/cancelProductOrder")
@requires(Scope.SUBSCRIPTIONS_WRITE)
def cancel_product_order():
    """Ask to cancel an order: refused, saying why (every order has been carried out by the time it can be named;
    TMF622 cancels only orders in progress). Nothing is stored, so there is no CancelProductOrder to read back."""
    with uow.reading() as session:
        order_service.cancel_order(
            session, partner_code=current_partner_code(), body=_json_body("A CancelProductOrder")
        )


def _kept(fields: frozenset[str] | None) -> frozenset[str] | None:
    return None if fields is None else fields | ALWAYS_KEPT


def _json_body(what: str) -> Any:
    body = request.get_json(silent=True)
    if body is None:
        raise InvalidInput({"(body)": f"{what} as a JSON object (Content-Type: application/json)."})
    return body


def _shown(session: Session, orders: list[ProductOrder]) -> list[dict[str, Any]]:
    """The orders as the partner reads them: hrefs under the gateway's address (GATEWAY_PUBLIC_URL when set, else
    the one the request came in on), and the activation codes of the products their add items made while the
    member can still use them."""
    gateway_url = (setting("PUBLIC_URL") or request.root_url).rstrip("/")
    activations = order_service.activations(session, orders, now=utcnow())
    return [
        with_hrefs(
            order.body,
            ordering_url=gateway_url + ordering.url_prefix,
            inventory_url=gateway_url + inventory.url_prefix,
            activations=activations,
            activation_url=setting("ACTIVATION_URL"),
        )
        for order in orders
    ]
