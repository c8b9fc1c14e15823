"""The gateway's events as TM Forum events (the TMF630 notifications of TMF637 and TMF622): which internal event
types each TMF event type stands for (one table, TMF_EVENTS), which types a hub's `query` asks for, and one
internal event rendered as its TMF event. Pure: the dispatcher renders a hub's deliveries with it.

The product an event carries is rendered from the event itself, as of the change it reports (its status, plan
and the dates the change sets), not read from the subscription when the event is sent: a retry or a replay a day
later says what happened then. It is therefore not the whole product; GET /product/{id} is.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from gateway.domain.errors import InvalidInput
from gateway.domain.events import EventType
from gateway.domain.lifecycle import Status
from gateway.domain.notices import plan_name
from gateway.domain.tmf import TmfApi, product_status
from gateway.domain.tmf_products import (
    NAME_LANGUAGE,
    OFFERING_REFERRED_TYPE,
    PRODUCT_TYPE,
    REFERRED_TYPES,
    Characteristic,
    PartyRole,
    product_href,
)

# The TMF622 order's own representation, named as gateway.domain.product_orders names it.
ORDER_TYPE, ITEM_TYPE = "ProductOrder", "ProductOrderItem"
NOTE_AUTHOR = "partner gateway"
QUERY_LIMIT = 1000  # characters of a hub's query
PRIORITY = "normal"  # every event alike: the specs leave priority free, and no change outranks another


class TmfEventType(enum.StrEnum):
    """The TMF event types the gateway emits."""

    PRODUCT_CREATE = "ProductCreateEvent"
    PRODUCT_ATTRIBUTE_VALUE_CHANGE = "ProductAttributeValueChangeEvent"
    PRODUCT_STATE_CHANGE = "ProductStateChangeEvent"
    PRODUCT_DELETE = "ProductDeleteEvent"
    PRODUCT_ORDER_STATE_CHANGE = "ProductOrderStateChangeEvent"


@dataclass(frozen=True)
class TmfEventKind:
    api: TmfApi  # the API whose hubs receive it
    title: str
    internal: frozenset[str]  # the internal event types it stands for


# TMF event type -> the internal event types it stands for: the one table (the README's mapping is written from
# it), in the order of the specs' listeners. Every lifecycle change of a subscription is one TMF event; an event
# that changes no product (a notice such as account.retention_expiring or a sharing event, a test, an
# escalation) has no TMF form.
TMF_EVENTS: dict[TmfEventType, TmfEventKind] = {
    TmfEventType.PRODUCT_CREATE: TmfEventKind(
        TmfApi.PRODUCT_INVENTORY, "Product created", frozenset({EventType.SUBSCRIPTION_CREATED})
    ),
    TmfEventType.PRODUCT_ATTRIBUTE_VALUE_CHANGE: TmfEventKind(
        TmfApi.PRODUCT_INVENTORY,
        "Product attributes changed",
        frozenset(
            {
                EventType.SUBSCRIPTION_PLAN_CHANGED,  # the offering, or the scheduled plan of a downgrade
                EventType.ACCOUNT_INACTIVITY_WARNING,  # the inactivity characteristics set
                EventType.ACCOUNT_KEEP_CONFIRMED,  # and cleared
            }
        ),
    ),
    TmfEventType.PRODUCT_STATE_CHANGE: TmfEventKind(
        TmfApi.PRODUCT_INVENTORY,
        "Product status changed",
        frozenset(
            {
                EventType.SUBSCRIPTION_ACTIVATED,
                EventType.SUBSCRIPTION_SUSPENDED,
                EventType.SUBSCRIPTION_RESUMED,
                EventType.SUBSCRIPTION_CANCELLATION_SCHEDULED,
                EventType.SUBSCRIPTION_CANCELLATION_REVERTED,
                EventType.SUBSCRIPTION_CANCELLED,
                EventType.SUBSCRIPTION_REACTIVATED,
            }
        ),
    ),
    TmfEventType.PRODUCT_DELETE: TmfEventKind(
        TmfApi.PRODUCT_INVENTORY, "Product deleted", frozenset({EventType.SUBSCRIPTION_PURGED})
    ),
    TmfEventType.PRODUCT_ORDER_STATE_CHANGE: TmfEventKind(
        TmfApi.PRODUCT_ORDERING, "Product order state changed", frozenset({EventType.PRODUCT_ORDER_STATE_CHANGED})
    ),
}
TMF_EVENT_OF: dict[str, TmfEventType] = {
    internal: tmf_type for tmf_type, kind in TMF_EVENTS.items() for internal in kind.internal
}

# Event types the specs define (their /listener paths) that the gateway never emits: a query naming one is
# refused, rather than registered to wait for something that never comes.
NOT_EMITTED: dict[TmfApi, tuple[str, ...]] = {
    TmfApi.PRODUCT_INVENTORY: ("ProductBatchEvent",),
    TmfApi.PRODUCT_ORDERING: (
        "ProductOrderCreateEvent",
        "ProductOrderAttributeValueChangeEvent",
        "ProductOrderDeleteEvent",
        "ProductOrderInformationRequiredEvent",
        "CancelProductOrderCreateEvent",
        "CancelProductOrderStateChangeEvent",
        "CancelProductOrderInformationRequiredEvent",
    ),
}
EVENT_TYPE_PARAMETER = "eventType"


def emitted_on(api: TmfApi) -> list[TmfEventType]:
    """The TMF event types a hub of `api` can receive, in the table's order."""
    return [tmf_type for tmf_type, kind in TMF_EVENTS.items() if kind.api == api]


