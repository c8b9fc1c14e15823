"""TMF622 product orders read as lifecycle commands: what an order asks of each subscription, the order's state
from its items' states, and the order as the partner reads it. Pure: the use case
(gateway.services.product_orders) loads, applies each item through the one state machine, and stores.

An order's items are read whole before anything is applied: whatever the request alone can tell is wrong (a
missing field, an unknown plan, a cancellation reason that does not fit its date) refuses the whole order
(InvalidInput, field paths as the partner wrote them: `productOrderItem[1].product.id`). What only the
subscription's state can refuse (suspending a suspended one, a partner_ref already in use) fails that item alone,
explained with the lifecycle's own words.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from gateway.domain import partner_refs
from gateway.domain.countries import COUNTRY_CODES
from gateway.domain.errors import InvalidInput
from gateway.domain.lifecycle import (
    IMMEDIATELY,
    OWN_CANCELLATION,
    PARTNER_BILLED,
    PERIOD_END,
    SERVICE_BILLED,
    TRANSITIONS,
    Actor,
    Command,
    InvalidTransition,
    Status,
    allowed_commands,
    cancellation_command,
    refusal_text,
)
from gateway.domain.partners import normalize_locale
from gateway.domain.plans import PLANS
from gateway.domain.tmf import PRODUCT_STATUS, OrderState, ProductStatus
from gateway.domain.tmf_products import REFERRED_TYPES, Characteristic, PartyRole, product_href

ORDER_TYPE, ITEM_TYPE = "ProductOrder", "ProductOrderItem"
# Every attribute of the TMF622 ProductOrder definition: what `fields=` may select (those the gateway never fills
# select nothing). A test holds this to the spec.
ORDER_ATTRIBUTES = frozenset(
    {
        "id",
        "href",
        "cancellationDate",
        "cancellationReason",
        "category",
        "completionDate",
        "description",
        "expectedCompletionDate",
        "externalId",
        "notificationContact",
        "orderDate",
        "priority",
        "requestedCompletionDate",
        "requestedStartDate",
        "agreement",
        "billingAccount",
        "channel",
        "note",
        "orderTotalPrice",
        "payment",
        "productOfferingQualification",
        "productOrderItem",
        "quote",
        "relatedParty",
        "state",
        "@baseType",
        "@schemaLocation",
        "@type",
    }
)
# The properties of the TMF622 definitions an order request is made of (a test holds these to the vendored spec):
# any other key is refused, naming where it is. A misspelt field must not be dropped in silence: `externalID`
# would make a retry place the order again, `requestedCompletionDat` would cancel at the period end instead of at
# once. The spec's own fields are accepted, even those the gateway does not act on.
CREATE_PROPERTIES = frozenset(
    {
        "cancellationDate",
        "cancellationReason",
        "category",
        "description",
        "externalId",
        "notificationContact",
        "priority",
        "requestedCompletionDate",
        "requestedStartDate",
        "agreement",
        "billingAccount",
        "channel",
        "note",
        "orderTotalPrice",
        "payment",
        "productOfferingQualification",
        "productOrderItem",
        "quote",
        "relatedParty",
        "@baseType",
        "@schemaLocation",
        "@type",
    }
)
ITEM_PROPERTIES = frozenset(
    {
        "id",
        "quantity",
        "action",
        "appointment",
        "billingAccount",
        "itemPrice",
        "itemTerm",
        "itemTotalPrice",
        "payment",
        "product",
        "productOffering",
        "productOfferingQualificationItem",
        "productOrderItem",
        "productOrderItemRelationship",
        "qualification",
        "quoteItem",
        "state",
        "@baseType",
        "@schemaLocation",
        "@type",
    }
)
PRODUCT_PROPERTIES = frozenset(
    {
        "id",
        "href",
        "description",
        "isBundle",
        "isCustomerVisible",
        "name",
        "orderDate",
        "productSerialNumber",
        "startDate",
        "terminationDate",
        "agreement",
        "billingAccount",
        "place",
        "product",
        "productCharacteristic",
        "productOffering",
        "productOrderItem",
        "productPrice",
        "productRelationship",
        "productSpecification",
        "productTerm",
        "realizingResource",
        "realizingService",
        "relatedParty",
        "status",
        "@baseType",
        "@schemaLocation",
        "@type",
        "@referredType",
    }
)
OFFERING_REF_PROPERTIES = frozenset({"id", "href", "name", "@baseType", "@schemaLocation", "@type", "@referredType"})
PARTY_PROPERTIES = frozenset({"id", "href", "name", "role", "@baseType", "@schemaLocation", "@type", "@referredType"})
CHARACTERISTIC_PROPERTIES = frozenset({"name", "valueType", "value", "@baseType", "@schemaLocation", "@type"})
# Every ProductOrderStateType value, as a filter may name one: the gateway's orders are only ever completed,
# failed or partial (FINAL_STATES), so a filter naming another finds nothing.
ORDER_STATE_TYPES = frozenset(
    {
        "acknowledged",
        "rejected",
        "pending",
        "held",
        "inProgress",
        "cancelled",
        "completed",
        "failed",
        "partial",
        "assessingCancellation",
        "pendingCancellation",
    }
)
MAX_ITEMS = 100  # one order is one transaction: bounded, so it never holds its locks for long
MAX_EXTERNAL_ID = 100  # the column's length (gateway.store.models.ProductOrder.external_id)
MAX_TEXT = 1000  # description, category, priority: echoed as sent, so bounded
# How far ahead of the gateway's clock a requestedStartDate may be: orders are carried out when they arrive.
START_CLOCK_SKEW = timedelta(minutes=5)
NOTE_AUTHOR = "partner gateway"


class ItemAction(enum.StrEnum):
    """TMF622 OrderItemActionType."""

    ADD = "add"
    MODIFY = "modify"
    DELETE = "delete"
    NO_CHANGE = "noChange"


# A delete item's cancellation reason (productCharacteristic `cancellationReason`): a member's own request waits
# for the period end; the partner's own reasons may end the product at once.
CANCELLATION_REASON = "cancellationReason"
CANCELLATION_REASONS = sorted({OWN_CANCELLATION, *TRANSITIONS[Command.CANCEL_NOW].reasons})
DEFAULT_IMMEDIATE_REASON = "partner_churn"
ADD_CHARACTERISTICS = (
    Characteristic.MARKET,
    Characteristic.LOCALE,
    Characteristic.BILLING_ANCHOR,
    Characteristic.BILLED_BY,
)
# A modify item's product.status, as the command it asks for (a product pending termination made active again
# is the revert of its cancellation: modify_steps).
MODIFY_STATUSES = (ProductStatus.ACTIVE, ProductStatus.SUSPENDED)

# The actions an order item can ask of a product, as the refusals name them (what the partner may do instead).
ORDER_ACTIONS = {
    Command.CHANGE_PLAN: "modify productOffering",
    Command.SUSPEND: "modify status to suspended",
    Command.RESUME: "modify status to active",
    Command.REVERT_CANCELLATION: "modify status to active",
    Command.SCHEDULE_CANCELLATION: "delete",
    Command.CANCEL_NOW: "delete",
}

# Characteristics an `add` item's product shows while the member has not activated it yet: what the partner gives
# the member (as /v1's `activation` block). Added when the order is read, never stored with it: the code works
# only until it is used or expires, and is the member's to use.
ACTIVATION_CODE, ACTIVATION_URL, ACTIVATION_EXPIRES_AT = "activationCode", "activationUrl", "activationExpiresAt"


@dataclass(frozen=True)
class Step:
    """One lifecycle command an item asks for, with its reason (a plan change works its reason out itself)."""

    command: Command
    reason: str = ""
    plan: str | None = None


@dataclass(frozen=True)
class NewProduct:
    """What an `add` item asks for: create_subscription's arguments."""

    partner_ref: str
    plan: str
    market: str
    billing_anchor: date
    locale: str | None
    billed_by: str


