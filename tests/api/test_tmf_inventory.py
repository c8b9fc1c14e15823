"""TMF637 Product Inventory over HTTP: a partner's subscriptions as Products, TMF630 queries (fields, filters,
offset/limit with the count headers and 206), and every refusal as a TMF Error. Every body the API answers in
these tests is validated against the official TMF637 definitions, strict (ConformingClient)."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from gateway import create_app
from gateway.domain.keys import KeyKind, Scope
from gateway.domain.lifecycle import Actor, Command
from gateway.domain.partners import PartnerStatus
from gateway.services import partners as partner_service
from gateway.services import subscriptions as subscription_service
from gateway.store.models import Subscription
from tests.support.api import app_store, bearer
from tests.support.seeding import Seeder, add_subscription
from tests.support.store import POSTGRES_SKIP_REASON, POSTGRES_URL_VARIABLE
from tests.support.tmf_conformance import assert_all_conform, assert_conforms

API = "/tmf-api/productInventory/v4"
JANUARY = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
FEBRUARY = datetime(2026, 2, 10, 8, 0, tzinfo=UTC)
MARCH = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


class ConformingClient(FlaskClient):
    """A test client that holds every answer of the inventory API to the spec: a Product, a list of Products, or
    for any refusal an Error."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        if response.request.path.startswith(API + "/") and response.data:
            body = response.get_json()
            if response.status_code >= 400:
                assert_conforms(body, "Error")
            else:
                assert_all_conform(body if isinstance(body, list) else [body], "Product")
        return response


def tmf_client(app) -> ConformingClient:
    app.test_client_class = ConformingClient
    return app.test_client()


@pytest.fixture
def client(app):
    return tmf_client(app)


def _apply(session, subscription, command, actor, reason, now):
    return subscription_service.apply_command(session, subscription, command, actor=actor, reason=reason, now=now)


# How to bring a new subscription (created at `now`, activated unless pending) to each state, through the
# lifecycle's own commands: (activate?, [(command, actor, reason, days after creation)]).
STATES = {
    "pending": (False, []),
    "active": (True, []),
    "suspended": (True, [(Command.SUSPEND, Actor.PARTNER, "non_payment", 1)]),
    "cancellation_scheduled": (True, [(Command.SCHEDULE_CANCELLATION, Actor.PARTNER, "member_request", 1)]),
    "terminated": (True, [(Command.CANCEL_NOW, Actor.PARTNER, "partner_churn", 2)]),
    "activation_expired": (False, [(Command.EXPIRE_ACTIVATION, Actor.SCHEDULER, "activation_expired", 31)]),
    "purged": (
        True,
        [
            (Command.CANCEL_NOW, Actor.PARTNER, "partner_churn", 2),
            (Command.PURGE, Actor.SCHEDULER, "retention_expired", 400),
        ],
    ),
}


def make(store, partner: str, ref: str, state: str = "active", *, now: datetime = JANUARY) -> str:
    activate, steps = STATES[state]
    with store.transaction() as session:
        subscription = add_subscription(session, partner, ref, now=now, active=activate)
        for command, actor, reason, days in steps:
            _apply(session, subscription, command, actor, reason, now + timedelta(days=days))
        return subscription.id


def assert_tmf_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert_conforms(response.json, "Error")
    assert response.json["status"] == str(status) and response.json["@type"] == "Error"
    if code is not None:
        assert response.json["code"] == code, response.json
    assert "Traceback" not in response.get_data(as_text=True)
    return response.json


@pytest.fixture
def world(app, seed):
    seed.partner("nordlink")
    seed.partner("southtel")
    return {
        "store": app_store(app),
        "nordlink": bearer(seed.token(KeyKind.PARTNER, "nordlink")),
        "southtel": bearer(seed.token(KeyKind.PARTNER, "southtel")),
    }


# --- one product -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("pending", "pendingActive"),
        ("active", "active"),
        ("suspended", "suspended"),
        ("cancellation_scheduled", "pendingTerminate"),
        ("terminated", "terminated"),
        ("activation_expired", "cancelled"),
    ],
)
def test_a_subscription_reads_as_a_conforming_product_in_each_state(client, world, state, status):
    subscription_id = make(world["store"], "nordlink", "cust-1", state)
    response = client.get(f"{API}/product/{subscription_id}", headers=world["nordlink"])
    assert response.status_code == 200 and response.mimetype == "application/json"
    product = response.json
    assert_conforms(product, "Product")
    assert product["status"] == status
    assert product["id"] == subscription_id
    assert product["href"] == f"http://localhost{API}/product/{subscription_id}"  # absolute, where it is read
    assert client.get(product["href"], headers=world["nordlink"]).json == product
    assert product["@type"] == "Product"
    assert product["productOffering"] == {"id": "standard", "name": "Standard", "@referredType": "ProductOffering"}
    assert product["orderDate"] == JANUARY.isoformat()
    assert {party["role"]: party["id"] for party in product["relatedParty"]} == {
        "seller": "nordlink",
        "customer": "cust-1",
    }
    assert ("startDate" in product) == (state not in ("pending", "activation_expired"))


