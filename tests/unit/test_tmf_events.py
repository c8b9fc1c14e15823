"""The gateway's events as TM Forum events: the one table of which internal types each TMF type stands for, a
hub's query read into event types (and every way it can be refused), and each event rendered as a TMF event that
conforms to its definition in the official spec (strict: no key the definition does not name)."""

from __future__ import annotations

import copy
import json

import pytest

from contracts.events import CATALOG
from gateway.domain.errors import InvalidInput
from gateway.domain.events import OPT_IN_EVENT_TYPES, EventType
from gateway.domain.tmf import TmfApi
from gateway.domain.tmf_events import (
    NOT_EMITTED,
    TMF_EVENT_OF,
    TMF_EVENTS,
    NoTmfForm,
    TmfEventType,
    emitted_on,
    hub_event_types,
    internal_event_types,
    tmf_event,
    tmf_event_text,
)
from tests.support.tmf_conformance import assert_conforms, spec

GATEWAY = "https://gateway.example"
INVENTORY, ORDERING = TmfApi.PRODUCT_INVENTORY, TmfApi.PRODUCT_ORDERING
SPEC_OF = {INVENTORY: "TMF637", ORDERING: "TMF622"}
MAPPED = sorted(TMF_EVENT_OF)


def _example(event_type: str, **data) -> dict:
    """The catalog's complete example of the type (what the code emits, validated there), data changed."""
    event = copy.deepcopy(CATALOG[event_type].example)
    event["data"].update(data)
    return event


def _rendered(event: dict) -> tuple[TmfEventType, dict]:
    tmf_type, body = tmf_event(event, gateway_url=GATEWAY)
    assert_conforms(body, str(tmf_type), spec_name=SPEC_OF[TMF_EVENTS[tmf_type].api])
    return tmf_type, body


# -- the table ---------------------------------------------------------------------------------------------------


def test_every_type_the_table_names_is_an_internal_event_type_named_once():
    named = [internal for kind in TMF_EVENTS.values() for internal in kind.internal]
    assert len(named) == len(set(named))
    assert set(named) <= {str(event_type) for event_type in EventType}


def test_every_lifecycle_event_has_a_tmf_form_and_no_notice_test_or_escalation_has():
    lifecycle = {name for name in CATALOG if name.startswith("subscription.")}
    assert lifecycle <= set(TMF_EVENT_OF)
    assert not {"gateway.test", "escalation.updated", "account.retention_expiring"} & set(TMF_EVENT_OF)
    assert not {name for name in TMF_EVENT_OF if name.startswith("sharing.")}


def test_the_opt_in_creation_is_what_product_create_stands_for():
    assert TMF_EVENTS[TmfEventType.PRODUCT_CREATE].internal == OPT_IN_EVENT_TYPES


def test_each_api_emits_the_event_types_its_spec_has_a_listener_for_and_refuses_the_rest():
    for api, spec_name in SPEC_OF.items():
        listeners = {
            path.removeprefix("/listener/") for path in spec(spec_name)["paths"] if path.startswith("/listener/")
        }
        ours = {name[0].lower() + name[1:] for name in emitted_on(api)}
        never = {name[0].lower() + name[1:] for name in NOT_EMITTED[api]}
        assert ours | never == listeners and not ours & never