@dataclass(frozen=True)
class OrderItem:
    id: str
    action: ItemAction
    path: str  # where the item is in the request, for error fields: productOrderItem[2]
    product_id: str | None = None  # the subscription a modify, delete or noChange item is about
    new_product: NewProduct | None = None  # add
    plan: str | None = None  # modify: productOffering.id
    status: ProductStatus | None = None  # modify: product.status
    cancellation: Step | None = None  # delete: the command it is, decided by the order's dates alone
    asked: Mapping[str, Any] = field(default_factory=dict)  # what the item said of the product, echoed


@dataclass(frozen=True)
class OrderRequest:
    items: tuple[OrderItem, ...]
    external_id: str | None
    requested_completion: datetime | None
    echoed: Mapping[str, Any]  # the order's own fields the partner sent that its representation repeats
    customer: str | None  # the order's customer party (partner_ref), for add items that name none

    def product_ids(self) -> list[str]:
        """The subscriptions the items are about, each once, in id order: the order the use case locks them in."""
        return sorted({item.product_id for item in self.items if item.product_id is not None})


# -- reading an order ---------------------------------------------------------------------------------------------


class _Errors:
    """Collects what is wrong with an order, so one 400 names every field at once."""

    def __init__(self) -> None:
        self.found: dict[str, str] = {}

    def add(self, path: str, message: str) -> None:
        self.found.setdefault(path, message)

    def raise_any(self) -> None:
        if self.found:
            raise InvalidInput(self.found)