def test_the_dates_and_characteristics_say_when_access_ends(client, world):
    scheduled = make(world["store"], "nordlink", "cust-1", "cancellation_scheduled")
    terminated = make(world["store"], "nordlink", "cust-2", "terminated")
    with world["store"].read() as session:
        access_until = session.get(Subscription, scheduled).access_until
    product = client.get(f"{API}/product/{scheduled}", headers=world["nordlink"]).json
    assert product["terminationDate"] == access_until.isoformat()
    characteristics = {item["name"]: item["value"] for item in product["productCharacteristic"]}
    assert characteristics["accessUntil"] == access_until.isoformat()
    assert characteristics["market"] == "DE" and characteristics["locale"] == "de-DE"
    assert characteristics["billedBy"] == "partner" and characteristics["billingAnchor"] == "2026-01-10"
    ended = client.get(f"{API}/product/{terminated}", headers=world["nordlink"]).json
    assert ended["terminationDate"] == (JANUARY + timedelta(days=2)).isoformat()  # when it was cancelled


def test_a_purged_subscription_an_unknown_id_and_another_partners_product_are_all_404(client, world):
    purged = make(world["store"], "nordlink", "cust-1", "purged")
    theirs = make(world["store"], "southtel", "cust-2")
    for product_id in (purged, theirs, "sub_nope", "x" * 500):
        error = assert_tmf_error(client.get(f"{API}/product/{product_id}", headers=world["nordlink"]), 404)
        assert error["code"] == "not-found" and error["message"] == f"No product {product_id!r}."
    assert client.get(f"{API}/product/{theirs}", headers=world["southtel"]).status_code == 200


def test_fields_selects_attributes_and_keeps_id_and_href(client, world):
    subscription_id = make(world["store"], "nordlink", "cust-1")
    url = f"{API}/product/{subscription_id}"
    selected = client.get(f"{url}?fields=status,relatedParty", headers=world["nordlink"]).json
    assert set(selected) == {"id", "href", "status", "relatedParty"}
    assert_conforms(selected, "Product")
    # An attribute of the spec the gateway never fills selects nothing; spaces around names are read away.
    assert set(client.get(f"{url}?fields= status , description", headers=world["nordlink"]).json) == {
        "id",
        "href",
        "status",
    }


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("fields=statuz", "fields"),
        ("fields=", "fields"),
        ("fields=status,,name", "fields"),
        ("fields=relatedParty.id", "fields"),
        ("fields=status&fields=name", "fields"),
    ],
)
def test_a_selection_that_cannot_be_read_is_a_tmf_400(client, world, query, parameter):
    subscription_id = make(world["store"], "nordlink", "cust-1")
    error = assert_tmf_error(client.get(f"{API}/product/{subscription_id}?{query}", headers=world["nordlink"]), 400)
    assert error["message"].startswith(f"{parameter}: ")
    listed = assert_tmf_error(client.get(f"{API}/product?{query}", headers=world["nordlink"]), 400)
    assert listed["message"] == error["message"]


# --- the collection ---------------------------------------------------------------------------------------------


def test_the_list_is_the_partners_own_products_oldest_order_first(client, world):
    first = make(world["store"], "nordlink", "cust-1", now=JANUARY)
    second = make(world["store"], "nordlink", "cust-2", "pending", now=FEBRUARY)
    make(world["store"], "nordlink", "cust-3", "purged", now=JANUARY)  # gone: neither listed nor counted
    make(world["store"], "southtel", "cust-4")
    response = client.get(f"{API}/product", headers=world["nordlink"])
    assert response.status_code == 200  # the whole result
    assert_all_conform(response.json, "Product")
    assert [product["id"] for product in response.json] == [first, second]
    assert response.headers["X-Total-Count"] == "2" and response.headers["X-Result-Count"] == "2"


