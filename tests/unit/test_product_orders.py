"""TMF622 product orders read as lifecycle commands (gateway.domain.product_orders): reading an order, what each
item asks of a subscription, the order's state, its representation and its event, without a store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.events import CATALOG
from gateway.domain.errors import InvalidInput
from gateway.domain.lifecycle import Command, InvalidTransition, Status, refusal_text
from gateway.domain.product_orders import (
    CHARACTERISTIC_PROPERTIES,
    CREATE_PROPERTIES,
    ITEM_DONE,
    ITEM_PROPERTIES,
    ITEM_REFUSED,
    MAX_ITEMS,
    OFFERING_REF_PROPERTIES,
    ORDER_ATTRIBUTES,
    ORDER_STATE_TYPES,
    PARTY_PROPERTIES,
    PRODUCT_PROPERTIES,
    ItemAction,
    ItemOutcome,
    Step,
    cancellation_refusal,
    event_data,
    modify_steps,
    order_body,
    order_state,
    read_cancellation,
    read_order,
    refusal_reason,
    request_fingerprint,
    with_hrefs,
)
from gateway.domain.tmf import OrderState
from gateway.domain.tmf_products import COLUMNS, product_of
from tests.support.tmf_conformance import assert_conforms, spec

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
ORDERING = "https://gw.example/tmf-api/productOrdering/v4"
INVENTORY = "https://gw.example/tmf-api/productInventory/v4"


def add_item(item_id="1", **product):
    characteristics = product.pop("characteristics", {"market": "DE", "billingAnchor": "2026-11-15", "locale": "de-at"})
    return {
        "id": item_id,
        "action": "add",
        "productOffering": {"id": product.pop("plan", "standard")},
        "product": {
            "relatedParty": [{"id": " cust-1 ", "role": "Customer", "@referredType": "Customer"}],
            "productCharacteristic": [{"name": name, "value": value} for name, value in characteristics.items()],
            **product,
        },
    }


def item(action, item_id="1", product_id="sub_1", **fields):
    product = {"id": product_id, **fields.pop("product", {})}
    return {"id": item_id, "action": action, "product": product, **fields}


def order(*items, **fields):
    return {"productOrderItem": list(items), **fields}


def errors_of(body) -> dict[str, str]:
    with pytest.raises(InvalidInput) as refused:
        read_order(body, now=NOW)
    return refused.value.errors


# -- reading an order ---------------------------------------------------------------------------------------------


def test_an_add_item_is_a_new_subscription_in_normal_form():
    request = read_order(order(add_item(), externalId="ORD-1", description="Bundle"), now=NOW)
    [added] = request.items
    assert added.action is ItemAction.ADD
    new = added.new_product
    assert (new.partner_ref, new.plan, new.market, new.billing_anchor) == (
        "cust-1",
        "standard",
        "DE",
        date(2026, 11, 15),
    )
    assert (new.locale, new.billed_by) == ("de-AT", "partner")
    assert request.external_id == "ORD-1"
    assert request.echoed == {"externalId": "ORD-1", "description": "Bundle"}
    assert request.product_ids() == []


def test_an_add_item_takes_the_orders_customer_when_it_names_none():
    add = add_item()
    add["product"].pop("relatedParty")
    party = {"id": "cust-9", "role": "customer", "@referredType": "Customer"}
    request = read_order(order(add, relatedParty=[party, {"id": "x", "role": "seller"}]), now=NOW)
    assert request.items[0].new_product.partner_ref == "cust-9"
    assert request.echoed["relatedParty"] == [party]


def test_an_add_item_can_say_the_service_bills():
    add = add_item(characteristics={"market": "AT", "billingAnchor": "2026-01-31", "billedBy": "service"})
    [added] = read_order(order(add), now=NOW).items
    assert (added.new_product.billed_by, added.new_product.locale) == ("service", None)


def test_everything_wrong_with_an_add_item_is_named_at_once():
    add = add_item(
        plan="gold",
        id="sub_1",
        characteristics={"market": "de", "billingAnchor": "15.11.2026", "locale": "no such", "billedBy": "x", "y": 1},
    )
    add["product"]["relatedParty"] = [{"id": "a\tb", "role": "customer"}]
    found = errors_of(order(add))
    place = "productOrderItem[0].product.productCharacteristic"
    assert set(found) == {
        "productOrderItem[0].productOffering.id",
        "productOrderItem[0].product.id",
        "productOrderItem[0].product.relatedParty.id",
        f"{place}.market",
        f"{place}.billingAnchor",
        f"{place}.locale",
        f"{place}.billedBy",
        f"{place}.y",
    }
    assert "standard_with_ads, standard, premium" in found["productOrderItem[0].productOffering.id"]
    assert "control character" in found["productOrderItem[0].product.relatedParty.id"]


@pytest.mark.parametrize("value", [{"code": "DE"}, ["DE"], 49, None, True])
def test_a_characteristic_of_any_json_type_is_read_without_failing(value):
    characteristics = {"market": value, "billingAnchor": value, "locale": value, "billedBy": value}
    found = errors_of(order(add_item(characteristics=characteristics)))
    place = "productOrderItem[0].product.productCharacteristic"
    assert {f"{place}.market", f"{place}.billingAnchor"} <= set(found)


def test_an_add_item_needs_its_plan_customer_market_and_billing_anchor():
    found = errors_of(order({"id": "1", "action": "add"}))
    assert set(found) == {
        "productOrderItem[0].productOffering.id",
        "productOrderItem[0].product.relatedParty",
        "productOrderItem[0].product.productCharacteristic.market",
        "productOrderItem[0].product.productCharacteristic.billingAnchor",
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "(body)"),
        ({}, "productOrderItem"),
        (order(), "productOrderItem"),
        ({"productOrderItem": {"id": "1"}}, "productOrderItem"),
        (order("add"), "productOrderItem[0]"),
        (order({"action": "add"}), "productOrderItem[0].id"),
        (order({"id": 7, "action": "delete", "product": {"id": "sub_1"}}), "productOrderItem[0].id"),
        (order({"id": "1", "action": "remove"}), "productOrderItem[0].action"),
        (order({"id": "1", "action": None}), "productOrderItem[0].action"),
        (order(item("delete", quantity=2)), "productOrderItem[0].quantity"),
        (order(item("delete", quantity=True)), "productOrderItem[0].quantity"),
        (order(item("delete", productOrderItem=[item("delete")])), "productOrderItem[0].productOrderItem"),
        (
            order(item("delete", productOrderItemRelationship=[{"id": "2", "relationshipType": "dependsOn"}])),
            "productOrderItem[0].productOrderItemRelationship",
        ),
        (order({"id": "1", "action": "delete", "product": "sub_1"}), "productOrderItem[0].product"),
        (order({"id": "1", "action": "delete"}), "productOrderItem[0].product.id"),
        (order({"id": "1", "action": "modify", "product": {"id": ""}}), "productOrderItem[0].product.id"),
        (order(item("delete"), externalId=""), "externalId"),
        (order(item("delete"), externalId="x" * 101), "externalId"),
        (order(item("delete"), externalId=42), "externalId"),
        (order(item("delete"), description=["x"]), "description"),
        (order(item("delete"), requestedCompletionDate="tomorrow"), "requestedCompletionDate"),
        (order(item("delete"), requestedCompletionDate="2026-11-18T10:00:00"), "requestedCompletionDate"),
        (order(item("delete"), requestedStartDate="2026-11-19T10:00:00Z"), "requestedStartDate"),
        (order(item("delete"), relatedParty={"id": "c"}), "relatedParty"),
        (
            order(item("delete"), relatedParty=[{"id": "a", "role": "customer"}, {"id": "b", "role": "customer"}]),
            "relatedParty",
        ),
        (order(item("delete"), relatedParty=[{"id": 5, "role": "customer"}]), "relatedParty.id"),
    ],
)
def test_a_malformed_order_is_refused_naming_the_field(body, field):
    assert field in errors_of(body)


def test_item_ids_are_unique_within_the_order():
    found = errors_of(order(item("delete"), item("modify", product={"status": "suspended"})))
    assert found == {"productOrderItem[1].id": "Another item of the order has the id '1': each needs its own."}


def test_an_order_has_at_most_max_items():
    items = [item("noChange", str(index)) for index in range(MAX_ITEMS + 1)]
    assert "productOrderItem" in errors_of(order(*items))
    assert len(read_order(order(*items[:MAX_ITEMS]), now=NOW).items) == MAX_ITEMS


def test_a_start_within_the_clock_skew_is_now():
    body = order(item("delete"), requestedStartDate=(NOW + timedelta(minutes=4)).isoformat())
    assert read_order(body, now=NOW).echoed["requestedStartDate"] == "2026-11-18T10:04:00+00:00"


def test_the_products_an_order_is_about_come_once_in_id_order():
    body = order(item("delete", "1", "sub_b"), item("noChange", "2", "sub_a"), item("delete", "3", "sub_b"))
    assert read_order(body, now=NOW).product_ids() == ["sub_a", "sub_b"]


def test_fields_the_gateway_does_not_act_on_are_neither_refused_nor_repeated():
    body = order(
        {**item("noChange"), "productOffering": {"id": "gold"}, "itemPrice": [{"priceType": "recurring"}]},
        billingAccount={"id": "BA-1"},
        channel=[{"id": "web"}],
        notificationContact="orders@nordlink.example",
    )
    request = read_order(body, now=NOW)
    assert request.echoed == {}
    assert request.items[0].plan is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # A misspelt externalId would make a retry place the order again; a misspelt requestedCompletionDate
        # would cancel at the period end instead of at once.
        (order(add_item(), externalID="ext-1"), "externalID"),
        (order(item("delete"), requestedCompletionDat="2026-11-18T10:00:00Z"), "requestedCompletionDat"),
        (order(add_item(), state="completed"), "state"),
        (order({**add_item(), "actoin": "add"}), "productOrderItem[0].actoin"),
        (order(item("delete", product={"foo": 1})), "productOrderItem[0].product.foo"),
        (
            order({**add_item(), "productOffering": {"id": "standard", "ID": "gold"}}),
            "productOrderItem[0].productOffering.ID",
        ),
        (
            order(item("modify", product={"productOffering": {"idd": "gold"}})),
            "productOrderItem[0].product.productOffering.idd",
        ),
        (
            order(add_item(), relatedParty=[{"id": "cust-1", "role": "customer", "rol": "x"}]),
            "relatedParty[0].rol",
        ),
        (
            order(add_item(relatedParty=[{"id": "cust-1", "role": "customer", "ide": "x"}])),
            "productOrderItem[0].product.relatedParty[0].ide",
        ),
        (
            order(
                item("delete", product={"productCharacteristic": [{"name": "cancellationReason", "valeu": "fraud"}]})
            ),
            "productOrderItem[0].product.productCharacteristic[0].valeu",
        ),
    ],
)
def test_a_key_the_spec_does_not_define_is_refused_naming_where_it_is(body, field):
    errors = errors_of(body)
    assert errors[field].startswith("Not a field of ")


def test_the_specs_own_fields_are_accepted_everywhere_an_order_has_them():
    body = order(
        {
            **add_item(
                name="Gold",
                productCharacteristic=[
                    {"name": "market", "value": "DE", "valueType": "string", "@type": "StringCharacteristic"},
                    {"name": "billingAnchor", "value": "2026-11-15"},
                ],
                relatedParty=[{"id": "cust-1", "role": "customer", "name": "A", "href": "x", "@type": "RelatedParty"}],
            ),
            "productOffering": {"id": "standard", "name": "Standard", "href": "x", "@referredType": "ProductOffering"},
            "quantity": 1,
            "state": "acknowledged",
            "@type": "ProductOrderItem",
        },
        externalId="ext-1",
        cancellationReason="none",
        note=[{"text": "hi"}],
        **{"@type": "ProductOrder", "@schemaLocation": "https://x.example/s.json"},
    )
    request = read_order(body, now=NOW)
    assert request.external_id == "ext-1"
    assert request.items[0].new_product.market == "DE"


# -- delete: at once or at the period end ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("completion", "reason", "expected"),
    [
        (None, None, Step(Command.SCHEDULE_CANCELLATION, "member_request")),
        (NOW + timedelta(days=3), None, Step(Command.SCHEDULE_CANCELLATION, "member_request")),
        (NOW + timedelta(seconds=1), "member_request", Step(Command.SCHEDULE_CANCELLATION, "member_request")),
        (NOW, None, Step(Command.CANCEL_NOW, "partner_churn")),
        (NOW - timedelta(days=1), "fraud", Step(Command.CANCEL_NOW, "fraud")),
        (NOW - timedelta(days=1), "account_closed", Step(Command.CANCEL_NOW, "account_closed")),
    ],
)
def test_a_delete_cancels_now_only_when_completion_is_asked_by_the_order_date(completion, reason, expected):
    fields = {}
    if reason is not None:
        fields["product"] = {"productCharacteristic": [{"name": "cancellationReason", "value": reason}]}
    body = order(item("delete", **fields))
    if completion is not None:
        body["requestedCompletionDate"] = completion.isoformat().replace("+00:00", "Z")
    [deleted] = read_order(body, now=NOW).items
    assert deleted.cancellation == expected


def test_a_members_own_request_is_never_cancelled_at_once():
    reason = {"productCharacteristic": [{"name": "cancellationReason", "value": "member_request"}]}
    found = errors_of(order(item("delete", product=reason), requestedCompletionDate=NOW.isoformat()))
    [message] = found.values()
    assert "requestedCompletionDate" in message and "period end" in message


def test_the_partners_own_reasons_are_not_put_off_to_the_period_end():
    reason = {"productCharacteristic": [{"name": "cancellationReason", "value": "partner_churn"}]}
    [message] = errors_of(order(item("delete", product=reason))).values()
    assert "member_request" in message and "requestedCompletionDate" in message


@pytest.mark.parametrize(
    "characteristics",
    [[{"name": "cancellationReason", "value": "bored"}], [{"name": "market", "value": "DE"}]],
)
def test_a_delete_takes_a_known_cancellation_reason_only(characteristics):
    found = errors_of(order(item("delete", product={"productCharacteristic": characteristics})))
    assert list(found) == [f"productOrderItem[0].product.productCharacteristic.{characteristics[0]['name']}"]


# -- modify -------------------------------------------------------------------------------------------------------


def modify(status=None, plan=None):
    fields = {}
    if status is not None:
        fields["product"] = {"status": status}
    if plan is not None:
        fields["productOffering"] = {"id": plan}
    [read] = read_order(order(item("modify", **fields)), now=NOW).items
    return read


@pytest.mark.parametrize(
    ("status", "plan", "current", "current_plan", "steps"),
    [
        ("suspended", None, Status.ACTIVE, "standard", [Step(Command.SUSPEND, "non_payment")]),
        ("active", None, Status.SUSPENDED, "standard", [Step(Command.RESUME, "payment_recovered")]),
        (
            "active",
            None,
            Status.CANCELLATION_SCHEDULED,
            "standard",
            [Step(Command.REVERT_CANCELLATION, "member_request")],
        ),
        # Asked as it is: the state machine refuses it in its own words.
        ("suspended", None, Status.SUSPENDED, "standard", [Step(Command.SUSPEND, "non_payment")]),
        ("active", None, Status.ACTIVE, "standard", [Step(Command.RESUME, "payment_recovered")]),
        (None, "premium", Status.ACTIVE, "standard", [Step(Command.CHANGE_PLAN, plan="premium")]),
        (None, "standard", Status.ACTIVE, "standard", [Step(Command.CHANGE_PLAN, plan="standard")]),
        # Both: a plan changes while active, so after a resume and before a suspension.
        (
            "suspended",
            "premium",
            Status.ACTIVE,
            "standard",
            [Step(Command.CHANGE_PLAN, plan="premium"), Step(Command.SUSPEND, "non_payment")],
        ),
        (
            "active",
            "premium",
            Status.SUSPENDED,
            "standard",
            [Step(Command.RESUME, "payment_recovered"), Step(Command.CHANGE_PLAN, plan="premium")],
        ),
        # A whole product restated: only what differs is applied.
        ("active", "premium", Status.ACTIVE, "standard", [Step(Command.CHANGE_PLAN, plan="premium")]),
        ("suspended", "standard", Status.ACTIVE, "standard", [Step(Command.SUSPEND, "non_payment")]),
        ("active", "standard", Status.ACTIVE, "standard", [Step(Command.CHANGE_PLAN, plan="standard")]),
        # pendingActive is not "active": both stay, and the state machine says why not.
        (
            "active",
            "premium",
            Status.PENDING_ACTIVATION,
            "standard",
            [Step(Command.RESUME, "payment_recovered"), Step(Command.CHANGE_PLAN, plan="premium")],
        ),
    ],
)
def test_a_modify_item_asks_for_commands(status, plan, current, current_plan, steps):
    assert modify_steps(modify(status, plan), status=current, plan=current_plan) == steps


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "productOrderItem[0]"),
        ({"product": {"status": "terminated"}}, "productOrderItem[0].product.status"),
        ({"product": {"status": "pendingTerminate"}}, "productOrderItem[0].product.status"),
        ({"productOffering": {"id": "gold"}}, "productOrderItem[0].productOffering.id"),
        ({"productOffering": "premium"}, "productOrderItem[0].productOffering.id"),
        (
            {"product": {"status": "active", "productCharacteristic": [{"name": "locale", "value": "fr"}]}},
            "productOrderItem[0].product.productCharacteristic",
        ),
    ],
)
def test_a_modify_item_changes_the_plan_or_the_status_only(fields, field):
    assert field in errors_of(order(item("modify", **fields)))


def test_the_refusal_of_an_items_command_is_v1s_naming_what_an_order_could_do():
    refused = InvalidTransition(Status.SUSPENDED, Command.SUSPEND, [Command.RESUME, Command.CANCEL_NOW])
    assert refusal_reason(refused) == refusal_text("suspend", "suspended", ["delete", "modify status to active"])
    assert refusal_reason(refused) == (
        "Cannot suspend a subscription that is suspended; allowed: delete, modify status to active."
    )
    pending = InvalidTransition(Status.PENDING_ACTIVATION, Command.CHANGE_PLAN, [Command.CANCEL_NOW])
    assert refusal_reason(pending) == (
        "Cannot change the plan of a subscription that is pending_activation; allowed: delete."
    )


# -- the order's state, representation and event -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([ITEM_DONE], OrderState.COMPLETED),
        ([ITEM_DONE, ITEM_DONE], OrderState.COMPLETED),
        ([ITEM_REFUSED], OrderState.FAILED),
        ([ITEM_REFUSED, ITEM_REFUSED], OrderState.FAILED),
        ([ITEM_REFUSED, ITEM_DONE], OrderState.PARTIAL),
    ],
)
def test_the_orders_state_follows_its_items(states, expected):
    assert order_state(states) is expected


def test_an_order_without_items_has_no_state():
    with pytest.raises(ValueError):
        order_state([])


def product(**changes):
    values = dict.fromkeys(COLUMNS)
    values.update(
        id="sub_1",
        partner_code="nordlink",
        partner_ref="cust-1",
        plan="standard",
        status="pending_activation",
        market="DE",
        locale="de-AT",
        billing_anchor=date(2026, 11, 15),
        billed_by="partner",
        created_at=NOW,
    )
    values.update(changes)
    return product_of(values, inventory_url="")


def placed_order():
    body = order(
        add_item("a"),
        add_item("b"),
        item("modify", "c", "sub_2", product={"status": "suspended"}),
        item("noChange", "d", "sub_2"),
        externalId="ORD-7",
        requestedCompletionDate="2026-12-01T00:00:00Z",
    )
    request = read_order(body, now=NOW)
    made, refused, kept = product(), "Subscription sub_9 already has partner_ref 'cust-1'.", product(id="sub_2")
    outcomes = [
        ItemOutcome(request.items[0], ITEM_DONE, made),
        ItemOutcome(request.items[1], ITEM_REFUSED, None, refused),
        ItemOutcome(request.items[2], ITEM_REFUSED, kept, "Cannot suspend a subscription that is suspended."),
        ItemOutcome(request.items[3], ITEM_DONE, kept),
    ]
    return order_body(
        order_id="po_1",
        request=request,
        outcomes=outcomes,
        state=OrderState.PARTIAL,
        order_date=NOW,
        completion_date=NOW,
    )


def test_a_stored_order_names_no_host_and_reads_with_hrefs_and_live_activations():
    stored = placed_order()
    assert "href" not in stored and all("href" not in entry["product"] for entry in stored["productOrderItem"])
    expires = NOW + timedelta(days=30)
    shown = with_hrefs(
        stored,
        ordering_url=ORDERING,
        inventory_url=INVENTORY + "/",
        activations={"sub_1": ("ABCD-EFGH-JKLM", expires), "sub_2": ("NOPE-NOPE-NOPE", expires)},
        activation_url="https://streaming.example/activate",
    )
    assert_conforms(shown, "ProductOrder", spec_name="TMF622")
    assert list(shown)[:2] == ["id", "href"] and shown["href"] == f"{ORDERING}/productOrder/po_1"
    made, failed, modified, unchanged = shown["productOrderItem"]
    assert made["product"]["href"] == f"{INVENTORY}/product/sub_1"
    activation = {c["name"]: c["value"] for c in made["product"]["productCharacteristic"]}
    assert activation["activationCode"] == "ABCD-EFGH-JKLM"
    assert activation["activationUrl"] == "https://streaming.example/activate?code=ABCD-EFGH-JKLM"
    assert activation["activationExpiresAt"] == expires.isoformat()
    # Only the product an add item made shows its code; a failed add made none and names what it asked for.
    assert "activationCode" not in str(modified) and "activationCode" not in str(unchanged)
    assert "href" not in failed["product"] and failed["product"]["relatedParty"][0]["id"] == "cust-1"
    assert shown["note"] == [
        {"id": "b", "author": "partner gateway", "date": NOW.isoformat(), "text": stored["note"][0]["text"]},
        {"id": "c", "author": "partner gateway", "date": NOW.isoformat(), "text": stored["note"][1]["text"]},
    ]
    assert [entry["state"] for entry in shown["productOrderItem"]] == ["completed", "failed", "failed", "completed"]
    assert shown["externalId"] == "ORD-7" and shown["requestedCompletionDate"] == "2026-12-01T00:00:00+00:00"
    plain = with_hrefs(stored, ordering_url=ORDERING, inventory_url=INVENTORY)  # no code to show: none added
    stored_characteristics = stored["productOrderItem"][0]["product"]["productCharacteristic"]
    assert plain["productOrderItem"][0]["product"]["productCharacteristic"] == stored_characteristics


def test_the_event_says_how_each_item_went_in_the_catalogs_words():
    data = event_data(placed_order())
    assert data == {
        "order_id": "po_1",
        "external_id": "ORD-7",
        "state": "partial",
        "order_date": NOW.isoformat(),
        "completion_date": NOW.isoformat(),
        "items": [
            {"id": "a", "action": "add", "state": "completed", "product_id": "sub_1", "refusal": None},
            {
                "id": "b",
                "action": "add",
                "state": "failed",
                "product_id": None,
                "refusal": "Subscription sub_9 already has partner_ref 'cust-1'.",
            },
            {
                "id": "c",
                "action": "modify",
                "state": "failed",
                "product_id": "sub_2",
                "refusal": "Cannot suspend a subscription that is suspended.",
            },
            {"id": "d", "action": "noChange", "state": "completed", "product_id": "sub_2", "refusal": None},
        ],
    }
    schema = CATALOG["product_order.state_changed"].data
    assert schema().validate(data) == {}


def test_the_fingerprint_reads_the_body_as_parsed():
    assert request_fingerprint({"a": 1, "b": [1, 2]}) == request_fingerprint({"b": [1, 2], "a": 1})
    assert request_fingerprint({"a": 1}) != request_fingerprint({"a": 2})


# -- cancellation -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "says"),
    [("completed", "is completed"), ("partial", "is partial"), ("failed", "nothing to cancel")],
)
def test_an_order_in_its_final_state_cannot_be_cancelled(state, says):
    text = cancellation_refusal("po_1", state)
    assert text.startswith("Product order po_1 ") and says in text and "place a new one" in text


def test_a_cancellation_names_the_order():
    assert read_cancellation({"productOrder": {"id": "po_1"}, "cancellationReason": "mistake"}) == "po_1"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (None, "(body)"),
        ({}, "productOrder"),
        ({"productOrder": "po_1"}, "productOrder"),
        ({"productOrder": {}}, "productOrder.id"),
        ({"productOrder": {"id": "po_1"}, "cancellationReason": 3}, "cancellationReason"),
        ({"productOrder": {"id": "po_1"}, "requestedCancellationDate": "soon"}, "requestedCancellationDate"),
    ],
)
def test_a_malformed_cancellation_is_refused_naming_the_field(body, field):
    with pytest.raises(InvalidInput) as refused:
        read_cancellation(body)
    assert field in refused.value.errors


def test_the_attributes_and_states_a_query_may_name_are_the_specs():
    definitions = spec("TMF622")["definitions"]
    assert set(definitions["ProductOrder"]["properties"]) == ORDER_ATTRIBUTES
    assert set(definitions["ProductOrderStateType"]["enum"]) == ORDER_STATE_TYPES
    assert {str(state) for state in OrderState} <= ORDER_STATE_TYPES


@pytest.mark.parametrize(
    ("definition", "properties"),
    [
        ("ProductOrder_Create", CREATE_PROPERTIES),
        ("ProductOrderItem", ITEM_PROPERTIES),
        ("ProductRefOrValue", PRODUCT_PROPERTIES),
        ("ProductOfferingRef", OFFERING_REF_PROPERTIES),
        ("RelatedParty", PARTY_PROPERTIES),
        ("Characteristic", CHARACTERISTIC_PROPERTIES),
    ],
)
def test_the_keys_an_order_may_have_are_the_specs(definition, properties):
    assert set(spec("TMF622")["definitions"][definition]["properties"]) == properties