def _unknown(source: dict[str, Any], known: frozenset[str], definition: str, errors: _Errors, prefix: str = "") -> None:
    """Name every key of `source` that is not a property of the spec's `definition`."""
    for name in source:
        if name not in known:
            place = f"{prefix}.{name}" if prefix else str(name)
            errors.add(place, f"Not a field of {definition} (TMF622): check its spelling.")


def read_order(body: Any, *, now: datetime) -> OrderRequest:
    """The order a ProductOrder_Create body asks for, received at `now`; InvalidInput naming every field the
    request alone shows is wrong. A key that is no property of the spec's definitions (CREATE_PROPERTIES and the
    others) is refused where it is. Fields of the spec the gateway does not act on are ignored and not repeated,
    except those whose meaning it could not honour (nested items, item relationships, a quantity other than 1,
    a start in the future): those are refused."""
    errors = _Errors()
    if not isinstance(body, dict):
        raise InvalidInput({"(body)": "A ProductOrder: a JSON object with productOrderItem."})
    _unknown(body, CREATE_PROPERTIES, "ProductOrder_Create", errors)
    echoed: dict[str, Any] = {}
    external_id = _text(body, "externalId", errors, limit=MAX_EXTERNAL_ID)
    if external_id is not None:
        echoed["externalId"] = external_id
    for name in ("description", "category", "priority"):
        value = _text(body, name, errors, limit=MAX_TEXT)
        if value is not None:
            echoed[name] = value
    requested_completion = _time(body, "requestedCompletionDate", errors)
    requested_start = _time(body, "requestedStartDate", errors)
    if requested_completion is not None:
        echoed["requestedCompletionDate"] = requested_completion.isoformat()
    if requested_start is not None:
        echoed["requestedStartDate"] = requested_start.isoformat()
        if requested_start > now + START_CLOCK_SKEW:
            errors.add(
                "requestedStartDate",
                "Orders are carried out when they arrive: a start in the future is not supported. Place the order "
                "when it should start.",
            )
    customer = _customer(body.get("relatedParty"), "relatedParty", errors)
    if customer is not None:
        echoed["relatedParty"] = [_party(customer)]
    items = _items(body.get("productOrderItem"), errors, customer, requested_completion, now)
    errors.raise_any()
    return OrderRequest(tuple(items), external_id, requested_completion, echoed, customer)


def _items(
    raw: Any, errors: _Errors, customer: str | None, requested_completion: datetime | None, now: datetime
) -> list[OrderItem]:
    if not isinstance(raw, list) or not raw:
        errors.add("productOrderItem", "At least one order item: a list of objects with id and action.")
        return []
    if len(raw) > MAX_ITEMS:
        errors.add("productOrderItem", f"At most {MAX_ITEMS} items in one order; place several orders.")
        return []
    items, seen = [], set()
    for index, entry in enumerate(raw):
        path = f"productOrderItem[{index}]"
        if not isinstance(entry, dict):
            errors.add(path, "An order item: an object with id and action.")
            continue
        _unknown(entry, ITEM_PROPERTIES, "ProductOrderItem", errors, path)
        item_id = _text(entry, "id", errors, prefix=path, required=True, limit=MAX_EXTERNAL_ID)
        if item_id is not None:
            if item_id in seen:
                errors.add(f"{path}.id", f"Another item of the order has the id {item_id!r}: each needs its own.")
            seen.add(item_id)
        item = _item(entry, path, item_id or "", errors, customer, requested_completion, now)
        if item is not None:
            items.append(item)
    return items


