"""The TMF conformance check itself fails on what a partner's validator would refuse (otherwise every TMF test
that uses it would pass whatever the gateway sends)."""

from __future__ import annotations

import pytest

from tests.support.tmf_conformance import assert_conforms, spec, violations

PRODUCT = {
    "id": "sub_1",
    "href": "https://gw.example/tmf-api/productInventory/v4/product/sub_1",
    "name": "standard",
    "status": "active",
    "startDate": "2026-01-01T00:00:00+00:00",
    "productOffering": {"id": "standard", "name": "standard"},
    "relatedParty": [{"id": "customer-1", "role": "customer", "@referredType": "Individual"}],
    "@type": "Product",
}


def test_the_vendored_specs_are_the_official_v4_ones():
    assert spec("TMF637")["info"]["version"].startswith("4.0")
    assert spec("TMF622")["info"]["version"].startswith("4.0")
    assert "aborted " in spec("TMF637")["definitions"]["ProductStatusType"]["enum"]


def test_a_conforming_product_passes():
    assert violations(PRODUCT, "Product") == []


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"status": "live"}, "status"),  # not a ProductStatusType
        ({"startDate": "yesterday"}, "startDate"),  # not a date-time
        ({"isBundle": "no"}, "isBundle"),  # not a boolean
        ({"subscriptionStatus": "active"}, "subscriptionStatus"),  # a key the definition does not name
        ({"relatedParty": [{"role": "customer", "@referredType": "Individual"}]}, "relatedParty/0"),  # needs its id
    ],
)
def test_a_product_off_the_spec_fails_and_says_where(change, complaint):
    found = violations({**PRODUCT, **change}, "Product")
    assert found and any(complaint in line for line in found), found
    with pytest.raises(AssertionError, match="not a conforming TMF637 Product"):
        assert_conforms({**PRODUCT, **change}, "Product")


def test_events_keep_the_specs_spelling_of_time_ocurred():
    event = {"eventId": "e1", "eventType": "ProductStateChangeEvent", "timeOcurred": "2026-01-01T00:00:00Z"}
    assert violations(event, "ProductStateChangeEvent") == []
    assert violations({**event, "timeOccurred": "2026-01-01T00:00:00Z"}, "ProductStateChangeEvent")


def test_order_definitions_come_from_tmf622():
    order = {"id": "o1", "productOrderItem": [{"id": "1", "action": "add"}]}
    assert violations(order, "ProductOrder", spec_name="TMF622") == []
    assert violations({**order, "state": "done"}, "ProductOrder", spec_name="TMF622")
    assert violations({"id": "o1"}, "ProductOrder", spec_name="TMF622")  # an order has items
