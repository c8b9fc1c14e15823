"""A subscription as a TMF637 Product (gateway.domain.tmf_products): the status table, the dates, the parties and
characteristics, and conformance to the official Product definition in every status."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from gateway.domain.lifecycle import Status
from gateway.domain.tmf import PRODUCT_STATUS, ProductStatus, product_status
from gateway.domain.tmf_products import (
    COLUMNS,
    PRODUCT_ATTRIBUTES,
    PRODUCT_STATUS_TYPES,
    inventory_api_url,
    is_product,
    product_href,
    product_of,
)
from tests.support.tmf_conformance import assert_conforms, spec

BASE = "https://gw.example/tmf-api/productInventory/v4"
CREATED = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
ACTIVATED = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)
PERIOD_END = datetime(2026, 3, 15, tzinfo=UTC)


def subscription(**changes):
    values = dict.fromkeys(COLUMNS)
    values.update(
        id="sub_1",
        partner_code="rheinfunk",
        partner_ref="RF-0042",
        plan="standard_with_ads",
        status=Status.PENDING_ACTIVATION.value,
        market="DE",
        locale="de-DE",
        billing_anchor=date(2026, 1, 15),
        billed_by="partner",
        created_at=CREATED,
    )
    values.update(changes)
    return values


ACTIVE = {"status": "active", "activated_at": ACTIVATED}
EVERY_STATE = {
    "pending activation": {},
    "active": ACTIVE,
    "warned": {**ACTIVE, "inactivity_warned_at": CREATED, "inactivity_respond_by": PERIOD_END},
    "suspended": {**ACTIVE, "status": "suspended"},
    "cancellation scheduled": {**ACTIVE, "status": "cancellation_scheduled", "access_until": PERIOD_END},
    "terminated": {**ACTIVE, "status": "cancelled", "access_until": PERIOD_END, "cancelled_at": PERIOD_END},
    "activation expired": {"status": "cancelled", "cancelled_at": PERIOD_END},
    "purged": {"status": "purged", "cancelled_at": PERIOD_END},
    "downgrade waiting": {**ACTIVE, "pending_plan": "standard_with_ads", "pending_plan_at": PERIOD_END},
}


@pytest.mark.parametrize("state", EVERY_STATE)
def test_a_product_in_every_state_conforms_to_tmf637(state):
    assert_conforms(product_of(subscription(**EVERY_STATE[state]), inventory_url=BASE), "Product")


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("pending activation", "pendingActive"),
        ("active", "active"),
        ("warned", "active"),
        ("suspended", "suspended"),
        ("cancellation scheduled", "pendingTerminate"),
        ("terminated", "terminated"),
        ("activation expired", "cancelled"),
    ],
)
def test_the_status_follows_the_table(state, expected):
    assert product_of(subscription(**EVERY_STATE[state]), inventory_url=BASE)["status"] == expected


def test_no_subscription_status_reads_as_the_specs_aborted_value():
    emitted = {product_status(status, was_activated=activated) for status in Status for activated in (True, False)}
    assert "aborted " in spec("TMF637")["definitions"]["ProductStatusType"]["enum"]  # the spec's own value …
    assert not {str(value) for value in emitted if value is not None} & {"aborted ", "aborted", "created"}
    assert {value.value for value in ProductStatus} <= set(spec("TMF637")["definitions"]["ProductStatusType"]["enum"])
    assert set(PRODUCT_STATUS) == set(Status)  # every status has its line in the table
    assert set(spec("TMF637")["definitions"]["ProductStatusType"]["enum"]) == PRODUCT_STATUS_TYPES


def test_a_purged_subscription_is_no_product_and_its_last_representation_has_no_status():
    product = product_of(subscription(**EVERY_STATE["purged"]), inventory_url=BASE)
    assert "status" not in product
    assert not is_product("purged")
    assert all(is_product(status) for status in Status if status != Status.PURGED)


def test_the_product_names_the_offering_the_parties_and_links_itself():
    product = product_of(subscription(**ACTIVE), inventory_url=BASE + "/")
    assert product["id"] == "sub_1"
    assert product["href"] == f"{BASE}/product/sub_1" == product_href(BASE, "sub_1")
    assert product["@type"] == "Product"
    assert product["name"] == "Standard with adverts"
    assert product["productOffering"] == {
        "id": "standard_with_ads",
        "name": "Standard with adverts",
        "@referredType": "ProductOffering",
    }
    assert product["relatedParty"] == [
        {"id": "rheinfunk", "role": "seller", "@referredType": "Organization"},
        {"id": "RF-0042", "role": "customer", "@referredType": "Customer"},
    ]


@pytest.mark.parametrize(
    ("state", "start", "termination"),
    [
        ("pending activation", None, None),
        ("active", ACTIVATED, None),
        ("cancellation scheduled", ACTIVATED, PERIOD_END),  # when access will end
        ("terminated", ACTIVATED, PERIOD_END),  # when it ended
        ("activation expired", None, PERIOD_END),
    ],
)
def test_the_dates_are_the_order_activation_and_end(state, start, termination):
    product = product_of(subscription(**EVERY_STATE[state]), inventory_url=BASE)
    assert product["orderDate"] == "2026-01-05T09:30:00+00:00"
    assert product.get("startDate") == (start.isoformat() if start else None)
    assert product.get("terminationDate") == (termination.isoformat() if termination else None)


def test_an_active_subscription_with_a_stale_access_until_has_no_termination_date():
    # A reverted cancellation: the product is active again, whatever date the row still holds.
    product = product_of(subscription(**ACTIVE, access_until=PERIOD_END), inventory_url=BASE)
    assert "terminationDate" not in product


def test_characteristics_carry_the_set_values_only_as_json_text():
    product = product_of(subscription(**EVERY_STATE["warned"]), inventory_url=BASE)
    assert product["productCharacteristic"] == [
        {"name": "market", "valueType": "string", "value": "DE"},
        {"name": "locale", "valueType": "string", "value": "de-DE"},
        {"name": "billingAnchor", "valueType": "date", "value": "2026-01-15"},
        {"name": "billedBy", "valueType": "string", "value": "partner"},
        {"name": "inactivityWarnedAt", "valueType": "dateTime", "value": CREATED.isoformat()},
        {"name": "inactivityRespondBy", "valueType": "dateTime", "value": PERIOD_END.isoformat()},
    ]
    scheduled = product_of(subscription(**EVERY_STATE["cancellation scheduled"]), inventory_url=BASE)
    assert {"name": "accessUntil", "valueType": "dateTime", "value": PERIOD_END.isoformat()} in scheduled[
        "productCharacteristic"
    ]
    waiting = product_of(subscription(**EVERY_STATE["downgrade waiting"]), inventory_url=BASE)
    names = [item["name"] for item in waiting["productCharacteristic"]]
    assert names[-2:] == ["scheduledPlan", "scheduledPlanDate"]


def test_a_row_read_by_attribute_gives_the_same_product_as_a_mapping():
    values = subscription(**EVERY_STATE["cancellation scheduled"])
    assert product_of(SimpleNamespace(**values), inventory_url=BASE) == product_of(values, inventory_url=BASE)


def test_a_mapping_missing_a_column_is_a_programming_error_not_a_silent_null():
    values = subscription(**ACTIVE)
    del values["activated_at"]
    with pytest.raises(KeyError, match="activated_at"):
        product_of(values, inventory_url=BASE)


def test_fields_may_select_exactly_the_attributes_the_official_product_names():
    assert set(spec("TMF637")["definitions"]["Product"]["properties"]) == PRODUCT_ATTRIBUTES
    assert set(product_of(subscription(**EVERY_STATE["warned"]), inventory_url=BASE)) <= PRODUCT_ATTRIBUTES


def test_the_api_url_is_under_the_gateways_own_address():
    assert inventory_api_url("https://gw.example/") == BASE
    assert inventory_api_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000/tmf-api/productInventory/v4"
