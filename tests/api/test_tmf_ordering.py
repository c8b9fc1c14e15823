"""TMF622 Product Ordering over HTTP: orders whose items drive the /v1 lifecycle commands, their states and
refusals, idempotency by externalId and Idempotency-Key (concurrent requests too), reading orders back,
cancellation requests, and TMF-shaped errors. Every body is validated against the official TMF622 definitions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.domain.clock import utcnow
from gateway.domain.keys import KeyKind, Scope
from gateway.domain.lifecycle import Actor, Command
from gateway.services import subscriptions as subscription_service
from gateway.store.models import OutboxEvent, Partner, ProductOrder, Subscription, SubscriptionChange
from tests.support.api import app_store, bearer
from tests.support.parallel import all_at_once
from tests.support.seeding import Seeder, add_subscription
from tests.support.tmf_conformance import assert_all_conform, assert_conforms

BASE = "/tmf-api/productOrdering/v4"
ORDERS = f"{BASE}/productOrder"
CANCELLATIONS = f"{BASE}/cancelProductOrder"
INVENTORY = "http://localhost/tmf-api/productInventory/v4"


class Tmf:
    """A partner's client of the ordering API: every answer's body checked against the official spec."""

    def __init__(self, client, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    def post(self, body: Any, path: str = ORDERS, headers: dict[str, str] | None = None, **options):
        response = self.client.post(path, json=body, headers={**self.headers, **(headers or {})}, **options)
        return checked(response, "CancelProductOrder" if path == CANCELLATIONS else "ProductOrder")

    def order(self, *items, **fields) -> dict[str, Any]:
        """Place an order and expect it created."""
        response = self.post({"productOrderItem": list(items), **fields})
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.json

    def get(self, path: str, **query):
        response = self.client.get(path, query_string=query, headers=self.headers)
        definition = "ProductOrder"
        if response.status_code < 300 and isinstance(response.json, list):
            assert_all_conform(response.json, definition, spec_name="TMF622")
            return response
        return checked(response, definition)


def checked(response, definition: str):
    """The response, its body conforming to `definition` on success and to Error otherwise."""
    body = response.get_json(silent=True)
    if response.status_code >= 400:
        assert response.mimetype == "application/json", response.get_data(as_text=True)
        assert_conforms(body, "Error", spec_name="TMF622")
        assert body["status"] == str(response.status_code)
    elif body is not None:
        assert_conforms(body, definition, spec_name="TMF622")
    return response


def add(item_id="1", customer="cust-1", plan="standard", **characteristics):
    values = {"market": "DE", "billingAnchor": "2026-11-15", **characteristics}
    return {
        "id": item_id,
        "action": "add",
        "productOffering": {"id": plan},
        "product": {
            "relatedParty": [{"id": customer, "role": "customer", "@referredType": "Customer"}],
            "productCharacteristic": [{"name": name, "value": value} for name, value in values.items()],
        },
    }


def modify(product_id, item_id="1", status=None, plan=None):
    item = {"id": item_id, "action": "modify", "product": {"id": product_id}}
    if status is not None:
        item["product"]["status"] = status
    if plan is not None:
        item["productOffering"] = {"id": plan}
    return item


def delete(product_id, item_id="1", reason=None):
    item = {"id": item_id, "action": "delete", "product": {"id": product_id}}
    if reason is not None:
        item["product"]["productCharacteristic"] = [{"name": "cancellationReason", "value": reason}]
    return item


def characteristics(product) -> dict[str, Any]:
    return {entry["name"]: entry["value"] for entry in product.get("productCharacteristic", [])}


@pytest.fixture
def partner(seed):
    seed.partner("nordlink", markets=["DE", "AT"], locale="de-DE")
    return bearer(seed.token(KeyKind.PARTNER, "nordlink"))


@pytest.fixture
def tmf(client, partner) -> Tmf:
    return Tmf(client, partner)


@pytest.fixture
def service(seed):
    return bearer(seed.token(KeyKind.SERVICE))


def active_subscription(app, partner_ref="cust-9", **options):
    with app_store(app).transaction() as session:
        return add_subscription(session, "nordlink", partner_ref, **options).id


def v1(client, partner, subscription_id) -> dict[str, Any]:
    response = client.get(f"/v1/subscriptions/{subscription_id}", headers=partner)
    assert response.status_code == 200
    return response.json


def outbox(app, event_type=None) -> list[dict[str, Any]]:
    query = select(OutboxEvent.payload).order_by(OutboxEvent.id)
    if event_type is not None:
        query = query.where(OutboxEvent.event_type == event_type)
    with app_store(app).read() as session:
        return list(session.scalars(query))


def count(app, model) -> int:
    with app_store(app).read() as session:
        return session.scalar(select(func.count()).select_from(model))


# -- add ----------------------------------------------------------------------------------------------------------


def test_an_add_item_creates_the_subscription_v1_would(app, client, tmf, partner, service):
    response = tmf.post({"productOrderItem": [add(locale="de-at")], "externalId": "ORD-1", "description": "Bundle"})
    assert response.status_code == 201
    order = response.json
    assert order["id"].startswith("po_") and order["href"] == f"http://localhost{ORDERS}/{order['id']}"
    assert response.headers["Location"] == order["href"]
    assert (order["state"], order["externalId"], order["description"]) == ("completed", "ORD-1", "Bundle")
    assert order["orderDate"] == order["completionDate"]
    [item] = order["productOrderItem"]
    assert (item["id"], item["action"], item["state"]) == ("1", "add", "completed")
    product = item["product"]
    assert product["href"] == f"{INVENTORY}/product/{product['id']}"
    assert (product["status"], product["productOffering"]["id"]) == ("pendingActive", "standard")
    assert {"id": "cust-1", "role": "customer", "@referredType": "Customer"} in product["relatedParty"]
    shown = characteristics(product)
    assert (shown["market"], shown["locale"], shown["billingAnchor"], shown["billedBy"]) == (
        "DE",
        "de-AT",
        "2026-11-15",
        "partner",
    )

    subscription = v1(client, partner, product["id"])
    assert (subscription["partner_ref"], subscription["plan"], subscription["status"]) == (
        "cust-1",
        "standard",
        "pending_activation",
    )
    assert (subscription["market"], subscription["locale"], subscription["billing_anchor"]) == (
        "DE",
        "de-AT",
        "2026-11-15",
    )
    # The code to give the member, as /v1 shows it, while it can be used.
    assert shown["activationCode"] == subscription["activation"]["code"]
    assert shown["activationUrl"] == subscription["activation"]["url"]
    assert tmf.get(order["href"].removeprefix("http://localhost")).json == order

    activated = client.post(
        "/v1/service/activations", json={"code": shown["activationCode"], "member_id": "m-1"}, headers=service
    )
    assert activated.status_code == 200
    after = tmf.get(f"{ORDERS}/{order['id']}").json
    assert "activationCode" not in characteristics(after["productOrderItem"][0]["product"])
    # The product as the order left it: the order is a record of what it did, the inventory says what is now.
    assert after["productOrderItem"][0]["product"]["status"] == "pendingActive"


def test_the_customer_may_be_the_orders_and_the_service_may_bill(app, client, tmf, partner):
    item = add(customer="ignored", market="AT", billedBy="service")
    item["product"].pop("relatedParty")
    order = tmf.order(item, relatedParty=[{"id": " cust-7 ", "role": "Customer", "@referredType": "Customer"}])
    subscription = v1(client, partner, order["productOrderItem"][0]["product"]["id"])
    assert (subscription["partner_ref"], subscription["market"], subscription["billed_by"]) == (
        "cust-7",
        "AT",
        "service",
    )
    assert subscription["locale"] == "de-DE"  # the partner's default
    assert order["relatedParty"] == [{"id": "cust-7", "role": "customer", "@referredType": "Customer"}]


def test_an_add_for_a_partner_ref_in_use_fails_with_v1s_reason(app, client, tmf, partner):
    first = client.post(
        "/v1/subscriptions",
        json={"partner_ref": "cust-1", "plan": "standard", "market": "DE", "billing_anchor": "2026-01-15"},
        headers=partner,
    )
    again = client.post(
        "/v1/subscriptions",
        json={"partner_ref": "cust-1", "plan": "standard", "market": "DE", "billing_anchor": "2026-01-15"},
        headers=partner,
    )
    assert again.status_code == 409
    order = tmf.order(add(customer="cust-1"))
    assert order["state"] == "failed"
    [item] = order["productOrderItem"]
    assert item["state"] == "failed"
    assert "id" not in item["product"] and item["product"]["relatedParty"][0]["id"] == "cust-1"
    assert order["note"] == [
        {"id": "1", "author": "partner gateway", "date": order["orderDate"], "text": again.json["detail"]}
    ]
    assert first.json["id"] in order["note"][0]["text"]
    assert count(app, Subscription) == 1


# -- modify and delete --------------------------------------------------------------------------------------------


def test_modify_suspends_and_resumes_through_the_lifecycle(app, client, tmf, partner):
    subscription_id = active_subscription(app)
    suspended = tmf.order(modify(subscription_id, status="suspended"))
    assert suspended["state"] == "completed"
    assert suspended["productOrderItem"][0]["product"]["status"] == "suspended"
    assert v1(client, partner, subscription_id)["status"] == "suspended"
    resumed = tmf.order(modify(subscription_id, status="active"))
    assert resumed["productOrderItem"][0]["product"]["status"] == "active"
    changes = [event["type"] for event in outbox(app) if event.get("subscription", {}).get("id") == subscription_id]
    assert changes[-2:] == ["subscription.suspended", "subscription.resumed"]
    [_, resumed_event] = [
        event for event in outbox(app) if event["type"] in ("subscription.suspended", "subscription.resumed")
    ]
    assert (resumed_event["data"]["actor"], resumed_event["data"]["reason"]) == ("partner", "payment_recovered")


def test_modify_changes_the_plan_an_upgrade_at_once_a_downgrade_at_the_period_end(app, client, tmf, partner):
    subscription_id = active_subscription(app)
    upgraded = tmf.order(modify(subscription_id, plan="premium"))
    item = upgraded["productOrderItem"][0]
    assert item["productOffering"]["id"] == "premium" and item["product"]["productOffering"]["id"] == "premium"
    downgraded = tmf.order(modify(subscription_id, plan="standard_with_ads"))
    product = downgraded["productOrderItem"][0]["product"]
    assert product["productOffering"]["id"] == "premium"  # until the period ends
    assert characteristics(product)["scheduledPlan"] == "standard_with_ads"
    subscription = v1(client, partner, subscription_id)
    assert subscription["plan"] == "premium"
    assert subscription["scheduled_plan_change"]["plan"] == "standard_with_ads"


def test_a_whole_product_restated_applies_only_what_changes(app, client, tmf, partner):
    subscription_id = active_subscription(app)
    order = tmf.order(modify(subscription_id, status="active", plan="premium"))
    assert order["state"] == "completed"
    subscription = v1(client, partner, subscription_id)
    assert (subscription["status"], subscription["plan"]) == ("active", "premium")
    with app_store(app).read() as session:
        commands = session.scalars(
            select(SubscriptionChange.command).where(SubscriptionChange.subscription_id == subscription_id)
        ).all()
    assert commands == ["create", "activate", "change_plan"]


def test_delete_cancels_at_the_period_end_and_active_again_keeps_it(app, client, tmf, partner):
    subscription_id = active_subscription(app)
    order = tmf.order(delete(subscription_id), requestedCompletionDate=(utcnow() + timedelta(days=40)).isoformat())
    product = order["productOrderItem"][0]["product"]
    assert product["status"] == "pendingTerminate"
    subscription = v1(client, partner, subscription_id)
    assert subscription["status"] == "cancellation_scheduled"
    assert product["terminationDate"] == characteristics(product)["accessUntil"]
    [scheduled] = outbox(app, "subscription.cancellation_scheduled")
    assert (scheduled["data"]["reason"], scheduled["data"]["actor"]) == ("member_request", "partner")

    kept = tmf.order(modify(subscription_id, status="active"))
    assert kept["productOrderItem"][0]["product"]["status"] == "active"
    assert v1(client, partner, subscription_id)["status"] == "active"
    assert len(outbox(app, "subscription.cancellation_reverted")) == 1


@pytest.mark.parametrize(
    ("reason", "expected"), [(None, "partner_churn"), ("fraud", "fraud"), ("account_closed", "account_closed")]
)
def test_delete_by_the_order_date_cancels_now(app, client, tmf, partner, reason, expected):
    subscription_id = active_subscription(app)
    order = tmf.order(delete(subscription_id, reason=reason), requestedCompletionDate=utcnow().isoformat())
    assert order["productOrderItem"][0]["product"]["status"] == "terminated"
    subscription = v1(client, partner, subscription_id)
    assert (subscription["status"], subscription["status_reason"]) == ("cancelled", expected)


def test_a_pending_product_deleted_now_reads_cancelled(app, tmf):
    subscription_id = active_subscription(app, active=False)
    order = tmf.order(delete(subscription_id), requestedCompletionDate="2020-01-01T00:00:00Z")
    assert order["productOrderItem"][0]["product"]["status"] == "cancelled"


def test_no_change_names_a_product_and_changes_nothing(app, tmf):
    subscription_id = active_subscription(app)
    order = tmf.order({"id": "1", "action": "noChange", "product": {"id": subscription_id, "status": "whatever"}})
    assert order["state"] == "completed" and order["productOrderItem"][0]["product"]["status"] == "active"
    assert outbox(app, "product_order.state_changed")[0]["data"]["items"][0]["product_id"] == subscription_id


# -- refusals: an item fails alone, in /v1's words ----------------------------------------------------------------


def test_a_refused_item_fails_with_the_reason_v1_gives(app, client, tmf, partner):
    subscription_id = active_subscription(app, active=False)
    v1_refusal = client.post(f"/v1/subscriptions/{subscription_id}/suspend", json={}, headers=partner)
    assert v1_refusal.status_code == 409
    order = tmf.order(modify(subscription_id, status="suspended"))
    assert order["state"] == "failed"
    [item] = order["productOrderItem"]
    assert item["state"] == "failed" and item["product"]["status"] == "pendingActive"
    [note] = order["note"]
    assert note["id"] == "1"
    # The same reason; what to do instead in the order's terms rather than /v1's paths.
    assert v1_refusal.json["detail"] == "Cannot suspend a subscription that is pending_activation; allowed: cancel."
    assert note["text"] == "Cannot suspend a subscription that is pending_activation; allowed: delete."


def test_the_service_billed_subscriptions_own_cancellation_is_refused_as_v1_refuses_it(app, client, tmf, partner):
    subscription_id = active_subscription(app, billed_by="service")
    v1_refusal = client.post(f"/v1/subscriptions/{subscription_id}/cancel", json={}, headers=partner)
    order = tmf.order(delete(subscription_id))
    assert order["state"] == "failed"
    assert order["note"][0]["text"] == v1_refusal.json["detail"]


def test_a_partial_order_applies_the_items_that_pass_and_nothing_of_the_others(backend_app):
    store = app_store(backend_app)
    seed = Seeder(store)
    seed.partner("nordlink", markets=["DE"])
    tmf = Tmf(backend_app.test_client(), bearer(seed.token(KeyKind.PARTNER, "nordlink")))
    with store.transaction() as session:
        kept = add_subscription(session, "nordlink", "kept")
        pending = add_subscription(session, "nordlink", "pending", active=False)
        kept_id, pending_id, pending_version = kept.id, pending.id, pending.version
    order = tmf.order(
        modify(kept_id, "a", status="suspended"),
        modify(pending_id, "b", plan="premium"),
        add("c", customer="new-1"),
        add("d", customer="new-1"),  # the reference the item before took
        externalId="ORD-PARTIAL",
    )
    assert order["state"] == "partial"
    assert [item["state"] for item in order["productOrderItem"]] == ["completed", "failed", "completed", "failed"]
    assert [note["id"] for note in order["note"]] == ["b", "d"]
    assert order["note"][0]["text"].startswith("Cannot change the plan of a subscription that is pending_activation")
    with store.read() as session:
        refused = session.get(Subscription, pending_id)
        assert (refused.plan, refused.version, refused.pending_plan) == ("standard", pending_version, None)
        assert session.scalar(select(func.count()).where(Subscription.partner_ref == "new-1")) == 1
        assert session.get(Subscription, kept_id).status == "suspended"
        types = [event["type"] for event in outbox(backend_app)]
    assert "subscription.plan_changed" not in types and types.count("subscription.suspended") == 1
    [event] = outbox(backend_app, "product_order.state_changed")
    assert event["partner"] == "nordlink" and "subscription" not in event
    assert event["data"]["order_id"] == order["id"] and event["data"]["state"] == "partial"
    assert [(item["id"], item["state"]) for item in event["data"]["items"]] == [
        ("a", "completed"),
        ("b", "failed"),
        ("c", "completed"),
        ("d", "failed"),
    ]
    assert event["data"]["items"][1]["refusal"] == order["note"][0]["text"]
    assert event["data"]["items"][3]["product_id"] is None


# -- the whole order refused: 400, 404, 409, nothing applied ------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({}, "productOrderItem"),
        ({"productOrderItem": []}, "productOrderItem"),
        ({"productOrderItem": [{"id": "1", "action": "upgrade"}]}, "productOrderItem[0].action"),
        ({"productOrderItem": [{"action": "add"}]}, "productOrderItem[0].id"),
        ({"productOrderItem": [add(plan="gold")]}, "productOrderItem[0].productOffering.id"),
        ({"productOrderItem": [add(market="XX")]}, "productOrderItem[0].product.productCharacteristic.market"),
        ({"productOrderItem": [add(market="FR")]}, "productOrderItem[0].product.productCharacteristic.market"),
        ({"productOrderItem": [add(billingAnchor="soon")]}, "billingAnchor"),
        ({"productOrderItem": [{"id": "1", "action": "delete"}]}, "productOrderItem[0].product.id"),
        ({"productOrderItem": [modify("sub_x")]}, "productOrderItem[0]"),
        ({"productOrderItem": [modify("sub_x", status="terminated")]}, "productOrderItem[0].product.status"),
        (
            {"productOrderItem": [delete("sub_x", reason="member_request")], "requestedCompletionDate": "2020-01-01"},
            "requestedCompletionDate",
        ),
        (
            {
                "productOrderItem": [delete("sub_x", reason="member_request")],
                "requestedStartDate": "2999-01-01T00:00:00Z",
            },
            "requestedStartDate",
        ),
        ({"productOrderItem": [{**delete("sub_x"), "quantity": 3}]}, "productOrderItem[0].quantity"),
        ([1, 2], "(body)"),
        # A key the spec does not define is refused, not dropped: it would change what the order does.
        ({"productOrderItem": [add()], "externalID": "ORD-1"}, "externalID"),
        (
            {"productOrderItem": [delete("sub_x")], "requestedCompletionDat": "2020-01-01T00:00:00Z"},
            "requestedCompletionDat",
        ),
        (
            {"productOrderItem": [{**delete("sub_x"), "product": {"id": "sub_x", "foo": 1}}]},
            "productOrderItem[0].product.foo",
        ),
    ],
)
def test_a_malformed_order_is_a_400_naming_the_field_and_changes_nothing(app, tmf, body, named):
    response = tmf.post(body)
    assert response.status_code == 400
    assert response.json["code"] == "validation-error"
    assert named in response.json["message"]
    assert count(app, ProductOrder) == count(app, Subscription) == count(app, OutboxEvent) == 0


def test_a_market_the_partner_does_not_sell_in_refuses_the_whole_order(app, tmf):
    response = tmf.post({"productOrderItem": [add("1", "cust-1"), add("2", "cust-2", market="FR")]})
    assert response.status_code == 400
    assert "productOrderItem[1].product.productCharacteristic.market" in response.json["message"]
    assert "sells in AT, DE, not FR" in response.json["message"]
    assert count(app, Subscription) == 0


@pytest.mark.parametrize(
    ("data", "headers", "status"),
    [
        ("{not json", {"Content-Type": "application/json"}, 400),
        ("", {"Content-Type": "application/json"}, 400),
        ("productOrderItem=1", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
    ],
)
def test_a_body_that_is_no_json_order_is_refused_in_tmf_shape(app, client, partner, data, headers, status):
    response = checked(client.post(ORDERS, data=data, headers={**partner, **headers}), "ProductOrder")
    assert response.status_code == status
    assert count(app, ProductOrder) == 0


def test_an_unknown_product_is_a_404_and_the_items_before_it_are_not_applied(backend_app):
    store = app_store(backend_app)
    seed = Seeder(store)
    seed.partner("nordlink", markets=["DE"])
    seed.partner("other", markets=["DE"])
    tmf = Tmf(backend_app.test_client(), bearer(seed.token(KeyKind.PARTNER, "nordlink")))
    with store.transaction() as session:
        mine = add_subscription(session, "nordlink", "mine").id
        theirs = add_subscription(session, "other", "theirs").id
        purged = add_subscription(session, "nordlink", "purged")
        subscription_service.apply_command(
            session, purged, Command.CANCEL_NOW, actor=Actor.PARTNER, reason="partner_churn", now=utcnow()
        )
        subscription_service.apply_command(
            session, purged, Command.PURGE, actor=Actor.SCHEDULER, reason="retention_expired", now=utcnow()
        )
    events_before = len(outbox(backend_app))
    for missing in ("sub_nothere", theirs, purged.id):
        response = tmf.post(
            {"productOrderItem": [add(customer="new"), modify(mine, "2", status="suspended"), delete(missing, "3")]}
        )
        assert response.status_code == 404, missing
        assert response.json["code"] == "not-found" and missing in response.json["message"]
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(ProductOrder)) == 0
        assert session.scalar(select(func.count()).where(Subscription.partner_ref == "new")) == 0
        assert session.get(Subscription, mine).status == "active"
    assert len(outbox(backend_app)) == events_before


# -- idempotency: externalId and Idempotency-Key ------------------------------------------------------------------


def test_an_external_id_returns_the_same_order_and_never_a_second_effect(app, client, tmf, seed):
    body = {"productOrderItem": [add()], "externalId": "ORD-1"}
    first = tmf.post(body)
    # The same order, its JSON written otherwise.
    again = tmf.post({"externalId": "ORD-1", "productOrderItem": [add()]})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert count(app, Subscription) == count(app, ProductOrder) == 1
    assert len(outbox(app, "product_order.state_changed")) == 1

    other = tmf.post({"productOrderItem": [add(customer="cust-2")], "externalId": "ORD-1"})
    assert other.status_code == 409
    assert other.json["code"] == "conflict" and first.json["id"] in other.json["message"]
    assert count(app, Subscription) == 1

    seed.partner("other", markets=["DE"])  # an externalId is the partner's own
    theirs = Tmf(client, bearer(seed.token(KeyKind.PARTNER, "other"))).order(add(), externalId="ORD-1")
    assert theirs["id"] != first.json["id"] and count(app, ProductOrder) == 2


def test_an_order_is_returned_for_its_external_id_after_the_partner_stopped_selling_there(app, tmf):
    placed = tmf.order(add(market="AT"), externalId="ORD-AT")
    with app_store(app).transaction() as session:
        session.get(Partner, "nordlink").markets = ["DE"]
    assert tmf.post({"productOrderItem": [add(market="AT")], "externalId": "ORD-AT"}).json == placed
    assert tmf.post({"productOrderItem": [add(market="AT")], "externalId": "ORD-AT2"}).status_code == 400


def test_a_failed_order_is_returned_for_its_external_id_too(app, tmf):
    failed = tmf.order(modify(active_subscription(app, active=False), status="suspended"), externalId="ORD-F")
    assert failed["state"] == "failed"
    assert (
        tmf.post(
            {
                "productOrderItem": [modify(failed["productOrderItem"][0]["product"]["id"], status="suspended")],
                "externalId": "ORD-F",
            }
        ).json
        == failed
    )


def test_an_idempotency_key_replays_the_first_answer(app, tmf):
    key = {"Idempotency-Key": "order-1"}
    first = tmf.post({"productOrderItem": [add()]}, headers=key)
    again = tmf.post({"productOrderItem": [add()]}, headers=key)
    assert again.status_code == 201 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(app, Subscription) == count(app, ProductOrder) == 1
    misused = tmf.post({"productOrderItem": [add(customer="cust-2")]}, headers=key)
    assert misused.status_code == 400 and "Idempotency-Key" in misused.json["message"]
    # A 404 is a first answer too; a 400 leaves the key free.
    gone = {"Idempotency-Key": "order-2"}
    assert tmf.post({"productOrderItem": [delete("sub_nothere")]}, headers=gone).status_code == 404
    replayed = tmf.post({"productOrderItem": [delete("sub_nothere")]}, headers=gone)
    assert replayed.status_code == 404 and replayed.headers["Idempotent-Replayed"] == "true"
    free = {"Idempotency-Key": "order-3"}
    assert tmf.post({"productOrderItem": []}, headers=free).status_code == 400
    assert tmf.post({"productOrderItem": [add(customer="cust-3")]}, headers=free).status_code == 201


CALLERS = 6


@pytest.mark.parametrize("by", ["externalId", "Idempotency-Key"])
def test_concurrent_orders_with_one_external_id_or_key_have_one_effect(backend_app, by):
    store = app_store(backend_app)
    seed = Seeder(store)
    seed.partner("nordlink", markets=["DE"])
    partner = bearer(seed.token(KeyKind.PARTNER, "nordlink"))
    with store.transaction() as session:
        existing = add_subscription(session, "nordlink", "existing").id
    body = {"productOrderItem": [add(customer="racer"), modify(existing, "2", status="suspended")]}
    headers = dict(partner)
    if by == "externalId":
        body["externalId"] = "ORD-RACE"
    else:
        headers["Idempotency-Key"] = "race"

    def place(_index):
        response = checked(backend_app.test_client().post(ORDERS, json=body, headers=headers), "ProductOrder")
        return response.status_code, response.get_json()

    results = all_at_once(CALLERS, place)

    assert {status for status, _ in results} == {201}, results
    assert len({answer["id"] for _, answer in results}) == 1
    assert {answer["state"] for _, answer in results} == {"completed"}
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(ProductOrder)) == 1
        assert session.scalar(select(func.count()).where(Subscription.partner_ref == "racer")) == 1
        assert session.get(Subscription, existing).version == 3  # created, activated, suspended once
        suspended = select(func.count()).where(OutboxEvent.event_type == "subscription.suspended")
        assert session.scalar(suspended) == 1
        ordered = select(func.count()).where(OutboxEvent.event_type == "product_order.state_changed")
        assert session.scalar(ordered) == 1


def test_concurrent_orders_about_the_same_products_in_any_order_all_complete(backend_app):
    """Two products changed by orders that name them in opposite orders: the products are locked in id order,
    so no two orders wait on each other in a circle (no deadlock on PostgreSQL)."""
    store = app_store(backend_app)
    seed = Seeder(store)
    seed.partner("nordlink", markets=["DE"])
    partner = bearer(seed.token(KeyKind.PARTNER, "nordlink"))
    with store.transaction() as session:
        first = add_subscription(session, "nordlink", "first").id
        second = add_subscription(session, "nordlink", "second").id
    plans = ["premium", "standard_with_ads", "standard"]

    def place(index):
        plan = plans[index % 3]
        items = [modify(first, "1", plan=plan), modify(second, "2", plan=plan)]
        body = {"productOrderItem": items if index % 2 else items[::-1]}
        response = checked(backend_app.test_client().post(ORDERS, json=body, headers=partner), "ProductOrder")
        return response.status_code

    assert set(all_at_once(CALLERS, place)) == {201}
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(ProductOrder)) == CALLERS


# -- reading orders -----------------------------------------------------------------------------------------------


def test_orders_are_listed_paged_and_filtered(app, client, tmf, seed):
    pending = active_subscription(app, "pending", active=False)
    placed = [
        tmf.order(add("1", "c1"), externalId="A"),
        tmf.order(modify(pending, status="suspended"), externalId="B"),
        tmf.order(add("1", "c2")),
    ]
    everything = tmf.get(ORDERS)
    assert everything.status_code == 200
    assert everything.json == placed
    assert (everything.headers["X-Total-Count"], everything.headers["X-Result-Count"]) == ("3", "3")

    page = tmf.get(ORDERS, offset=1, limit=1)
    assert page.status_code == 206 and page.json == [placed[1]]
    assert (page.headers["X-Total-Count"], page.headers["X-Result-Count"]) == ("3", "1")
    assert tmf.get(ORDERS, offset=5).json == []

    assert tmf.get(ORDERS, state="failed").json == [placed[1]]
    assert tmf.get(ORDERS, state="completed,failed").json == placed
    assert tmf.get(ORDERS, state="acknowledged").json == []
    assert tmf.get(ORDERS, externalId="A").json == [placed[0]]
    assert tmf.get(ORDERS, externalId="nope").json == []
    # A selection keeps id, href and the items a ProductOrder requires.
    selected = tmf.get(ORDERS, fields="state,externalId", state="completed").json
    kept = ("id", "href", "externalId", "state", "productOrderItem")
    assert selected == [{name: order[name] for name in kept if name in order} for order in (placed[0], placed[2])]
    one = tmf.get(f"{ORDERS}/{placed[1]['id']}", fields="state").json
    assert one == {name: placed[1][name] for name in ("id", "href", "state", "productOrderItem")}

    seed.partner("other", markets=["DE"])
    other = Tmf(client, bearer(seed.token(KeyKind.PARTNER, "other")))
    assert other.get(ORDERS).json == []
    hidden = other.get(f"{ORDERS}/{placed[0]['id']}")
    assert hidden.status_code == 404 and hidden.json["code"] == "not-found"


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"state": "done"}, "state"),
        ({"limit": "-1"}, "limit"),
        ({"offset": "x"}, "offset"),
        ({"fields": "colour"}, "fields"),
        ({"status": "completed"}, "status"),
    ],
)
def test_a_query_it_cannot_read_is_a_400_naming_the_parameter(tmf, query, parameter):
    response = tmf.get(ORDERS, **query)
    assert response.status_code == 400
    assert parameter in response.json["message"]


@pytest.mark.parametrize("query", ["fields=id", "statuz=x", "state=completed&limit=1"])
def test_options_is_not_held_to_a_query_it_does_not_read(client, partner, query):
    # OPTIONS is routed to the POST view, whose parameters say nothing about OPTIONS: it answers what is allowed.
    response = client.open(f"{ORDERS}?{query}", method="OPTIONS", headers=partner)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert {"GET", "POST"} <= set(response.headers["Allow"].split(", "))
    assert checked(client.get(f"{ORDERS}?statuz=x", headers=partner), "ProductOrder").status_code == 400


def test_an_unknown_order_is_a_404(tmf):
    response = tmf.get(f"{ORDERS}/po_nothere")
    assert response.status_code == 404 and "po_nothere" in response.json["message"]


# -- cancellation -------------------------------------------------------------------------------------------------


def test_an_order_carried_out_cannot_be_cancelled(app, client, tmf, seed):
    completed = tmf.order(add())
    failed = tmf.order(modify(active_subscription(app, active=False), status="suspended"))
    for order, says in ((completed, "is completed"), (failed, "nothing to cancel")):
        response = tmf.post(
            {"productOrder": {"id": order["id"]}, "cancellationReason": "customer changed mind"}, CANCELLATIONS
        )
        assert response.status_code == 409
        assert response.json["code"] == "conflict" and says in response.json["message"]
        assert tmf.get(f"{ORDERS}/{order['id']}").json == order  # unchanged
    seed.partner("other", markets=["DE"])
    other = Tmf(client, bearer(seed.token(KeyKind.PARTNER, "other")))
    assert other.post({"productOrder": {"id": completed["id"]}}, CANCELLATIONS).status_code == 404
    assert tmf.post({"productOrder": {"id": "po_nothere"}}, CANCELLATIONS).status_code == 404
    malformed = tmf.post({"productOrder": {}}, CANCELLATIONS)
    assert malformed.status_code == 400 and "productOrder.id" in malformed.json["message"]
    # No cancellation is ever accepted, so there is none to read back.
    assert checked(client.get(CANCELLATIONS, headers=tmf.headers), "CancelProductOrder").status_code == 405
    assert checked(client.get(f"{CANCELLATIONS}/x", headers=tmf.headers), "CancelProductOrder").status_code == 404
    assert count(app, ProductOrder) == 2


# -- keys and scopes ----------------------------------------------------------------------------------------------


def test_ordering_needs_the_write_scope_and_reading_the_read_scope(app, client, seed, partner):
    order = Tmf(client, partner).order(add())
    reader = Tmf(client, bearer(seed.token(KeyKind.PARTNER, "nordlink", scopes=[Scope.SUBSCRIPTIONS_READ])))
    refused = reader.post({"productOrderItem": [add(customer="cust-2")]})
    assert refused.status_code == 403 and "subscriptions:write" in refused.json["message"]
    assert reader.post({"productOrder": {"id": order["id"]}}, CANCELLATIONS).status_code == 403
    assert reader.get(ORDERS).status_code == 200
    writer = Tmf(client, bearer(seed.token(KeyKind.PARTNER, "nordlink", scopes=[Scope.SUBSCRIPTIONS_WRITE])))
    assert writer.get(ORDERS).status_code == 403
    assert writer.get(f"{ORDERS}/{order['id']}").status_code == 403
    anonymous = Tmf(client, {})
    assert anonymous.post({"productOrderItem": [add()]}).status_code == 401
    assert anonymous.get(ORDERS).status_code == 401
    assert count(app, Subscription) == 1