def _item(
    entry: dict[str, Any],
    path: str,
    item_id: str,
    errors: _Errors,
    customer: str | None,
    requested_completion: datetime | None,
    now: datetime,
) -> OrderItem | None:
    action = entry.get("action")
    if action not in tuple(ItemAction):
        errors.add(f"{path}.action", f"One of {', '.join(ItemAction)}.")
        return None
    action = ItemAction(action)
    for unsupported, why in (
        ("productOrderItem", "Nested order items are not supported: list each item in the order itself."),
        (
            "productOrderItemRelationship",
            "Relationships between items are not supported: each item is carried out on its own, in the order "
            "listed. Place dependent changes as separate orders.",
        ),
    ):
        if entry.get(unsupported) not in (None, []):
            errors.add(f"{path}.{unsupported}", why)
    quantity = entry.get("quantity")
    if quantity is not None and (type(quantity) is not int or quantity != 1):
        errors.add(f"{path}.quantity", "Each item orders one product: 1, or leave it out.")
    product = entry.get("product")
    if product is not None and not isinstance(product, dict):
        errors.add(f"{path}.product", "An object (ProductRefOrValue).")
        return None
    product = product or {}
    _unknown(product, PRODUCT_PROPERTIES, "ProductRefOrValue", errors, f"{path}.product")
    if isinstance(product.get("productOffering"), dict):
        _unknown(
            product["productOffering"],
            OFFERING_REF_PROPERTIES,
            "ProductOfferingRef",
            errors,
            f"{path}.product.productOffering",
        )
    if action is ItemAction.ADD:
        return _add_item(item_id, path, product, _offering(entry, path, errors), errors, customer)
    product_id = _text(product, "id", errors, prefix=f"{path}.product", required=True, limit=MAX_TEXT)
    # noChange leaves the product as it is and delete ends it, whatever else they restate of it (its offering).
    if action is ItemAction.NO_CHANGE:
        return OrderItem(item_id, action, path, product_id=product_id)
    characteristics = _characteristics(product, f"{path}.product", errors)
    if action is ItemAction.DELETE:
        cancellation = _cancellation(characteristics, path, errors, requested_completion, now)
        return OrderItem(item_id, action, path, product_id=product_id, cancellation=cancellation)
    plan = _offering(entry, path, errors)
    if characteristics:
        errors.add(
            f"{path}.product.productCharacteristic",
            "A modify item changes the plan (productOffering.id) or the status (product.status), no characteristic.",
        )
    status = product.get("status")
    if status is not None and status not in MODIFY_STATUSES:
        errors.add(
            f"{path}.product.status",
            "A modify item sets the status to suspended or active; a delete item ends the product.",
        )
        status = None
    if plan is None and product.get("status") is None:
        errors.add(
            path,
            "A modify item changes the plan (productOffering.id), the status (product.status: suspended or "
            "active), or both.",
        )
    return OrderItem(
        item_id,
        action,
        path,
        product_id=product_id,
        plan=plan,
        status=ProductStatus(status) if status is not None else None,
    )


