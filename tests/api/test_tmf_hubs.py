"""TMF630 hubs over HTTP, on both TM Forum APIs: register (201, Location, the spec's EventSubscription, the signing
secret once), read and unregister a listener; the query's event types become the hub's filter; every refusal is a
TMF Error with the right status and nothing written; another partner's hub, the other API's and a plain endpoint
are 404; the scopes follow /v1; a hub shows among the partner's webhook endpoints, marked as one."""

from __future__ import annotations

import shlex

import pytest
from sqlalchemy import func, select

from gateway.demo import seed_demo, tmf_try_commands
from gateway.domain.clock import utcnow
from gateway.domain.keys import KeyKind
from gateway.store.models import EndpointEventType, WebhookEndpoint
from tests.support.api import app_store, bearer
from tests.support.seeding import Seeder
from tests.support.tmf_conformance import assert_conforms

INVENTORY = "/tmf-api/productInventory/v4"
ORDERING = "/tmf-api/productOrdering/v4"
SPEC_OF = {INVENTORY: "TMF637", ORDERING: "TMF622"}
CALLBACK = "https://listener.nordlink.example/tmf"
INVENTORY_TYPES = [
    "account.inactivity_warning",
    "account.keep_confirmed",
    "subscription.activated",
    "subscription.cancellation_reverted",
    "subscription.cancellation_scheduled",
    "subscription.cancelled",
    "subscription.created",
    "subscription.plan_changed",
    "subscription.purged",
    "subscription.reactivated",
    "subscription.resumed",
    "subscription.suspended",
]


class World:
    """nordlink (full partner key, a read-only key, a write-only key) and southtel; an operator."""

    def __init__(self, app) -> None:
        self.app = app
        self.store = app_store(app)
        self.client = app.test_client()
        seed = Seeder(self.store)
        for code in ("nordlink", "southtel"):
            seed.partner(code)
        self.partner = bearer(seed.token(KeyKind.PARTNER, "nordlink"))
        self.reader = bearer(seed.token(KeyKind.PARTNER, "nordlink", {"events:read"}))
        self.writer = bearer(seed.token(KeyKind.PARTNER, "nordlink", {"subscriptions:write"}))
        self.other = bearer(seed.token(KeyKind.PARTNER, "southtel"))
        self.operator = bearer(seed.token(KeyKind.OPERATOR))
        self.seed = seed

    def register(self, api=INVENTORY, body=None, headers=None):
        body = {"callback": CALLBACK} if body is None else body
        return self.client.post(f"{api}/hub", json=body, headers=headers or self.partner)

    def hubs(self) -> int:
        with self.store.read() as session:
            return session.scalar(select(func.count()).select_from(WebhookEndpoint))

    def filter_of(self, hub_id: str) -> list[str]:
        with self.store.read() as session:
            query = select(EndpointEventType.event_type).where(EndpointEventType.endpoint_id == hub_id)
            return sorted(session.scalars(query))


@pytest.fixture
def world(app) -> World:
    return World(app)


@pytest.fixture
def backend_world(backend_app) -> World:
    return World(backend_app)


def _assert_tmf_error(response, status: int, api: str = INVENTORY) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert_conforms(response.json, "Error", spec_name=SPEC_OF[api])
    assert response.json["status"] == str(status)
    return response.json


# -- register, read, unregister ----------------------------------------------------------------------------------