def test_a_page_that_is_not_the_whole_result_is_206_with_both_counts(client, world):
    ids = [make(world["store"], "nordlink", f"cust-{n}", now=JANUARY + timedelta(hours=n)) for n in range(5)]
    pages = []
    for offset in (0, 2, 4):
        response = client.get(f"{API}/product?offset={offset}&limit=2", headers=world["nordlink"])
        assert response.status_code == 206, response.get_data(as_text=True)
        assert response.headers["X-Total-Count"] == "5"
        assert response.headers["X-Result-Count"] == str(len(response.json))
        assert_all_conform(response.json, "Product")
        pages += [product["id"] for product in response.json]
    assert pages == ids
    for query, count in (("offset=5", 0), ("offset=99999999999", 0), ("limit=0", 0), ("offset=1", 4)):
        response = client.get(f"{API}/product?{query}", headers=world["nordlink"])
        assert (response.status_code, response.headers["X-Result-Count"], len(response.json)) == (
            206,
            str(count),
            count,
        )
        assert response.headers["X-Total-Count"] == "5"
    whole = client.get(f"{API}/product?offset=0&limit=5", headers=world["nordlink"])
    assert whole.status_code == 200 and len(whole.json) == 5


def test_an_empty_result_is_the_whole_result(client, world):
    response = client.get(f"{API}/product", headers=world["nordlink"])
    assert (response.status_code, response.json, response.headers["X-Total-Count"]) == (200, [], "0")


def test_the_list_selects_fields_too(client, world):
    make(world["store"], "nordlink", "cust-1")
    [product] = client.get(f"{API}/product?fields=orderDate", headers=world["nordlink"]).json
    assert set(product) == {"id", "href", "orderDate"}


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
        ("limit=1.5", "limit"),
        ("limit=%2B5", "limit"),  # +5
        ("limit=", "limit"),
        ("offset=-3", "offset"),
        ("offset=1e3", "offset"),
        ("offset=1&offset=2", "offset"),
        ("status=live", "status"),
        ("status=active,", "status"),
        ("productOffering.id=gold", "productOffering.id"),
        ("orderDate.gt=yesterday", "orderDate.gt"),
        ("orderDate.gt=2026-02-30", "orderDate.gt"),
        ("orderDate.lt=0001-01-01T00:00:00%2B01:00", "orderDate.lt"),  # before the calendar starts, in UTC
        ("orderDate.gt=2026-01-01&orderDate.gt=2026-02-01", "orderDate.gt"),
        ("relatedParty.id=%20%20", "relatedParty.id"),
        ("relatedParty.id=a%09b", "relatedParty.id"),  # a tab inside: no reference holds one
    ],
)
def test_query_values_that_cannot_be_read_are_a_tmf_400_naming_the_parameter(client, world, query, parameter):
    make(world["store"], "nordlink", "cust-1")
    error = assert_tmf_error(client.get(f"{API}/product?{query}", headers=world["nordlink"]), 400, "invalid-query")
    assert error["message"].startswith(f"{parameter}: "), error
    assert error["reason"] == f"Invalid query parameter '{parameter}'"


@pytest.mark.parametrize(
    "query",
    [
        "statuz=active",  # a misspelt filter is refused, never ignored
        "orderDate=2026-01-10",  # dates compare with .gt .gte .lt .lte only
        "orderDate.eq=2026-01-10",
        "relatedParty.name=x",
        "sort=orderDate",
    ],
)
def test_a_parameter_the_query_does_not_take_is_a_tmf_400(client, world, query):
    error = assert_tmf_error(client.get(f"{API}/product?{query}", headers=world["nordlink"]), 400, "bad-request")
    assert query.partition("=")[0] in error["message"]


def test_text_no_store_can_hold_is_a_tmf_400_not_a_422(client, world):
    assert_tmf_error(client.get(f"{API}/product?relatedParty.id=a%00b", headers=world["nordlink"]), 400)
    assert_tmf_error(client.get(f"{API}/product/sub%00x", headers=world["nordlink"]), 404)


# --- filters, on both backends -----------------------------------------------------------------------------------


@pytest.fixture
def filtered(backend_app):
    """nordlink's products in every state, ordered a month apart (and southtel's one, never seen)."""
    store = app_store(backend_app)
    seed = Seeder(store)
    seed.partner("nordlink")
    seed.partner("southtel")
    ids = {
        "pending": make(store, "nordlink", "cust-pending", "pending", now=JANUARY),
        "active": make(store, "nordlink", "cust-active", "active", now=FEBRUARY),
        "suspended": make(store, "nordlink", "cust-suspended", "suspended", now=MARCH),
        "scheduled": make(store, "nordlink", "cust-scheduled", "cancellation_scheduled", now=JANUARY),
        "terminated": make(store, "nordlink", "cust-terminated", "terminated", now=FEBRUARY),
        "expired": make(store, "nordlink", "cust-expired", "activation_expired", now=MARCH),
        "purged": make(store, "nordlink", "cust-purged", "purged", now=JANUARY),
    }
    make(store, "southtel", "cust-active", "active", now=FEBRUARY)
    client = tmf_client(backend_app)
    token = bearer(seed.token(KeyKind.PARTNER, "nordlink"))

    def found(query: str) -> set[str]:
        response = client.get(f"{API}/product?{query}", headers=token)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert_all_conform(response.json, "Product")
        assert response.headers["X-Total-Count"] == str(len(response.json))
        names = {name for name, subscription_id in ids.items() if subscription_id in {p["id"] for p in response.json}}
        assert len(names) == len(response.json)  # nothing of southtel's
        return names

    return found