def _add_item(
    item_id: str, path: str, product: dict[str, Any], plan: str | None, errors: _Errors, order_customer: str | None
) -> OrderItem | None:
    if product.get("id") is not None:
        errors.add(f"{path}.product.id", "An add item creates the product, which gets its id then: leave it out.")
    if plan is None:
        errors.add(f"{path}.productOffering.id", f"The plan to add: one of {', '.join(PLANS)}.")
    parties = f"{path}.product.relatedParty"
    customer = _customer(product.get("relatedParty"), parties, errors) or order_customer
    if customer is None and not any(name.startswith(parties) for name in errors.found):
        errors.add(
            parties,
            "The customer: a relatedParty with role customer whose id is your reference for them (partner_ref), "
            "on the item's product or on the order.",
        )
    characteristics = _characteristics(product, f"{path}.product", errors)
    place = f"{path}.product.productCharacteristic"
    for name in characteristics:
        if name not in ADD_CHARACTERISTICS:
            errors.add(f"{place}.{name}", f"Not one an order sets: {', '.join(ADD_CHARACTERISTICS)}.")
    market = characteristics.get(Characteristic.MARKET)
    if market is None:
        errors.add(f"{place}.{Characteristic.MARKET}", "Required: the ISO 3166-1 alpha-2 country it is sold in.")
    elif not isinstance(market, str) or market not in COUNTRY_CODES:
        errors.add(f"{place}.{Characteristic.MARKET}", "Not an ISO 3166-1 alpha-2 country code such as DE.")
    anchor = _anchor(characteristics.get(Characteristic.BILLING_ANCHOR), f"{place}.{Characteristic.BILLING_ANCHOR}")
    if isinstance(anchor, str):
        errors.add(f"{place}.{Characteristic.BILLING_ANCHOR}", anchor)
        anchor = None
    locale = characteristics.get(Characteristic.LOCALE)
    if locale is not None:
        locale = normalize_locale(locale) if isinstance(locale, str) else None
        if locale is None:
            errors.add(f"{place}.{Characteristic.LOCALE}", "Not a BCP 47 language tag such as 'de' or 'de-AT'.")
    billed_by = characteristics.get(Characteristic.BILLED_BY, PARTNER_BILLED)
    if billed_by not in (PARTNER_BILLED, SERVICE_BILLED):
        errors.add(f"{place}.{Characteristic.BILLED_BY}", f"One of {PARTNER_BILLED}, {SERVICE_BILLED}.")
    if None in (plan, customer, market, anchor) or f"{place}.{Characteristic.LOCALE}" in errors.found:
        return None
    new = NewProduct(customer, plan, market, anchor, locale, billed_by)
    return OrderItem(item_id, ItemAction.ADD, path, new_product=new, plan=plan, asked=_asked_product(new))


def _anchor(value: Any, place: str) -> date | str:
    """The billing anchor, or what is wrong with it."""
    if value is None:
        return "Required: the first day of a billing period (YYYY-MM-DD); periods are monthly from it."
    if not isinstance(value, str):
        return "A date as text: YYYY-MM-DD."
    try:
        return date.fromisoformat(value)
    except ValueError:
        return "A date as text: YYYY-MM-DD."


def _cancellation(
    characteristics: Mapping[str, Any],
    path: str,
    errors: _Errors,
    requested_completion: datetime | None,
    now: datetime,
) -> Step | None:
    """A delete item's command: at once when the order asks for completion by its own date (or before), at the
    period end otherwise; a member's own request always waits for the period end (lifecycle.cancellation_command)."""
    place = f"{path}.product.productCharacteristic"
    for name in characteristics:
        if name != CANCELLATION_REASON:
            errors.add(f"{place}.{name}", f"A delete item takes one characteristic only: {CANCELLATION_REASON}.")
    when = IMMEDIATELY if requested_completion is not None and requested_completion <= now else PERIOD_END
    reason = characteristics.get(CANCELLATION_REASON)
    if reason is None:
        reason = OWN_CANCELLATION if when == PERIOD_END else DEFAULT_IMMEDIATE_REASON
    elif reason not in CANCELLATION_REASONS:
        errors.add(f"{place}.{CANCELLATION_REASON}", f"One of {', '.join(CANCELLATION_REASONS)}.")
        return None
    try:
        command = cancellation_command(when, reason, field=f"{place}.{CANCELLATION_REASON}")
    except InvalidInput as refused:
        for name, message in refused.errors.items():
            errors.add(name, _in_order_terms(message, when))
        return None
    return Step(command, reason)


def _in_order_terms(message: str, when: str) -> str:
    """cancellation_command's refusal, said with what an order uses to choose the moment: its dates."""
    if when == PERIOD_END:
        return (
            "Without a requestedCompletionDate at or before the order date, a delete item cancels at the period "
            f"end, which only a member's own request ({OWN_CANCELLATION}) does; {message}"
        )
    return (
        "The order's requestedCompletionDate asks for the product to end at once, which a member's own request "
        "never does: their access lasts until the period end. Leave out requestedCompletionDate (or set it "
        f"after the order date) to cancel at the period end; {message}"
    )


def _offering(entry: dict[str, Any], path: str, errors: _Errors) -> str | None:
    offering = entry.get("productOffering")
    if offering is None:
        return None
    plan = offering.get("id") if isinstance(offering, dict) else None
    if isinstance(offering, dict):
        _unknown(offering, OFFERING_REF_PROPERTIES, "ProductOfferingRef", errors, f"{path}.productOffering")
    if plan not in PLANS:
        errors.add(f"{path}.productOffering.id", f"The plan: one of {', '.join(PLANS)}.")
        return None
    return plan