# -- a hub's query -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", [None, "", "   "])
def test_an_empty_query_is_every_event_type_of_the_api(query):
    assert (
        hub_event_types(INVENTORY, query)
        == emitted_on(INVENTORY)
        == [
            TmfEventType.PRODUCT_CREATE,
            TmfEventType.PRODUCT_ATTRIBUTE_VALUE_CHANGE,
            TmfEventType.PRODUCT_STATE_CHANGE,
            TmfEventType.PRODUCT_DELETE,
        ]
    )
    assert hub_event_types(ORDERING, query) == [TmfEventType.PRODUCT_ORDER_STATE_CHANGE]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("eventType=ProductStateChangeEvent", ["ProductStateChangeEvent"]),
        ("?eventType=ProductStateChangeEvent", ["ProductStateChangeEvent"]),
        ("eventType=ProductCreateEvent,ProductDeleteEvent", ["ProductCreateEvent", "ProductDeleteEvent"]),
        ("eventType=ProductCreateEvent&eventType=ProductDeleteEvent", ["ProductCreateEvent", "ProductDeleteEvent"]),
        ("eventType=ProductDeleteEvent, ProductDeleteEvent", ["ProductDeleteEvent"]),
        ("eventtype=productStateChangeEvent", ["ProductStateChangeEvent"]),  # as the listener paths write it
        ("eventType=ProductCreateEvent%2CProductStateChangeEvent", ["ProductCreateEvent", "ProductStateChangeEvent"]),
    ],
)
def test_a_query_names_event_types_alone_in_a_list_or_repeated(query, expected):
    assert hub_event_types(INVENTORY, query) == expected


@pytest.mark.parametrize(
    ("api", "query", "says"),
    [
        (INVENTORY, "eventType=ProductChangeEvent", "No such event type 'ProductChangeEvent'; this API emits"),
        (INVENTORY, "eventType=ProductBatchEvent", "The gateway never emits ProductBatchEvent"),
        (ORDERING, "eventType=ProductOrderCreateEvent", "The gateway never emits ProductOrderCreateEvent"),
        (INVENTORY, "eventType=ProductOrderStateChangeEvent", "is an event of productOrdering"),
        (ORDERING, "eventType=ProductStateChangeEvent", "is an event of productInventory"),
        (INVENTORY, "event.product.status=active", "Only eventType filters are supported, not event.product.status"),
        (INVENTORY, "eventType=ProductCreateEvent&status=active", "not status"),
        (INVENTORY, "eventType=", "An empty eventType"),
        (INVENTORY, "eventType=ProductCreateEvent,", "An empty eventType"),
        (INVENTORY, "ProductCreateEvent", "Not a query such as 'eventType=ProductCreateEvent'"),
        (INVENTORY, "eventType=" + "x" * 1000, "At most 1000 characters"),
    ],
)
def test_a_query_naming_anything_else_is_refused_saying_what_the_api_emits(api, query, says):
    with pytest.raises(InvalidInput) as refused:
        hub_event_types(api, query)
    assert list(refused.value.errors) == ["query"]
    assert says in refused.value.errors["query"]


def test_the_internal_types_of_a_query_are_those_the_table_names():
    assert internal_event_types([TmfEventType.PRODUCT_DELETE, TmfEventType.PRODUCT_CREATE]) == [
        "subscription.created",
        "subscription.purged",
    ]
    every = internal_event_types(emitted_on(INVENTORY))
    assert "subscription.suspended" in every and "product_order.state_changed" not in every


# -- rendering: every event conforms -----------------------------------------------------------------------------


@pytest.mark.parametrize("event_type", MAPPED)
def test_each_mapped_events_example_renders_as_a_conforming_tmf_event(event_type):
    event = _example(event_type)
    tmf_type, body = _rendered(event)
    assert tmf_type == TMF_EVENT_OF[event_type] and body["eventType"] == tmf_type
    assert body["eventId"] == event["id"], "the webhook-id and the TMF eventId are one id"
    assert body["eventTime"] == body["timeOcurred"] == event["occurred_at"]
    assert "timeOccurred" not in body  # the spec's spelling only
    assert body["domain"] == TMF_EVENTS[tmf_type].api and body["title"] and body["description"]
    resource = body["event"].get("product") or body["event"]["productOrder"]
    assert body["correlationId"] == resource["id"]
    assert resource["href"].startswith(f"{GATEWAY}/tmf-api/{TMF_EVENTS[tmf_type].api}/v4/")