@pytest.mark.parametrize("api", [INVENTORY, ORDERING])
def test_a_registered_hub_is_answered_read_and_unregistered_on_either_api(backend_world, api):
    world = backend_world
    created = world.register(api, {"callback": CALLBACK, "query": ""})
    assert created.status_code == 201, created.json
    assert_conforms(created.json, "EventSubscription", spec_name=SPEC_OF[api])
    hub_id = created.json["id"]
    assert created.json == {"id": hub_id, "callback": CALLBACK, "query": ""}
    assert created.headers["Location"] == f"http://localhost{api}/hub/{hub_id}"
    assert created.headers["Webhook-Signing-Secret"].startswith("whsec_")
    assert created.headers["Cache-Control"] == "no-store"

    shown = world.client.get(created.headers["Location"], headers=world.reader)
    assert shown.status_code == 200 and shown.json == created.json
    assert_conforms(shown.json, "EventSubscription", spec_name=SPEC_OF[api])

    with world.store.read() as session:
        hub = session.get(WebhookEndpoint, hub_id)
        assert (hub.hub_api, hub.hub_query, hub.flavour, hub.filters_events) == (api.split("/")[2], "", "tmf", True)
        assert hub.secret == created.headers["Webhook-Signing-Secret"] and hub.partner_code == "nordlink"
    expected = INVENTORY_TYPES if api == INVENTORY else ["product_order.state_changed"]
    assert world.filter_of(hub_id) == expected, "an empty query: every event type of the API"

    removed = world.client.delete(f"{api}/hub/{hub_id}", headers=world.writer)
    assert removed.status_code == 204 and removed.get_data() == b""
    _assert_tmf_error(world.client.get(f"{api}/hub/{hub_id}", headers=world.reader), 404, api)
    _assert_tmf_error(world.client.delete(f"{api}/hub/{hub_id}", headers=world.writer), 404, api)


def test_a_hub_without_a_query_reads_back_without_one(world):
    created = world.register()
    assert created.status_code == 201
    assert created.json == {"id": created.json["id"], "callback": CALLBACK}
    assert world.filter_of(created.json["id"]) == INVENTORY_TYPES


@pytest.mark.parametrize(
    ("query", "types"),
    [
        ("eventType=ProductStateChangeEvent", 7),
        ("eventType=ProductCreateEvent,ProductDeleteEvent", 2),
        ("eventType=ProductCreateEvent&eventType=ProductAttributeValueChangeEvent", 4),
    ],
)
def test_the_query_becomes_the_hubs_filter_and_reads_back_as_registered(world, query, types):
    created = world.register(body={"callback": CALLBACK, "query": query})
    assert created.status_code == 201 and created.json["query"] == query
    assert len(world.filter_of(created.json["id"])) == types
    if "Create" in query:
        assert "subscription.created" in world.filter_of(created.json["id"])


def test_an_ordering_hub_listens_for_its_orders(world):
    created = world.register(ORDERING, {"callback": CALLBACK, "query": "eventType=ProductOrderStateChangeEvent"})
    assert created.status_code == 201
    assert world.filter_of(created.json["id"]) == ["product_order.state_changed"]


def test_a_retry_with_its_idempotency_key_registers_one_hub_and_withholds_the_secret(world):
    headers = {**world.partner, "Idempotency-Key": "hub-1"}
    first = world.register(headers=headers)
    again = world.register(headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert "Webhook-Signing-Secret" in first.headers and "Webhook-Signing-Secret" not in again.headers
    assert world.hubs() == 1


# -- refusals ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"callback": CALLBACK, "query": "eventType=ProductBatchEvent"}, "never emits ProductBatchEvent"),
        ({"callback": CALLBACK, "query": "eventType=ProductOrderStateChangeEvent"}, "is an event of productOrdering"),
        ({"callback": CALLBACK, "query": "eventType=Nonsense"}, "No such event type"),
        ({"callback": CALLBACK, "query": "status=active"}, "Only eventType filters"),
        ({"callback": CALLBACK, "query": 7}, "query"),
        ({"query": "eventType=ProductCreateEvent"}, "callback: Required"),
        ({"callback": "  "}, "callback: Required"),
        ({"callback": ["https://a.example"]}, "callback: Required"),
        ({"callback": "not a url"}, "callback"),
        ({"callback": "http://listener.nordlink.example/tmf"}, "https"),
        ({"callback": "https://127.0.0.1/tmf"}, "public"),
        ({"callback": "https://10.1.2.3/tmf"}, "public"),
        ({"callback": "https://localhost/tmf"}, "public"),
        ({"callback": CALLBACK, "qeury": "eventType=ProductCreateEvent"}, "qeury: Not a field"),
        ({"callback": CALLBACK, "id": "mine"}, "id: Not a field"),
        (["https://a.example"], "EventSubscriptionInput"),
    ],
)
def test_a_bad_registration_is_a_tmf_400_naming_the_field_and_registers_nothing(world, body, says):
    error = _assert_tmf_error(world.register(body=body), 400)
    assert says in error["message"]
    assert world.hubs() == 0