def _characteristics(product: dict[str, Any], path: str, errors: _Errors) -> dict[str, Any]:
    """A product's productCharacteristic as name -> value (each name once)."""
    raw = product.get("productCharacteristic")
    if raw is None:
        return {}
    place = f"{path}.productCharacteristic"
    if not isinstance(raw, list):
        errors.add(place, "A list of {name, value} objects.")
        return {}
    found: dict[str, Any] = {}
    for index, entry in enumerate(raw):
        if isinstance(entry, dict):
            _unknown(entry, CHARACTERISTIC_PROPERTIES, "Characteristic", errors, f"{place}[{index}]")
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or "value" not in entry:
            errors.add(f"{place}[{index}]", "A characteristic: an object with name and value.")
        elif name in found:
            errors.add(f"{place}.{name}", "Named twice: give each characteristic once.")
        else:
            found[name] = entry["value"]
    return found


def _customer(raw: Any, path: str, errors: _Errors) -> str | None:
    """The partner_ref a relatedParty list names as its customer (role customer), in its normal form."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(party, dict) for party in raw):
        errors.add(path, "A list of RelatedParty objects.")
        return None
    for index, party in enumerate(raw):
        _unknown(party, PARTY_PROPERTIES, "RelatedParty", errors, f"{path}[{index}]")
    customers = [party for party in raw if str(party.get("role", "")).lower() == PartyRole.CUSTOMER]
    if len(customers) > 1:
        errors.add(path, "One customer per product: a single relatedParty with role customer.")
        return None
    if not customers:
        return None
    reference = customers[0].get("id")
    if not isinstance(reference, str):
        errors.add(f"{path}.id", "The customer's partner_ref, as text.")
        return None
    try:
        return partner_refs.normal_form(reference)
    except partner_refs.UnusableRef as unusable:
        errors.add(f"{path}.id", f"The customer's partner_ref: {unusable}")
        return None


def _text(
    source: dict[str, Any],
    name: str,
    errors: _Errors,
    *,
    prefix: str = "",
    required: bool = False,
    limit: int,
) -> str | None:
    value = source.get(name)
    place = f"{prefix}.{name}" if prefix else name
    if value is None:
        if required:
            errors.add(place, "Required.")
        return None
    if not isinstance(value, str) or not value.strip():
        errors.add(place, "Text, not empty.")
        return None
    if len(value) > limit:
        errors.add(place, f"At most {limit} characters.")
        return None
    return value


def _time(source: dict[str, Any], name: str, errors: _Errors) -> datetime | None:
    value = source.get(name)
    if value is None:
        return None
    parsed = None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None or parsed.tzinfo is None:
        errors.add(name, "An ISO 8601 date-time with its offset, e.g. 2026-12-01T00:00:00Z.")
        return None
    return parsed


def _party(partner_ref: str) -> dict[str, str]:
    return {"id": partner_ref, "role": str(PartyRole.CUSTOMER), "@referredType": REFERRED_TYPES[PartyRole.CUSTOMER]}


def _asked_product(new: NewProduct) -> dict[str, Any]:
    """An add item's product as the order asked for it: shown when the item failed and no product was made."""
    characteristics = {
        Characteristic.MARKET: new.market,
        Characteristic.LOCALE: new.locale,
        Characteristic.BILLING_ANCHOR: new.billing_anchor.isoformat(),
        Characteristic.BILLED_BY: new.billed_by,
    }
    return {
        "productOffering": _offering_ref(new.plan),
        "relatedParty": [_party(new.partner_ref)],
        "productCharacteristic": [
            {"name": str(name), "value": value} for name, value in characteristics.items() if value is not None
        ],
        "@type": "Product",
    }


def _offering_ref(plan: str) -> dict[str, str]:
    return {"id": plan, "@referredType": "ProductOffering"}


# -- what an item does --------------------------------------------------------------------------------------------