def hub_event_types(api: TmfApi, query: str | None) -> list[TmfEventType]:
    """The TMF event types a hub registered on `api` with `query` receives: all of the API's when the query is
    empty, else those its `eventType` filters name (`eventType=A`, `eventType=A,B`, `eventType=A&eventType=B`,
    case aside). InvalidInput (field `query`) for anything else: another filter, an unknown type, one of the other
    API, one the gateway never emits."""
    if query is None or not query.strip():
        return emitted_on(api)
    if len(query) > QUERY_LIMIT:
        raise InvalidInput({"query": f"At most {QUERY_LIMIT} characters."})
    try:
        pairs = parse_qsl(query.strip().removeprefix("?"), keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InvalidInput({"query": f"Not a query such as '{EVENT_TYPE_PARAMETER}={emitted_on(api)[0]}'."}) from None
    others = sorted({name for name, _ in pairs if name.lower() != EVENT_TYPE_PARAMETER.lower()})
    if others:
        raise InvalidInput({"query": f"Only {EVENT_TYPE_PARAMETER} filters are supported, not {', '.join(others)}."})
    wanted = [name.strip() for _, value in pairs for name in value.split(",")]
    if not all(wanted):
        raise InvalidInput({"query": f"An empty {EVENT_TYPE_PARAMETER}; name one of {_names(emitted_on(api))}."})
    return _known_types(api, wanted)


def _known_types(api: TmfApi, wanted: Iterable[str]) -> list[TmfEventType]:
    by_name = {tmf_type.lower(): tmf_type for tmf_type in TmfEventType}
    never = {name.lower(): name for names in NOT_EMITTED.values() for name in names}
    emits = f"this API emits {_names(emitted_on(api))}"
    found: list[TmfEventType] = []
    for name in wanted:
        tmf_type = by_name.get(name.lower())
        if tmf_type is None:
            if name.lower() in never:
                problem = f"The gateway never emits {never[name.lower()]}"
            else:
                problem = f"No such event type {name!r}"
            raise InvalidInput({"query": f"{problem}; {emits}."})
        if TMF_EVENTS[tmf_type].api != api:
            other = TMF_EVENTS[tmf_type].api
            raise InvalidInput({"query": f"{tmf_type} is an event of {other}; {emits}."})
        if tmf_type not in found:
            found.append(tmf_type)
    return found


def _names(types: Iterable[str]) -> str:
    return ", ".join(types)


def internal_event_types(tmf_types: Iterable[TmfEventType]) -> list[str]:
    """The internal event types standing for these TMF ones (what a hub's endpoint_event_types rows name)."""
    return sorted({str(internal) for tmf_type in tmf_types for internal in TMF_EVENTS[tmf_type].internal})


class NoTmfForm(ValueError):
    """The event is not one any TMF event type stands for (or lacks what its TMF form needs)."""


def tmf_event(event: Mapping[str, Any], *, gateway_url: str) -> tuple[TmfEventType, dict[str, Any]]:
    """The internal event (its envelope, as stored) as its TMF event, and that event's type. `gateway_url` is the
    gateway's own address (GATEWAY_PUBLIC_URL; empty: hrefs are paths), under which the products' hrefs are."""
    tmf_type = TMF_EVENT_OF.get(event.get("type", ""))
    if tmf_type is None:
        raise NoTmfForm(f"{event.get('type')!r} has no TM Forum form")
    try:
        if tmf_type is TmfEventType.PRODUCT_ORDER_STATE_CHANGE:
            order = _order(event["data"], gateway_url)
            subject, payload, description = order["id"], {"productOrder": order}, _order_description(order)
        else:
            product = _product(event, gateway_url)
            subject, payload, description = product["id"], {"product": product}, _product_description(event)
    except (KeyError, TypeError, ValueError) as error:
        raise NoTmfForm(f"{event.get('type')} {event.get('id')} lacks {error}") from None
    occurred = event["occurred_at"]
    body = {
        "eventId": event["id"],
        "eventTime": occurred,
        "eventType": str(tmf_type),
        "correlationId": subject,  # the product's (the order's) id: every event of one resource shares it
        "domain": str(TMF_EVENTS[tmf_type].api),
        "title": TMF_EVENTS[tmf_type].title,
        "description": description,
        "priority": PRIORITY,
        "timeOcurred": occurred,  # sic: the spelling TMF630 and both specs define
        "event": payload,
    }
    return tmf_type, body


def tmf_event_text(event_text: str, *, gateway_url: str) -> tuple[TmfEventType, str]:
    """`tmf_event` from and to JSON text (the stored event as the dispatcher reads it; the body it sends)."""
    try:
        event = json.loads(event_text)
    except ValueError:
        raise NoTmfForm("the stored event is not JSON") from None
    tmf_type, body = tmf_event(event, gateway_url=gateway_url)
    return tmf_type, json.dumps(body, ensure_ascii=False, separators=(",", ":"))


# --- the product, as of the change -----------------------------------------------------------------------------


def api_url(gateway_url: str, api: TmfApi) -> str:
    """The TMF API's base URL under the gateway's own address (a path when that is empty)."""
    return f"{gateway_url.rstrip('/')}/tmf-api/{api}/v4"


def _product(event: Mapping[str, Any], gateway_url: str) -> dict[str, Any]:
    data = event["data"]
    subscription = event["subscription"]
    plan = _plan_in_effect(event)
    offering_name = plan_name(plan, NAME_LANGUAGE)
    product: dict[str, Any] = {
        "id": subscription["id"],
        "href": product_href(api_url(gateway_url, TmfApi.PRODUCT_INVENTORY), subscription["id"]),
        "name": offering_name,
        "@type": PRODUCT_TYPE,
        "productOffering": {"id": plan, "name": offering_name, "@referredType": OFFERING_REFERRED_TYPE},
    }
    # Cancelled before it was ever active (its activation expired) reads `cancelled`, after it `terminated`: the
    # status it left tells which. A purged subscription is no product: its delete event carries no status.
    shown = product_status(data["status"], was_activated=data.get("previous_status") != Status.PENDING_ACTIVATION)
    if shown is not None:
        product["status"] = str(shown)
    product.update(_dates(event))
    product["relatedParty"] = [
        _party(event["partner"], PartyRole.SELLER),
        _party(subscription["partner_ref"], PartyRole.CUSTOMER),
    ]
    characteristics = _characteristics(event)
    if characteristics:
        product["productCharacteristic"] = characteristics
    return product


def _plan_in_effect(event: Mapping[str, Any]) -> str:
    """The product's offering after the change. A downgrade is reported when it is asked for, to hold at the next
    billing period: until then the offering is the plan before it (the plan asked for is the scheduled plan)."""
    data = event["data"]
    if _downgrade_scheduled(event):
        return data["previous_plan"]
    return data["plan"]


def _downgrade_scheduled(event: Mapping[str, Any]) -> bool:
    data = event["data"]
    return event["type"] == EventType.SUBSCRIPTION_PLAN_CHANGED and _time(data["effective_at"]) > _time(
        event["occurred_at"]
    )


def _dates(event: Mapping[str, Any]) -> dict[str, str]:
    """The product's dates the change sets: ordered (created), started (activated), ends or ended."""
    data, event_type = event["data"], event["type"]
    if event_type == EventType.SUBSCRIPTION_CREATED:
        return {"orderDate": event["occurred_at"]}
    if event_type == EventType.SUBSCRIPTION_ACTIVATED:
        return {"startDate": data["effective_at"]}
    if event_type == EventType.SUBSCRIPTION_CANCELLATION_SCHEDULED:
        return {"terminationDate": data["access_until"]}
    if event_type == EventType.SUBSCRIPTION_CANCELLED:
        return {"terminationDate": data["effective_at"]}
    return {}


def _characteristics(event: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The characteristics the change sets (named as GET /product names them)."""
    data, event_type = event["data"], event["type"]
    found: list[tuple[Characteristic, str, Any]] = []
    if event_type == EventType.SUBSCRIPTION_CREATED:
        found += [
            (Characteristic.MARKET, "string", data["market"]),
            (Characteristic.LOCALE, "string", data["locale"]),
            (Characteristic.BILLING_ANCHOR, "date", data["billing_anchor"]),
            (Characteristic.BILLED_BY, "string", data["billed_by"]),
        ]
    elif event_type == EventType.SUBSCRIPTION_CANCELLATION_SCHEDULED:
        found.append((Characteristic.ACCESS_UNTIL, "dateTime", data["access_until"]))
    elif event_type == EventType.ACCOUNT_INACTIVITY_WARNING:
        found += [
            (Characteristic.INACTIVITY_WARNED_AT, "dateTime", data["effective_at"]),
            (Characteristic.INACTIVITY_RESPOND_BY, "dateTime", data["respond_by"]),
        ]
    elif _downgrade_scheduled(event):
        found += [
            (Characteristic.SCHEDULED_PLAN, "string", data["plan"]),
            (Characteristic.SCHEDULED_PLAN_DATE, "dateTime", data["effective_at"]),
        ]
    return [{"name": str(name), "valueType": value_type, "value": value} for name, value_type, value in found]


def _party(party_id: str, role: PartyRole) -> dict[str, str]:
    return {"id": party_id, "role": str(role), "@referredType": REFERRED_TYPES[role]}


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- the order, as it reached its final state ---------------------------------------------------------------------


def _order(data: Mapping[str, Any], gateway_url: str) -> dict[str, Any]:
    """The TMF622 ProductOrder that product_order.state_changed reports (recorded by
    gateway.services.product_orders; its data is the order in the catalog's words, product_orders.event_data):
    its state and dates, each item's state and product, and a note per refused item saying why, as GET
    /productOrder/{id} shows them."""
    order_id = data["order_id"]
    order: dict[str, Any] = {
        "id": order_id,
        "href": f"{api_url(gateway_url, TmfApi.PRODUCT_ORDERING)}/productOrder/{order_id}",
    }
    if data.get("external_id") is not None:
        order["externalId"] = data["external_id"]
    order.update(state=data["state"], orderDate=data["order_date"], completionDate=data["completion_date"])
    notes = [
        {"id": item["id"], "author": NOTE_AUTHOR, "date": data["order_date"], "text": item["refusal"]}
        for item in data["items"]
        if item.get("refusal")
    ]
    if notes:
        order["note"] = notes
    inventory_url = api_url(gateway_url, TmfApi.PRODUCT_INVENTORY)
    order["productOrderItem"] = [_order_item(item, inventory_url) for item in data["items"]]
    order["@type"] = ORDER_TYPE
    return order


def _order_item(item: Mapping[str, Any], inventory_url: str) -> dict[str, Any]:
    body: dict[str, Any] = {"id": item["id"], "action": item["action"], "state": item["state"]}
    if item.get("product_id"):
        product_id = item["product_id"]
        body["product"] = {"id": product_id, "href": product_href(inventory_url, product_id), "@type": PRODUCT_TYPE}
    body["@type"] = ITEM_TYPE
    return body


# --- the words --------------------------------------------------------------------------------------------------


def _product_description(event: Mapping[str, Any]) -> str:
    """One sentence for a person reading the event: which subscription, what changed, why and at whose word."""
    data, event_type = event["data"], event["type"]
    who = f"Subscription {event['subscription']['id']} (customer {event['subscription']['partner_ref']})"
    why = f" ({data['reason']}, by the {data['actor']})" if data.get("reason") and data.get("actor") else ""
    if event_type == EventType.SUBSCRIPTION_CREATED:
        return f"{who} was created by the {data['actor']} on the {data['plan']} plan, pending activation."
    if event_type == EventType.SUBSCRIPTION_PLAN_CHANGED:
        if _downgrade_scheduled(event):
            moves = f"moves from the {data['previous_plan']} to the {data['plan']} plan on {data['effective_at']}"
            return f"{who} {moves}{why}."
        return f"{who} moved from the {data['previous_plan']} to the {data['plan']} plan{why}."
    if event_type == EventType.ACCOUNT_INACTIVITY_WARNING:
        return f"{who}: the member was warned of inactivity and must respond by {data['respond_by']}{why}."
    if event_type == EventType.ACCOUNT_KEEP_CONFIRMED:
        return f"{who}: the member confirmed keeping the membership; the inactivity warning is withdrawn{why}."
    if event_type == EventType.SUBSCRIPTION_PURGED:
        return f"{who} was deleted: its retention window ended{why}."
    return f"{who} went from {data['previous_status']} to {data['status']}{why}."


def _order_description(order: Mapping[str, Any]) -> str:
    return f"Product order {order['id']} is {order['state']}."