def test_both_a_bad_callback_and_a_bad_query_are_named_at_once(world):
    error = _assert_tmf_error(world.register(body={"callback": "https://10.0.0.1/", "query": "eventType=X"}), 400)
    assert "callback:" in error["message"] and "query:" in error["message"]


def test_a_type_marker_is_accepted_and_not_echoed(world):
    created = world.register(body={"callback": CALLBACK, "@type": "EventSubscriptionInput"})
    assert created.status_code == 201 and "@type" not in created.json


def test_a_body_that_is_not_json_is_refused(world):
    bad = world.client.post(
        f"{INVENTORY}/hub", data="{callback", headers={**world.partner, "Content-Type": "application/json"}
    )
    _assert_tmf_error(bad, 400)
    form = world.client.post(f"{INVENTORY}/hub", data={"callback": CALLBACK}, headers=world.partner)
    _assert_tmf_error(form, 415)
    assert world.hubs() == 0


def test_a_loopback_callback_is_taken_only_where_operators_allow_private_endpoints(world):
    world.app.config["GATEWAY"]["ALLOW_PRIVATE_ENDPOINTS"] = True
    created = world.register(body={"callback": "http://127.0.0.1:9/listener"})
    assert created.status_code == 201, created.json


# -- how many ---------------------------------------------------------------------------------------------------


def test_the_same_callback_and_query_again_is_a_409_naming_the_hub_it_has(world):
    hub_id = world.register(body={"callback": CALLBACK, "query": "eventType=ProductCreateEvent"}).json["id"]
    again = world.register(body={"callback": CALLBACK, "query": "eventType=ProductCreateEvent"})
    assert hub_id in _assert_tmf_error(again, 409)["message"]
    every = world.register(body={"callback": CALLBACK}).json["id"]
    for blank in ("", "  "):  # no query, an empty one and a blank one all ask for every event
        assert every in _assert_tmf_error(world.register(body={"callback": CALLBACK, "query": blank}), 409)["message"]
    assert world.hubs() == 2
    # The other API's hub is another hub; once this one is removed, it may be registered again.
    assert world.register(ORDERING).status_code == 201
    assert world.client.delete(f"{INVENTORY}/hub/{every}", headers=world.partner).status_code == 204
    assert world.register().status_code == 201


def test_a_partner_has_at_most_ten_hubs_on_each_api(world):
    ids = [world.register(body={"callback": f"{CALLBACK}/{n}"}).json["id"] for n in range(10)]
    refused = _assert_tmf_error(world.register(body={"callback": f"{CALLBACK}/10"}), 409)
    assert "at most 10 hubs" in refused["message"]
    assert world.hubs() == 10
    # Counted per partner and API; a removed hub makes room.
    assert world.register(ORDERING).status_code == 201
    assert world.register(headers=world.other).status_code == 201
    assert world.client.delete(f"{INVENTORY}/hub/{ids[0]}", headers=world.partner).status_code == 204
    assert world.register(body={"callback": f"{CALLBACK}/10"}).status_code == 201


# -- whose hub ---------------------------------------------------------------------------------------------------


def test_another_partners_hub_the_other_apis_and_a_plain_endpoint_are_not_found(world):
    hub_id = world.register().json["id"]
    endpoint_id = world.seed.endpoint("nordlink")
    for method in ("get", "delete"):
        call = getattr(world.client, method)
        _assert_tmf_error(call(f"{INVENTORY}/hub/{hub_id}", headers=world.other), 404)
        _assert_tmf_error(call(f"{ORDERING}/hub/{hub_id}", headers=world.partner), 404, ORDERING)
        _assert_tmf_error(call(f"{INVENTORY}/hub/{endpoint_id}", headers=world.partner), 404)
        _assert_tmf_error(call(f"{INVENTORY}/hub/no-such-hub", headers=world.partner), 404)
    assert world.client.get(f"{INVENTORY}/hub/{hub_id}", headers=world.partner).status_code == 200, "still there"


# -- who may -----------------------------------------------------------------------------------------------------