def modify_steps(item: OrderItem, *, status: Status, plan: str) -> list[Step]:
    """The commands a modify item asks of a subscription in `status` on `plan`, in the order they apply.

    product.status `suspended` suspends; `active` resumes a suspended product, and keeps one whose cancellation is
    scheduled (pendingTerminate), as the partner's revert-cancellation does. An item that names both the plan and
    the status may restate the one that does not change (a client sending the whole product): only the other is
    applied. Anything else goes to the state machine as asked, which refuses it in its own words (suspending a
    suspended subscription, a plan it is already on).
    """
    status_step = None
    if item.status is ProductStatus.SUSPENDED:
        status_step = Step(Command.SUSPEND, "non_payment")
    elif item.status is ProductStatus.ACTIVE:
        if status is Status.CANCELLATION_SCHEDULED:
            status_step = Step(Command.REVERT_CANCELLATION, OWN_CANCELLATION)
        else:
            status_step = Step(Command.RESUME, "payment_recovered")
    plan_step = Step(Command.CHANGE_PLAN, plan=item.plan) if item.plan is not None else None
    if status_step is not None and plan_step is not None:
        restated_status = PRODUCT_STATUS.get(status) is item.status
        restated_plan = item.plan == plan
        if restated_status:
            status_step = None  # both restated: the plan change is refused as "already on the plan"
        elif restated_plan:
            plan_step = None
    # A plan changes on an active subscription: after a resume or revert, before a suspension.
    if status_step is not None and status_step.command is Command.SUSPEND:
        return [step for step in (plan_step, status_step) if step is not None]
    return [step for step in (status_step, plan_step) if step is not None]


def refusal_reason(refused: InvalidTransition) -> str:
    """Why the state machine refused an item's command, as /v1's 409 words it (lifecycle.refusal_text), naming
    what an order could ask of the product instead."""
    allowed = allowed_commands(refused.status, Actor.PARTNER, warned=refused.warned, billed_by=refused.billed_by)
    names = sorted({ORDER_ACTIONS[c] for c in allowed if c in ORDER_ACTIONS and c is not refused.command})
    return refusal_text(str(refused.command), refused.state, names)


# -- the order's state and representation -------------------------------------------------------------------------


ITEM_DONE, ITEM_REFUSED = OrderState.COMPLETED, OrderState.FAILED
ITEM_STATES = (ITEM_DONE, ITEM_REFUSED)  # every item is carried out or refused while its order is placed
FINAL_STATES = frozenset({OrderState.COMPLETED, OrderState.FAILED, OrderState.PARTIAL})


def order_state(item_states: Iterable[OrderState]) -> OrderState:
    """completed when every item was carried out, failed when none was, partial otherwise."""
    states = set(item_states)
    if not states:
        raise ValueError("an order has at least one item")
    if states == {ITEM_DONE}:
        return OrderState.COMPLETED
    if ITEM_DONE not in states:
        return OrderState.FAILED
    return OrderState.PARTIAL


@dataclass(frozen=True)
class ItemOutcome:
    """How one item went: its state, the product as the item left it (a Product, without href), and the
    refusal when it failed."""

    item: OrderItem
    state: OrderState
    product: Mapping[str, Any] | None
    refusal: str | None = None


def order_body(
    *,
    order_id: str,
    request: OrderRequest,
    outcomes: Sequence[ItemOutcome],
    state: OrderState,
    order_date: datetime,
    completion_date: datetime | None,
) -> dict[str, Any]:
    """The order as stored and as the partner reads it, less the hrefs (with_hrefs adds them when it is read, so a
    stored order never names the host it was placed on). Each failed item has a note whose id is the item's id,
    saying why."""
    body: dict[str, Any] = {"id": order_id, **request.echoed, "state": str(state), "orderDate": order_date.isoformat()}
    if completion_date is not None:
        body["completionDate"] = completion_date.isoformat()
    notes = [
        {"id": outcome.item.id, "author": NOTE_AUTHOR, "date": order_date.isoformat(), "text": outcome.refusal}
        for outcome in outcomes
        if outcome.refusal is not None
    ]
    if notes:
        body["note"] = notes
    body["productOrderItem"] = [_item_body(outcome) for outcome in outcomes]
    body["@type"] = ORDER_TYPE
    return body


def _item_body(outcome: ItemOutcome) -> dict[str, Any]:
    item = outcome.item
    body: dict[str, Any] = {"id": item.id, "action": str(item.action), "state": str(outcome.state)}
    if item.plan is not None:
        body["productOffering"] = _offering_ref(item.plan)
    product = outcome.product
    if product is None:
        product = item.asked if item.asked else {"id": item.product_id, "@type": "Product"}
    body["product"] = {name: value for name, value in product.items() if name != "href"}
    body["@type"] = ITEM_TYPE
    return body


