"""Product order use cases (TMF622): place an order whose items drive the subscription lifecycle, read a
partner's orders, and answer a request to cancel one.

An order is carried out within the request that places it, in that request's one transaction: its row is inserted
first (which claims its externalId), each item is applied in a savepoint of its own, and the order ends completed,
failed or partial, with its event, all committed together. So no one ever sees an order on its way: the 201, GET and
the one product_order.state_changed event show only its final state, never acknowledged or inProgress (TMF622's
states for an order still being carried out, which the gateway's never is once answered). Why not one transaction
per item: the order row, its event and the items' changes would then commit apart, and a crash between two would
leave an order that says less (or more) than was done; one transaction keeps the order and its effects one fact. Why
a savepoint per item: a refused item (say, suspending a suspended subscription) is undone to the last row, while the
items around it stand — the order is `partial`, never half of one item. What the request alone shows is wrong
refuses the whole order before anything is applied (gateway.domain.product_orders.read_order), and so does a product
the partner does not have (NotFound): nothing is stored then.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple, NoReturn

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.domain.errors import Conflict, InvalidInput, NotFound
from gateway.domain.events import EventType
from gateway.domain.ids import new_id
from gateway.domain.lifecycle import Actor, InvalidTransition, Status
from gateway.domain.product_orders import (
    ITEM_DONE,
    ITEM_REFUSED,
    ItemAction,
    ItemOutcome,
    OrderItem,
    OrderRequest,
    cancellation_refusal,
    event_data,
    modify_steps,
    order_body,
    order_state,
    read_cancellation,
    read_order,
    refusal_reason,
    request_fingerprint,
)
from gateway.domain.tmf import OrderState
from gateway.domain.tmf_products import Characteristic, product_of
from gateway.services import subscriptions as subscription_service
from gateway.services.outbox import record_event
from gateway.services.partners import get_partner
from gateway.store.models import ProductOrder, Subscription

ORDER_ID_PREFIX = "po"


class PlacedOrder(NamedTuple):
    order: ProductOrder
    replayed: bool  # an order placed before with the same externalId (and the same request): no second effect


def place_order(
    session: Session, *, partner_code: str, body: Any, now: datetime, activation_window: timedelta
) -> PlacedOrder:
    """Carry out a ProductOrder_Create `body` for the partner (see the module docstring for the transaction).

    With an externalId the partner already used, the order placed then is returned and nothing is applied again;
    asked with other content, it is a Conflict. Two such requests at once: the second waits on the first's row
    (PostgreSQL's unique index; SQLite's single writer) and then returns its order.
    """
    request = read_order(body, now=now)
    fingerprint = request_fingerprint(body)
    if request.external_id is not None:
        earlier = _by_external_id(session, partner_code, request.external_id)
        if earlier is not None:  # the order placed then, whatever the partner's markets are now
            return _same_order(earlier, fingerprint)
    _check_markets(session, partner_code, request)
    order = ProductOrder(
        id=new_id(ORDER_ID_PREFIX),
        partner_code=partner_code,
        external_id=request.external_id,
        # A placeholder until the items are applied below, in this same transaction: never committed or read.
        state=OrderState.ACKNOWLEDGED,
        body={},
        version=1,
        created_at=now,
        completed_at=None,
        request_fingerprint=fingerprint,
    )
    try:
        with session.begin_nested():
            session.add(order)
    except IntegrityError:
        earlier = _by_external_id(session, partner_code, request.external_id) if request.external_id else None
        if earlier is None:
            raise
        return _same_order(earlier, fingerprint)
    products = _locked_products(session, partner_code, request)
    outcomes = [
        _carry_out(session, item, products, partner_code=partner_code, now=now, activation_window=activation_window)
        for item in request.items
    ]
    state = order_state(outcome.state for outcome in outcomes)
    order.state, order.completed_at = state, now
    order.body = order_body(
        order_id=order.id, request=request, outcomes=outcomes, state=state, order_date=now, completion_date=now
    )
    record_event(
        session,
        partner_code=partner_code,
        event_type=EventType.PRODUCT_ORDER_STATE_CHANGED,
        occurred_at=now,
        data=event_data(order.body),
    )
    session.flush()
    return PlacedOrder(order, replayed=False)


def _check_markets(session: Session, partner_code: str, request: OrderRequest) -> None:
    """An add item in a market the partner does not sell in is the request's mistake: the whole order is refused
    (create_subscription would refuse it too, but only once the items before it had been applied)."""
    markets = get_partner(session, partner_code).markets
    wrong = {
        f"{item.path}.product.productCharacteristic.{Characteristic.MARKET}": (
            f"This partner sells in {', '.join(markets)}, not {item.new_product.market}."
        )
        for item in request.items
        if item.new_product is not None and item.new_product.market not in markets
    }
    if wrong:
        raise InvalidInput(wrong)


def _by_external_id(session: Session, partner_code: str, external_id: str) -> ProductOrder | None:
    return session.scalar(
        select(ProductOrder).where(ProductOrder.partner_code == partner_code, ProductOrder.external_id == external_id)
    )


def _same_order(earlier: ProductOrder, fingerprint: str) -> PlacedOrder:
    if earlier.request_fingerprint not in (None, fingerprint):
        raise Conflict(
            f"Product order {earlier.id} was placed with externalId {earlier.external_id!r} and other content. An "
            "externalId names one order: send a new one for a new order (a retry of that order gets it back)."
        )
    return PlacedOrder(earlier, replayed=True)


def _locked_products(session: Session, partner_code: str, request: OrderRequest) -> dict[str, Subscription]:
    """The partner's subscriptions the items are about, locked in id order (two orders about the same ones never
    wait on each other in a circle); NotFound for one the partner does not have, refusing the whole order."""
    wanted = request.product_ids()
    found = {
        subscription.id: subscription
        for subscription in session.scalars(
            select(Subscription)
            .where(Subscription.id.in_(wanted), Subscription.partner_code == partner_code)
            .order_by(Subscription.id)
            .with_for_update()
        )
    }
    # A purged subscription is no product any more (GET /product answers 404 for it): an order cannot name it.
    missing = [
        product_id for product_id in wanted if product_id not in found or found[product_id].status == Status.PURGED
    ]
    if missing:
        raise NotFound("product", missing[0])
    return found


def _carry_out(
    session: Session,
    item: OrderItem,
    products: dict[str, Subscription],
    *,
    partner_code: str,
    now: datetime,
    activation_window: timedelta,
) -> ItemOutcome:
    """One item through the state machine, in a savepoint: completed with the product as it left it, or failed
    with the refusal and nothing of it applied."""
    subscription = products.get(item.product_id) if item.product_id is not None else None
    try:
        with session.begin_nested():
            if item.action is ItemAction.ADD:
                new = item.new_product
                subscription = subscription_service.create_subscription(
                    session,
                    partner_code=partner_code,
                    partner_ref=new.partner_ref,
                    plan=new.plan,
                    market=new.market,
                    billing_anchor=new.billing_anchor,
                    now=now,
                    activation_window=activation_window,
                    locale=new.locale,
                    billed_by=new.billed_by,
                )
            else:
                for step in _steps(item, subscription):
                    subscription_service.apply_command(
                        session,
                        subscription,
                        step.command,
                        actor=Actor.PARTNER,
                        reason=step.reason,
                        now=now,
                        plan=step.plan,
                    )
    except Conflict as refused:  # InvalidTransition, ActorNotAllowed, a partner_ref already in use
        reason = refusal_reason(refused) if isinstance(refused, InvalidTransition) else refused.detail
        # After the savepoint's rollback the subscription reads as it was before the item.
        shown = _product(subscription) if item.product_id is not None else None
        return ItemOutcome(item, ITEM_REFUSED, shown, reason)
    session.flush()
    return ItemOutcome(item, ITEM_DONE, _product(subscription))


def _steps(item: OrderItem, subscription: Subscription):
    if item.action is ItemAction.MODIFY:
        return modify_steps(item, status=Status(subscription.status), plan=subscription.plan)
    if item.action is ItemAction.DELETE:
        return [item.cancellation]
    return []  # noChange


def _product(subscription: Subscription) -> dict[str, Any]:
    """The product as stored in the order: its href is added when the order is read."""
    return product_of(subscription, inventory_url="")


# -- reading ------------------------------------------------------------------------------------------------------


def get_order(session: Session, order_id: str, *, partner_code: str) -> ProductOrder:
    """One of the partner's orders; another partner's is reported as missing."""
    order = session.scalar(
        select(ProductOrder).where(ProductOrder.id == order_id, ProductOrder.partner_code == partner_code)
    )
    if order is None:
        raise NotFound("product order", order_id)
    return order


class OrderPage(NamedTuple):
    orders: list[ProductOrder]
    total: int  # how many orders match, across all pages


def list_orders(
    session: Session,
    *,
    partner_code: str,
    offset: int,
    limit: int,
    states: Collection[str] | None = None,
    external_ids: Collection[str] | None = None,
) -> OrderPage:
    """The partner's orders, oldest first (a page stays where it is while new orders arrive), in any of `states`
    and with any of `external_ids` when given."""
    matching = select(ProductOrder).where(ProductOrder.partner_code == partner_code)
    if states is not None:
        matching = matching.where(ProductOrder.state.in_(sorted(states)))
    if external_ids is not None:
        matching = matching.where(ProductOrder.external_id.in_(sorted(external_ids)))
    total = session.scalar(select(func.count()).select_from(matching.subquery()))
    page = matching.order_by(ProductOrder.created_at, ProductOrder.id).offset(offset).limit(limit)
    return OrderPage(list(session.scalars(page)), total)


def activations(session: Session, orders: Iterable[ProductOrder], *, now: datetime) -> dict[str, tuple[str, datetime]]:
    """The activation codes still usable of the products the orders' add items made: subscription id -> (code,
    expires at). Read live, never kept with the order: a code shows only while the member can still use it."""
    made = {
        item["product"]["id"]
        for order in orders
        for item in order.body.get("productOrderItem", [])
        if item["action"] == ItemAction.ADD and "id" in item["product"]
    }
    if not made:
        return {}
    rows = session.execute(
        select(Subscription.id, Subscription.activation_code, Subscription.activation_expires_at).where(
            Subscription.id.in_(sorted(made)),
            Subscription.activation_code.is_not(None),
            Subscription.activation_expires_at > now,
        )
    )
    return {subscription_id: (code, expires_at) for subscription_id, code, expires_at in rows}


# -- cancellation -------------------------------------------------------------------------------------------------


def cancel_order(session: Session, *, partner_code: str, body: Any) -> NoReturn:
    """A CancelProductOrder_Create `body`: the order it names, which must be the partner's (NotFound), and a
    Conflict saying why it cannot be cancelled. Every order the gateway holds has reached its final state (each is
    carried out while it is placed), and TMF622 cancels only orders still in progress: no cancellation is ever
    accepted, so none is stored."""
    order_id = read_cancellation(body)
    order = get_order(session, order_id, partner_code=partner_code)
    raise Conflict(cancellation_refusal(order.id, order.state))