def test_reading_needs_events_read_and_registering_or_removing_subscriptions_write(world):
    hub_id = world.register(headers=world.writer).json["id"]
    _assert_tmf_error(world.register(headers=world.reader), 403)
    _assert_tmf_error(world.client.delete(f"{INVENTORY}/hub/{hub_id}", headers=world.reader), 403)
    _assert_tmf_error(world.client.get(f"{INVENTORY}/hub/{hub_id}", headers=world.writer), 403)
    assert world.client.get(f"{INVENTORY}/hub/{hub_id}", headers=world.reader).status_code == 200
    _assert_tmf_error(world.client.post(f"{INVENTORY}/hub", json={"callback": CALLBACK}), 401)
    _assert_tmf_error(world.client.get(f"{INVENTORY}/hub/{hub_id}"), 401)
    _assert_tmf_error(world.register(headers=world.operator), 403)
    assert world.hubs() == 1


# -- a hub among the partner's endpoints -------------------------------------------------------------------------


def test_the_partners_endpoint_list_shows_a_hub_marked_as_one_until_it_is_removed(world):
    endpoint_id = world.seed.endpoint("nordlink")
    hub_id = world.register(body={"callback": CALLBACK, "query": "eventType=ProductStateChangeEvent"}).json["id"]
    listed = world.client.get("/v1/webhook-endpoints", headers=world.partner).json["items"]
    by_id = {item["id"]: item for item in listed}
    assert set(by_id) == {endpoint_id, hub_id}
    assert by_id[hub_id]["description"] == "TM Forum hub (productInventory): eventType=ProductStateChangeEvent"
    assert by_id[hub_id]["url"] == CALLBACK and by_id[hub_id]["status"] == "enabled"
    assert world.client.get(f"/v1/webhook-endpoints/{hub_id}", headers=world.partner).status_code == 200
    operator_view = world.client.get("/admin/v1/partners/nordlink/webhook-endpoints", headers=world.operator)
    assert hub_id in {item["id"] for item in operator_view.json["items"]}

    assert world.client.delete(f"{INVENTORY}/hub/{hub_id}", headers=world.partner).status_code == 204
    listed = world.client.get("/v1/webhook-endpoints", headers=world.partner).json["items"]
    assert [item["id"] for item in listed] == [endpoint_id]


def test_a_test_event_names_the_plain_endpoints_only(world):
    endpoint_id = world.seed.endpoint("nordlink")
    world.register()
    asked = world.client.post("/v1/test-event", headers=world.partner)
    assert asked.status_code == 202 and asked.json["endpoint_ids"] == [endpoint_id]


# -- the demo's printed commands ---------------------------------------------------------------------------------


def test_the_demos_printed_tmf_commands_are_answered_as_they_say(world):
    """`gateway demo` prints these for its TM Forum partner: each, sent as printed (its URL, key and body), reads
    the products, places the order (201, completed) and registers one more hub, once (again: a 409)."""
    world.app.config["GATEWAY"]["ALLOW_PRIVATE_ENDPOINTS"] = True  # as the demo serves: its receiver is on loopback
    keys = seed_demo(world.store, now=utcnow(), receiver_url="http://127.0.0.1:8001/hooks")
    printed = tmf_try_commands(
        keys, "http://localhost", partner_ref="cust-demo-tmf", receiver_url="http://127.0.0.1:8001/hooks"
    )
    commands = printed.replace("\\\n", " ").splitlines()  # a continued line joined
    sent = []
    for command in commands:
        words = shlex.split(command.partition("#")[0])
        url = next(word for word in words if word.startswith("http://localhost/"))
        headers = dict(words[i + 1].split(": ", 1) for i, word in enumerate(words) if word == "-H")
        body = words[words.index("-d") + 1] if "-d" in words else None
        method = "post" if body is not None else "get"
        sent.append(getattr(world.client, method)(url.removeprefix("http://localhost"), data=body, headers=headers))
    products, order, hub = sent
    assert products.status_code == 200 and len(products.json) == 3  # the demo's inactive members
    assert order.status_code == 201 and order.json["state"] == "completed", order.json
    assert hub.status_code == 201 and hub.json["query"] == "eventType=ProductStateChangeEvent"
    again = world.client.post(f"{INVENTORY}/hub", data=words[words.index("-d") + 1], headers=headers)
    assert hub.json["id"] in _assert_tmf_error(again, 409)["message"]