def with_hrefs(
    stored: Mapping[str, Any],
    *,
    ordering_url: str,
    inventory_url: str,
    activations: Mapping[str, tuple[str, datetime]] | None = None,
    activation_url: str = "",
) -> dict[str, Any]:
    """A stored order as the partner reads it: its href and its products' under the APIs' absolute base URLs, and
    an add item's product, while its member has not activated it, with the code to give them (`activations`:
    subscription id -> (code, expires at)) at `activation_url`."""
    body = {"id": stored["id"], "href": f"{ordering_url.rstrip('/')}/productOrder/{stored['id']}"}
    body.update((name, value) for name, value in stored.items() if name != "id")
    items = []
    for item in stored["productOrderItem"]:
        product = dict(item["product"])
        if "id" in product:
            product = {"id": product["id"], "href": product_href(inventory_url, product["id"]), **product}
            found = (activations or {}).get(product["id"])
            if item["action"] == ItemAction.ADD and found is not None:
                product["productCharacteristic"] = [
                    *product.get("productCharacteristic", []),
                    *_activation(found, activation_url),
                ]
        items.append({**item, "product": product})
    body["productOrderItem"] = items
    return body


def _activation(found: tuple[str, datetime], activation_url: str) -> list[dict[str, str]]:
    code, expires_at = found
    return [
        {"name": ACTIVATION_CODE, "valueType": "string", "value": code},
        {"name": ACTIVATION_URL, "valueType": "string", "value": f"{activation_url}?code={code}"},
        {"name": ACTIVATION_EXPIRES_AT, "valueType": "dateTime", "value": expires_at.isoformat()},
    ]


def event_data(body: Mapping[str, Any]) -> dict[str, Any]:
    """The data of the product_order.state_changed event: the order as the partner reads it, in the catalog's
    words (what a hub's ProductOrderStateChangeEvent is made from)."""
    refusals = {note["id"]: note["text"] for note in body.get("note", [])}
    return {
        "order_id": body["id"],
        "external_id": body.get("externalId"),
        "state": body["state"],
        "order_date": body["orderDate"],
        "completion_date": body["completionDate"],
        "items": [
            {
                "id": item["id"],
                "action": item["action"],
                "state": item["state"],
                "product_id": item["product"].get("id"),
                "refusal": refusals.get(item["id"]),
            }
            for item in body["productOrderItem"]
        ],
    }


# -- idempotency and cancellation ---------------------------------------------------------------------------------


def request_fingerprint(body: Any) -> str:
    """What tells one order request from another with the same externalId: the body as parsed (key order and
    white space do not count)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def read_cancellation(body: Any) -> str:
    """The id of the order a CancelProductOrder_Create body names; InvalidInput naming what is wrong with it."""
    errors = _Errors()
    if not isinstance(body, dict):
        raise InvalidInput({"(body)": "A CancelProductOrder: a JSON object with productOrder."})
    order = body.get("productOrder")
    order_id = None
    if not isinstance(order, dict):
        errors.add("productOrder", "Required: the order to cancel, as {id}.")
    else:
        order_id = _text(order, "id", errors, prefix="productOrder", required=True, limit=MAX_TEXT)
    _text(body, "cancellationReason", errors, limit=MAX_TEXT)
    _time(body, "requestedCancellationDate", errors)
    errors.raise_any()
    return order_id


def cancellation_refusal(order_id: str, state: str) -> str:
    """Why an order in `state` cannot be cancelled. TMF622 cancels orders still being carried out (acknowledged,
    inProgress); the gateway carries every order out within the request that places it, so any order a partner
    can name has reached its final state."""
    match state:
        case OrderState.COMPLETED:
            why = "is completed: every item has been carried out"
        case OrderState.PARTIAL:
            why = "is partial: its completed items have been carried out and the others were refused"
        case OrderState.FAILED:
            why = "failed: none of its items was carried out, so there is nothing to cancel"
        case _:
            why = f"is {state}"
    return (
        f"Product order {order_id} {why}. Only an order still in progress can be cancelled, and the gateway carries "
        "out each order when it is placed. To undo what an order did, place a new one (a delete item ends a "
        "product an add item made; a modify item changes a plan or status back)."
    )