def test_a_created_product_is_pending_active_with_its_order_date_and_characteristics():
    _, body = _rendered(CATALOG["subscription.created"].example)
    product = body["event"]["product"]
    assert product["status"] == "pendingActive" and product["orderDate"] == "2026-11-01T16:00:00+00:00"
    assert product["href"] == f"{GATEWAY}/tmf-api/productInventory/v4/product/sub_5d0c8e1f3a7b9c2e4f60"
    assert {c["name"]: c["value"] for c in product["productCharacteristic"]} == {
        "market": "DE",
        "locale": "de-DE",
        "billingAnchor": "2026-11-01",
        "billedBy": "partner",
    }
    assert product["relatedParty"] == [
        {"id": "telco-de", "role": "seller", "@referredType": "Organization"},
        {"id": "cust-000123", "role": "customer", "@referredType": "Customer"},
    ]


@pytest.mark.parametrize(
    ("event_type", "previous", "status"),
    [
        ("subscription.activated", "pending_activation", "active"),
        ("subscription.suspended", "active", "suspended"),
        ("subscription.resumed", "suspended", "active"),
        ("subscription.cancellation_scheduled", "active", "pendingTerminate"),
        ("subscription.cancellation_reverted", "cancellation_scheduled", "active"),
        ("subscription.cancelled", "active", "terminated"),
        ("subscription.cancelled", "suspended", "terminated"),
        ("subscription.cancelled", "cancellation_scheduled", "terminated"),
        ("subscription.cancelled", "pending_activation", "cancelled"),  # its activation expired: never active
        ("subscription.reactivated", "cancelled", "active"),
    ],
)
def test_a_status_change_shows_the_status_the_table_gives_the_cancelled_after_activation_terminated(
    event_type, previous, status
):
    tmf_type, body = _rendered(_example(event_type, previous_status=previous))
    assert tmf_type == "ProductStateChangeEvent"
    assert body["event"]["product"]["status"] == status
    assert "aborted" not in json.dumps(body)


def test_a_scheduled_cancellation_and_a_cancellation_carry_when_the_product_ends():
    _, scheduled = _rendered(CATALOG["subscription.cancellation_scheduled"].example)
    product = scheduled["event"]["product"]
    assert product["terminationDate"] == "2026-12-02T00:00:00+00:00"
    assert product["productCharacteristic"] == [
        {"name": "accessUntil", "valueType": "dateTime", "value": "2026-12-02T00:00:00+00:00"}
    ]
    _, ended = _rendered(_example("subscription.cancelled", effective_at="2026-12-06T00:05:00+00:00"))
    assert ended["event"]["product"]["terminationDate"] == "2026-12-06T00:05:00+00:00"


def test_an_upgrade_changes_the_offering_at_once():
    tmf_type, body = _rendered(CATALOG["subscription.plan_changed"].example)
    product = body["event"]["product"]
    assert tmf_type == "ProductAttributeValueChangeEvent"
    assert product["productOffering"]["id"] == "premium" and "productCharacteristic" not in product
    assert "moved from the standard to the premium plan" in body["description"]


def test_a_downgrade_asked_for_keeps_the_offering_and_names_the_scheduled_plan():
    asked = _example(
        "subscription.plan_changed",
        plan="standard_with_ads",
        previous_plan="standard",
        change="downgrade",
        reason="downgrade",
        effective_at="2026-12-01T00:00:00+00:00",
    )
    _, body = _rendered(asked)
    product = body["event"]["product"]
    assert product["productOffering"]["id"] == "standard"
    assert product["productCharacteristic"] == [
        {"name": "scheduledPlan", "valueType": "string", "value": "standard_with_ads"},
        {"name": "scheduledPlanDate", "valueType": "dateTime", "value": "2026-12-01T00:00:00+00:00"},
    ]
    applied = {**asked, "occurred_at": "2026-12-01T00:00:00+00:00"}  # the scheduler applies it on the day
    _, body = _rendered(applied)
    assert body["event"]["product"]["productOffering"]["id"] == "standard_with_ads"
    assert "productCharacteristic" not in body["event"]["product"]