FILTER_CASES = [
    ("status=active", {"active"}),
    ("status=terminated", {"terminated"}),  # cancelled after it was active
    ("status=cancelled", {"expired"}),  # cancelled before it ever was
    ("status=pendingActive,suspended", {"pending", "suspended"}),
    ("status=pendingTerminate&status=terminated", {"scheduled", "terminated"}),
    ("status=created", set()),  # a status of the spec the gateway never uses
    ("status=aborted%20", set()),  # nor the spec's own "aborted " (sic)
    ("relatedParty.id=cust-active", {"active"}),
    ("relatedParty.id=%20cust-active%20", {"active"}),  # a reference in its normal form, as everywhere
    ("relatedParty.id=cust-active&relatedParty.id=cust-pending", {"active", "pending"}),
    ("relatedParty.id=cust-purged", set()),
    ("relatedParty.id=nordlink", {"pending", "active", "suspended", "scheduled", "terminated", "expired"}),
    ("productOffering.id=standard&status=active", {"active"}),
    ("productOffering.id=premium", set()),
    ("orderDate.gt=2026-02-10T08:00:00Z", {"suspended", "expired"}),
    ("orderDate.gte=2026-02-10T08:00:00Z", {"active", "terminated", "suspended", "expired"}),
    ("orderDate.gte=2026-02-10T09:00:00%2B01:00", {"active", "terminated", "suspended", "expired"}),
    ("orderDate.gte=2026-02-10T09:00:00 01:00", {"active", "terminated", "suspended", "expired"}),  # "+" as sent
    ("orderDate.lt=2026-02-01", {"pending", "scheduled"}),
    ("orderDate.gt=2026-01-01&orderDate.lte=2026-01-10T08:00:00", {"pending", "scheduled"}),
    ("startDate.gte=2026-02-01", {"active", "terminated", "suspended"}),  # not yet started: no startDate
    ("terminationDate.lt=2026-03-01", {"terminated", "scheduled"}),
    ("terminationDate.gt=2026-03-01", {"expired"}),
    ("status=active&orderDate.lt=2026-02-01", set()),
]


def test_filters_find_products_by_what_get_shows_of_them(filtered):
    # One store per backend for all the cases (each is a read): setting it up is most of the time.
    wrong = {query: (found, expected) for query, expected in FILTER_CASES if (found := filtered(query)) != expected}
    assert not wrong, "\n".join(
        f"{query}: found {found}, expected {expected}" for query, (found, expected) in wrong.items()
    )


# --- refusals in the TMF shape -----------------------------------------------------------------------------------


def test_auth_failures_are_tmf_errors_with_their_status_and_www_authenticate(client, world, seed):
    subscription_id = make(world["store"], "nordlink", "cust-1")
    for url in (f"{API}/product", f"{API}/product/{subscription_id}"):
        missing = client.get(url)
        assert_tmf_error(missing, 401, "unauthenticated")
        assert missing.headers["WWW-Authenticate"] == 'Bearer realm="gateway"'
        assert_tmf_error(client.get(url, headers=bearer("gw_0123456789ab_" + "0" * 48)), 401, "unauthenticated")
        events_only = bearer(seed.token(KeyKind.PARTNER, "nordlink", scopes=[Scope.EVENTS_READ]))
        refused = client.get(url, headers=events_only)
        assert_tmf_error(refused, 403, "insufficient-scope")
        assert 'scope="subscriptions:read"' in refused.headers["WWW-Authenticate"]
        assert_tmf_error(client.get(url, headers=bearer(seed.token(KeyKind.OPERATOR))), 403, "insufficient-scope")
        assert client.get(url, headers=world["nordlink"]).status_code == 200


