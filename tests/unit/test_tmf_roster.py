"""A partner's TMF637 Products read as roster rows (gateway.domain.tmf_roster): customer, status and plan, and
every way a product can fail to say them."""

from __future__ import annotations

import pytest

from gateway.domain.lifecycle import Status
from gateway.domain.roster import AS_PARTNER_SEES_IT, BadRow, RosterRow, RosterStatus, compare
from gateway.domain.tmf import ProductStatus, product_status
from gateway.domain.tmf_roster import ENDED_STATUSES, ROSTER_STATUS, product_row
from tests.support.tmf_inventory import product


def _row(**changes) -> object:
    return product_row(7, {**product("c-1"), **changes})


@pytest.mark.parametrize("status", [status for status in Status if status is not Status.PURGED])
@pytest.mark.parametrize("was_activated", [True, False])
def test_every_status_the_gateway_shows_reads_back_as_the_partner_would_list_it(status, was_activated):
    shown = product_status(status, was_activated=was_activated)
    read = product_row(1, product("c-1", status=shown.value, plan="premium"))
    assert read.row == RosterRow(1, "c-1", AS_PARTNER_SEES_IT[status], "premium")
    # and so the gateway's own products never make drift against the subscriptions they show
    assert compare(read.row, status, "premium") is None


def test_the_table_covers_every_status_the_gateway_emits_and_no_other_but_aborted():
    assert set(ROSTER_STATUS) == {status.value for status in ProductStatus} | {"aborted"}
    assert {"terminated", "cancelled", "aborted"} == ENDED_STATUSES


@pytest.mark.parametrize("status", ["aborted ", "aborted"])
def test_aborted_with_or_without_the_specs_trailing_space_is_an_ended_product(status):
    assert _row(status=status) == product_row(7, product("c-1", status="cancelled")) != _row()
    assert _row(status=status).row.status is RosterStatus.CANCELLED and _row(status=status).ended


def test_created_has_no_counterpart_and_is_a_bad_row_that_still_names_the_customer():
    read = _row(status="created")
    assert isinstance(read.row, BadRow) and read.row.partner_ref == "c-1" and not read.ended
    assert "not yet pending activation" in read.row.reason and read.row.reason.startswith("product 'prod-c-1': ")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"status": "Active"}, "unknown status 'Active'; expected one of aborted, active, cancelled"),
        ({"status": 3}, "no status"),
        ({"status": "  "}, "no status"),
        ({"productOffering": {"id": "gold"}}, "productOffering 'gold' is no plan; expected one of standard_with_ads"),
        ({"productOffering": {"name": "standard"}}, "no productOffering id (the plan)"),
        ({"productOffering": "standard"}, "no productOffering id (the plan)"),
    ],
)
def test_a_product_whose_status_or_plan_cannot_be_read_is_a_bad_row_naming_its_customer(changes, reason):
    read = _row(**changes)
    assert isinstance(read.row, BadRow) and read.row.partner_ref == "c-1" and not read.ended
    assert reason in read.row.reason


def test_an_ended_product_needs_no_plan_the_gateway_sells_but_is_not_compared_without_one():
    read = _row(status="terminated", productOffering={"id": "retired-basic"})
    assert read.ended and isinstance(read.row, BadRow) and read.row.partner_ref == "c-1"


@pytest.mark.parametrize(
    ("parties", "reason"),
    [
        (None, "no relatedParty"),
        ([{"id": "nordlink", "role": "seller", "@referredType": "Customer"}], "no relatedParty with the role customer"),
        ([{"id": 42, "role": "customer"}], "id is not text"),
        ([{"id": "c\t1", "role": "customer"}], "no partner_ref: must not hold a control character"),
        ([{"id": "   ", "role": "customer"}], "no partner_ref: must contain more than white space"),
        ([{"id": "c-1", "role": "customer"}, {"id": "c-2", "role": "Customer"}], "2 different customers"),
    ],
)
def test_a_product_whose_customer_cannot_be_said_is_a_bad_row_naming_no_one(parties, reason):
    read = _row(relatedParty=parties)
    assert isinstance(read.row, BadRow) and read.row.partner_ref is None and not read.ended
    assert reason in read.row.reason


def test_the_customer_is_found_by_role_or_else_by_referred_type_and_read_in_the_normal_form():
    assert _row(relatedParty=[{"id": "  c-9 ", "@referredType": "Customer"}]).row.partner_ref == "c-9"
    twice = [{"id": "c-9", "role": "customer"}, {"id": " c-9", "role": "CUSTOMER", "@referredType": "Individual"}]
    assert _row(relatedParty=twice).row.partner_ref == "c-9"


def test_anything_but_an_object_is_a_bad_row_naming_no_one():
    for value in (None, "prod-1", 3, ["a"]):
        read = product_row(2, value)
        assert read.row == BadRow(2, "not a JSON object (a Product)") and not read.ended


def test_what_the_partner_sent_is_quoted_escaped_and_cut_short_in_a_reason():
    read = _row(id="p\x00\x1b[31m" + "x" * 200, status="bad\ud800")
    assert "\x00" not in read.row.reason and "\x1b" not in read.row.reason and "\ud800" not in read.row.reason
    assert "'p\\x00\\x1b[31m" in read.row.reason and "…" in read.row.reason and len(read.row.reason) < 300