def test_an_inactivity_warning_sets_the_characteristics_and_a_kept_membership_clears_them():
    _, warned = _rendered(CATALOG["account.inactivity_warning"].example)
    assert warned["eventType"] == "ProductAttributeValueChangeEvent"
    assert {c["name"]: c["value"] for c in warned["event"]["product"]["productCharacteristic"]} == {
        "inactivityWarnedAt": "2026-11-22T06:00:00+00:00",
        "inactivityRespondBy": "2026-12-06T00:00:00+00:00",
    }
    _, kept = _rendered(CATALOG["account.keep_confirmed"].example)
    assert "productCharacteristic" not in kept["event"]["product"]
    assert "inactivity warning is withdrawn" in kept["description"]


def test_a_purge_is_a_delete_event_whose_product_has_no_status():
    tmf_type, body = _rendered(CATALOG["subscription.purged"].example)
    assert tmf_type == "ProductDeleteEvent"
    product = body["event"]["product"]
    assert "status" not in product and product["id"] == "sub_5d0c8e1f3a7b9c2e4f60"


def test_an_order_reaching_its_final_state_is_a_conforming_product_order_with_its_refusals_as_notes():
    event = CATALOG["product_order.state_changed"].example
    tmf_type, body = _rendered(event)
    assert tmf_type == "ProductOrderStateChangeEvent" and body["domain"] == "productOrdering"
    order = body["event"]["productOrder"]
    data = event["data"]
    assert order["href"] == f"{GATEWAY}/tmf-api/productOrdering/v4/productOrder/{data['order_id']}"
    assert order["externalId"] == "ORD-2026-00042" and order["orderDate"] == order["completionDate"]
    assert order["id"] == data["order_id"] and order["state"] == data["state"]
    assert [item["state"] for item in order["productOrderItem"]] == [item["state"] for item in data["items"]]
    refused = [item for item in data["items"] if item["refusal"]]
    assert [note["text"] for note in order.get("note", [])] == [item["refusal"] for item in refused]


def test_an_order_without_external_id_or_refusals_leaves_them_out():
    event = _example("product_order.state_changed", external_id=None, state="completed")
    for item in event["data"]["items"]:
        item.update(state="completed", refusal=None)
    _, body = _rendered(event)
    assert "externalId" not in body["event"]["productOrder"] and "note" not in body["event"]["productOrder"]


def test_without_a_public_url_the_hrefs_are_paths():
    _, body = tmf_event(CATALOG["subscription.suspended"].example, gateway_url="")
    assert body["event"]["product"]["href"] == "/tmf-api/productInventory/v4/product/sub_5d0c8e1f3a7b9c2e4f60"


# -- rendering: what has no TMF form ------------------------------------------------------------------------------


@pytest.mark.parametrize("event_type", ["gateway.test", "account.retention_expiring", "sharing.policy_announced"])
def test_an_event_without_a_tmf_form_is_refused_by_name(event_type):
    with pytest.raises(NoTmfForm, match=event_type):
        tmf_event(CATALOG[event_type].example, gateway_url=GATEWAY)


def test_an_event_missing_what_its_form_needs_is_refused_not_half_rendered():
    broken = _example("subscription.suspended")
    del broken["data"]["plan"]
    with pytest.raises(NoTmfForm, match="lacks 'plan'"):
        tmf_event(broken, gateway_url=GATEWAY)
    with pytest.raises(NoTmfForm, match="not JSON"):
        tmf_event_text("{not json", gateway_url=GATEWAY)


def test_the_text_form_is_the_same_event_as_json():
    event = CATALOG["subscription.resumed"].example
    tmf_type, text = tmf_event_text(json.dumps(event), gateway_url=GATEWAY)
    assert (tmf_type, json.loads(text)) == tmf_event(event, gateway_url=GATEWAY)