def test_a_suspended_partners_key_is_a_tmf_403(client, world):
    with world["store"].transaction() as session:
        partner_service.set_partner_status(session, "nordlink", PartnerStatus.SUSPENDED, now=JANUARY)
    assert_tmf_error(client.get(f"{API}/product", headers=world["nordlink"]), 403, "partner-suspended")


def test_routing_refusals_under_the_api_are_tmf_errors(client, world):
    unknown = assert_tmf_error(client.get(f"{API}/nothing-here", headers=world["nordlink"]), 404, "not-found")
    assert unknown["referenceError"] == "http://localhost/problems/not-found"
    not_allowed = client.delete(f"{API}/product/sub_1", headers=world["nordlink"])
    assert_tmf_error(not_allowed, 405, "method-not-allowed")
    assert "GET" in not_allowed.headers["Allow"]
    assert_tmf_error(client.post(f"{API}/product", json={}, headers=world["nordlink"]), 405)


@pytest.mark.parametrize(
    "path",
    [
        "/tmf-api/productInventory/v4",  # the API's root, without the trailing slash
        "/tmf-api/productInventory/v4/",
        "/tmf-api/productInventory/v5/product",  # a version the gateway does not serve
        "/tmf-api/productOrderingX/v4/x",  # an API it does not serve
        "/tmf-api",
        "/tmf-api/",
    ],
)
def test_every_refusal_under_tmf_api_is_a_tmf_error(client, world, path):
    assert_tmf_error(client.get(path, headers=world["nordlink"]), 404, "not-found")


def test_the_rest_of_the_gateway_keeps_problem_json(client, world):
    response = client.get("/v1/subscriptions/sub_nope", headers=world["nordlink"])
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    for path in ("/tmf-apix/productInventory/v4/product", "/tmf"):  # a root that only begins like it
        assert client.get(path).mimetype == "application/problem+json"


def test_the_tmf_api_spends_the_partners_budget_and_a_429_is_a_tmf_error(tmp_path, sqlite_database, migrated):
    migrated(sqlite_database)
    settings = {"INSTANCE_PATH": str(tmp_path), "LOG_LEVEL": "WARNING", "RATE_LIMITS": "partner=3/minute"}
    app = create_app({**settings, **sqlite_database.settings()})
    seed = Seeder(app_store(app))
    seed.partner("nordlink")
    token = bearer(seed.token(KeyKind.PARTNER, "nordlink"))
    client = tmf_client(app)
    assert client.get("/v1/subscriptions", headers=token).status_code == 200  # one budget for /v1 and TMF
    for _ in range(2):
        assert client.get(f"{API}/product", headers=token).status_code == 200
    refused = client.get(f"{API}/product", headers=token)
    assert_tmf_error(refused, 429, "rate-limited")
    assert int(refused.headers["Retry-After"]) >= 1 and refused.headers["X-RateLimit-Remaining"] == "0"
    app_store(app).dispose()


def test_a_store_out_of_reach_is_a_tmf_503_with_retry_after(tmp_path, postgres_url_closed):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "LOG_LEVEL": "CRITICAL", "DATABASE_URL": postgres_url_closed})
    client = tmf_client(app)
    for url in (f"{API}/product", f"{API}/product/sub_1"):
        response = client.get(url, headers=bearer("gw_0123456789ab_" + "0" * 48))
        assert_tmf_error(response, 503, "store-unavailable")
        assert response.headers["Retry-After"] == "5"
    app_store(app).dispose()


@pytest.fixture
def postgres_url_closed():
    """A PostgreSQL URL whose port nobody listens on (the driver fails to connect, as in an outage)."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(POSTGRES_SKIP_REASON)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(False)


def test_hrefs_use_the_public_url_when_one_is_set(tmp_path, sqlite_database, migrated):
    migrated(sqlite_database)
    settings = {"INSTANCE_PATH": str(tmp_path), "PUBLIC_URL": "https://gw.example.net/"}
    app = create_app({**settings, **sqlite_database.settings()})
    seed = Seeder(app_store(app))
    seed.partner("nordlink")
    subscription_id = make(app_store(app), "nordlink", "cust-1")
    client = tmf_client(app)
    product = client.get(f"{API}/product/{subscription_id}", headers=bearer(seed.token(KeyKind.PARTNER, "nordlink")))
    assert product.json["href"] == f"https://gw.example.net{API}/product/{subscription_id}"
    # An Error's referenceError is under the same address as the hrefs, not the one the request came in on.
    unknown = assert_tmf_error(
        client.get(f"{API}/product/nope", headers=bearer(seed.token(KeyKind.PARTNER, "nordlink"))), 404
    )
    assert unknown["referenceError"] == "https://gw.example.net/problems/not-found"
    app_store(app).dispose()
