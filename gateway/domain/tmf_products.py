"""A subscription as a TMF637 Product: the one representation the inventory API, the hub events and the order
items share (gateway.domain.tmf holds the status table it uses).

`product_of` takes the subscription's stored values, read by attribute (a mapped Subscription, a hot-read row)
or from a mapping of column names, and returns the Product as JSON-ready values (times as ISO 8601 strings), so
an event payload and a response body are the same text.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from gateway.domain.lifecycle import Status
from gateway.domain.notices import plan_name
from gateway.domain.tmf import ProductStatus, TmfApi, product_status

PRODUCT_TYPE = "Product"
# Every ProductStatusType value of the spec, as a filter may name one: "created" and "aborted " (sic, with its
# space) are never emitted, so a filter naming them finds nothing.
PRODUCT_STATUS_TYPES = frozenset({*(status.value for status in ProductStatus), "created", "aborted "})
# Where the Product Inventory API is served (gateway.api.tmf.blueprints), under the gateway's own address.
INVENTORY_PATH = f"/tmf-api/{TmfApi.PRODUCT_INVENTORY}/v4"
# Every attribute the TMF637 Product definition names: what `fields=` may select (those the gateway never fills
# select nothing). A test holds this to the spec.
PRODUCT_ATTRIBUTES = frozenset(
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
    }
)
# The language of the names a product carries (its own and its offering's): the API is read by partners'
# systems, not by members, so one language for all.
NAME_LANGUAGE = "en"


class PartyRole(enum.StrEnum):
    """The roles of a product's relatedParty entries: the partner that sells the bundle, its customer."""

    SELLER = "seller"
    CUSTOMER = "customer"


# What each party is (@referredType, which RelatedParty requires): the partner is an organisation known by its
# partner code; the customer is the partner's own customer, known only by the partner's reference.
REFERRED_TYPES = {PartyRole.SELLER: "Organization", PartyRole.CUSTOMER: "Customer"}
OFFERING_REFERRED_TYPE = "ProductOffering"


class Characteristic(enum.StrEnum):
    """The names of a product's productCharacteristic entries (an order item's characteristics use the same)."""

    MARKET = "market"
    LOCALE = "locale"
    BILLING_ANCHOR = "billingAnchor"
    BILLED_BY = "billedBy"
    INACTIVITY_WARNED_AT = "inactivityWarnedAt"
    INACTIVITY_RESPOND_BY = "inactivityRespondBy"
    ACCESS_UNTIL = "accessUntil"
    SCHEDULED_PLAN = "scheduledPlan"
    SCHEDULED_PLAN_DATE = "scheduledPlanDate"


# Characteristic -> (the subscription's column, valueType). Written in the order a product lists them; a
# characteristic whose column is unset is left out (Characteristic requires a value).
CHARACTERISTIC_COLUMNS: dict[Characteristic, tuple[str, str]] = {
    Characteristic.MARKET: ("market", "string"),
    Characteristic.LOCALE: ("locale", "string"),
    Characteristic.BILLING_ANCHOR: ("billing_anchor", "date"),
    Characteristic.BILLED_BY: ("billed_by", "string"),
    Characteristic.INACTIVITY_WARNED_AT: ("inactivity_warned_at", "dateTime"),
    Characteristic.INACTIVITY_RESPOND_BY: ("inactivity_respond_by", "dateTime"),
    Characteristic.ACCESS_UNTIL: ("access_until", "dateTime"),
    Characteristic.SCHEDULED_PLAN: ("pending_plan", "string"),
    Characteristic.SCHEDULED_PLAN_DATE: ("pending_plan_at", "dateTime"),
}

# The columns product_of reads: a mapping must hold each of them (None when unset), and needs no others.
COLUMNS = frozenset(
    {
        "id",
        "partner_code",
        "partner_ref",
        "plan",
        "status",
        "created_at",
        "activated_at",
        "cancelled_at",
        *(column for column, _ in CHARACTERISTIC_COLUMNS.values()),
    }
)


def is_product(status: str) -> bool:
    """Whether a subscription in `status` is a product: a purged one is not (GET answers 404 for it; its last
    representation is what a ProductDeleteEvent carries)."""
    return status != Status.PURGED


def inventory_api_url(gateway_url: str) -> str:
    """The Product Inventory API's absolute base URL, from the gateway's own (GATEWAY_PUBLIC_URL, or the address a
    request came in on)."""
    return gateway_url.rstrip("/") + INVENTORY_PATH


def product_href(inventory_url: str, subscription_id: str) -> str:
    """The product's href under the Product Inventory API's absolute base URL (…/tmf-api/productInventory/v4)."""
    return f"{inventory_url.rstrip('/')}/product/{subscription_id}"


def product_of(subscription: Mapping[str, Any] | Any, *, inventory_url: str) -> dict[str, Any]:
    """The subscription as a TMF637 Product.

    `inventory_url` is the API's absolute base URL, which `href` starts with. A purged subscription's product has
    no `status` (no product status stands for "gone"); see is_product.
    """
    value = subscription.__getitem__ if isinstance(subscription, Mapping) else _attribute_reader(subscription)
    subscription_id = value("id")
    status = value("status")
    activated_at = value("activated_at")
    plan = value("plan")
    offering_name = plan_name(plan, NAME_LANGUAGE)
    product: dict[str, Any] = {
        "id": subscription_id,
        "href": product_href(inventory_url, subscription_id),
        "name": offering_name,
        "@type": PRODUCT_TYPE,
        "productOffering": {"id": plan, "name": offering_name, "@referredType": OFFERING_REFERRED_TYPE},
    }
    shown = product_status(status, was_activated=activated_at is not None)
    if shown is not None:
        product["status"] = str(shown)
    product["orderDate"] = _text(value("created_at"))
    if activated_at is not None:
        product["startDate"] = _text(activated_at)
    termination = _termination(status, value)
    if termination is not None:
        product["terminationDate"] = _text(termination)
    product["relatedParty"] = [
        _party(value("partner_code"), PartyRole.SELLER),
        _party(value("partner_ref"), PartyRole.CUSTOMER),
    ]
    product["productCharacteristic"] = [
        {"name": str(name), "valueType": value_type, "value": _text(found)}
        for name, (column, value_type) in CHARACTERISTIC_COLUMNS.items()
        if (found := value(column)) is not None
    ]
    return product


def _attribute_reader(subscription: Any):
    return lambda name: getattr(subscription, name)


# Status -> the column holding the product's terminationDate: when access will end (pendingTerminate), when the
# subscription ended (cancelled, terminated, and the last representation of a purged one). Other statuses have
# none, whatever a column still holds (a reverted cancellation leaves access_until behind).
TERMINATION_COLUMNS = {
    Status.CANCELLATION_SCHEDULED: "access_until",
    Status.CANCELLED: "cancelled_at",
    Status.PURGED: "cancelled_at",
}


def _termination(status: str, value) -> datetime | None:
    column = TERMINATION_COLUMNS.get(status)
    return None if column is None else value(column)


def _party(party_id: str, role: PartyRole) -> dict[str, str]:
    return {"id": party_id, "role": str(role), "@referredType": REFERRED_TYPES[role]}


def _text(found: Any) -> Any:
    return found.isoformat() if isinstance(found, date | datetime) else found
