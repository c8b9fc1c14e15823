"""Issue 18, data that should have been refused: a partner_ref in one normal form wherever one comes in, an
Idempotency-Key that compares JSON bodies as parsed, and query parameters an operation does not take."""

from __future__ import annotations

import json

import pytest

from gateway.domain.clock import utcnow
from gateway.domain.keys import KeyKind, Scope
from gateway.services import idempotency
from gateway.store.models import IdempotencyRecord
from tests.support.api import app_store, bearer
from tests.support.seeding import Seeder

NEW = {"partner_ref": "cust-1", "plan": "standard", "market": "DE", "billing_anchor": "2026-01-15"}


@pytest.fixture
def world(backend_app):
    """A partner's full key and its agents' key, on either backend."""
    seed = Seeder(app_store(backend_app))
    seed.partner("nordlink", markets=["DE"], locale="de-DE")
    return {
        "client": backend_app.test_client(),
        "partner": bearer(seed.token(KeyKind.PARTNER, "nordlink")),
        "agent": bearer(seed.token(KeyKind.PARTNER, "nordlink", {Scope.CALLCENTER})),
        "app": backend_app,
    }


def _fields(response) -> list[tuple[str, str]]:
    return [(error["location"], error["field"]) for error in response.json["errors"]]


# -- partner_ref ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("unusable", ["   ", "\t\n", "cust\t7\n", "cust\n7", "cust\x7f7", "cust\u00a07", "x" * 101])
def test_a_partner_ref_that_has_no_normal_form_is_refused_naming_it(world, unusable):
    client, partner = world["client"], world["partner"]

    response = client.post("/v1/subscriptions", json={**NEW, "partner_ref": unusable}, headers=partner)

    assert response.status_code == 422, response.get_data(as_text=True)
    assert _fields(response) == [("body", "partner_ref")]
    assert client.get("/v1/subscriptions", headers=partner).json["items"] == []


def test_a_partner_ref_is_stored_and_found_in_its_normal_form_everywhere(world):
    client, partner, agent = world["client"], world["partner"], world["agent"]
    created = client.post("/v1/subscriptions", json={**NEW, "partner_ref": " cust 6 \n"}, headers=partner)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.json["partner_ref"] == "cust 6"  # surrounding white space dropped, the inner space kept

    # The same customer padded another way is the same customer: a 409, not a second subscription.
    again = client.post("/v1/subscriptions", json={**NEW, "partner_ref": "cust 6\t"}, headers=partner)
    assert again.status_code == 409
    # The list filter, the agents' look-up and their escalations read it the same way.
    listed = client.get("/v1/subscriptions", query_string={"partner_ref": "  cust 6 "}, headers=partner)
    assert [item["id"] for item in listed.json["items"]] == [created.json["id"]]
    found = client.get("/v1/callcenter/lookup", query_string={"partner_ref": "cust 6\r\n"}, headers=agent)
    assert found.status_code == 200 and found.json["subscription"]["id"] == created.json["id"]
    case = {"partner_ref": " cust 6", "category": "billing", "description": "Charged twice.", "agent_ref": "ana"}
    opened = client.post("/v1/callcenter/escalations", json=case, headers=agent)
    assert opened.status_code == 201, opened.get_data(as_text=True)
    assert opened.json["subscription"] == {"id": created.json["id"], "partner_ref": "cust 6"}
    cases = client.get("/v1/callcenter/escalations", query_string={"partner_ref": "cust 6 "}, headers=agent)
    assert [item["id"] for item in cases.json["items"]] == [opened.json["id"]]


def test_a_query_partner_ref_with_no_normal_form_is_a_422_naming_it(world):
    client, partner, agent = world["client"], world["partner"], world["agent"]
    for path, headers in (("/v1/subscriptions", partner), ("/v1/callcenter/lookup", agent)):
        response = client.get(path, query_string={"partner_ref": "cust\t7"}, headers=headers)
        assert response.status_code == 422, path
        assert _fields(response) == [("query", "partner_ref")]
    blank = client.post(
        "/v1/callcenter/escalations",
        json={"partner_ref": "  ", "category": "billing", "description": "x", "agent_ref": "ana"},
        headers=agent,
    )
    assert blank.status_code == 422 and _fields(blank) == [("body", "partner_ref")]


def test_a_roster_row_padded_as_exports_do_names_the_subscription(world):
    client, partner = world["client"], world["partner"]
    client.post("/v1/subscriptions", json={**NEW, "partner_ref": "cust-6 "}, headers=partner)
    roster = "partner_ref,status,plan\n cust-6 ,active,standard\n"

    job = client.post("/v1/reconciliations", data=roster, content_type="text/csv", headers=partner)

    assert job.status_code in (201, 202), job.get_data(as_text=True)
    items = client.get(f"/v1/reconciliations/{job.json['id']}/items", headers=partner).json["items"]
    assert items == []  # neither only_at_partner nor only_at_gateway: the same customer


# -- Idempotency-Key -----------------------------------------------------------------------------------------------


def test_the_same_json_with_keys_in_another_order_is_a_retry_not_another_request(world):
    client, partner = world["client"], world["partner"]
    key = {**partner, "Idempotency-Key": "create-cust-1"}
    first = client.post("/v1/subscriptions", data=json.dumps(NEW), content_type="application/json", headers=key)
    assert first.status_code == 201

    reordered = json.dumps(dict(reversed(list(NEW.items()))), indent=2)
    retry = client.post("/v1/subscriptions", data=reordered, content_type="application/json", headers=key)

    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json["id"] == first.json["id"]
    other = client.post(
        "/v1/subscriptions", json={**NEW, "partner_ref": "cust-2"}, headers=key
    )  # another document is another request
    assert other.status_code == 422 and _fields(other) == [("header", "Idempotency-Key")]


def test_a_key_claimed_before_the_upgrade_still_recognises_its_retry(world):
    """A key stored with the raw-bytes fingerprint of the release before (within its lifetime at the upgrade):
    the retry, sent byte for byte again, gets the stored response, not a 422."""
    client, partner, app = world["client"], world["partner"], world["app"]
    body = json.dumps(NEW, indent=1).encode()  # not the canonical form: the two fingerprints differ
    path = "/v1/subscriptions"
    assert idempotency.fingerprint("POST", path, body) != idempotency.fingerprint_as_bytes("POST", path, body)
    with app_store(app).transaction() as session:
        session.add(
            IdempotencyRecord(
                owner="partner:nordlink",
                key="old-key",
                fingerprint=idempotency.fingerprint_as_bytes("POST", path, body),
                status_code=201,
                body='{"id": "sub_from_before"}',
                headers={"Content-Type": "application/json"},
                created_at=utcnow(),
            )
        )

    retry = client.post(
        path, data=body, content_type="application/json", headers={**partner, "Idempotency-Key": "old-key"}
    )

    assert retry.status_code == 201 and retry.json == {"id": "sub_from_before"}
    assert retry.headers["Idempotent-Replayed"] == "true"


# -- query parameters ----------------------------------------------------------------------------------------------


def test_an_unknown_query_parameter_is_a_400_naming_it(world):
    client, partner = world["client"], world["partner"]
    response = client.get("/v1/events?afterr=abc&limit=5", headers=partner)

    assert response.status_code == 400
    assert response.json["type"] == "/problems/bad-request"
    assert _fields(response) == [("query", "afterr")]
    assert "after, limit, type" in response.json["errors"][0]["detail"]


def test_an_operation_without_a_query_schema_takes_no_query_parameter(world):
    client, partner = world["client"], world["partner"]
    created = client.post("/v1/subscriptions", json=NEW, headers=partner).json

    response = client.get(f"/v1/subscriptions/{created['id']}?fields=id", headers=partner)

    assert response.status_code == 400 and _fields(response) == [("query", "fields")]
    assert "takes none" in response.json["errors"][0]["detail"]
    assert client.get(f"/v1/subscriptions/{created['id']}", headers=partner).status_code == 200


def test_an_event_type_filter_names_a_type_the_gateway_sends(world):
    client, partner = world["client"], world["partner"]
    refused = client.get("/v1/events?type=nope", headers=partner)
    assert refused.status_code == 422 and _fields(refused) == [("query", "type")]
    assert "subscription.activated" in refused.json["errors"][0]["detail"]
    assert client.get("/v1/events?type=subscription.activated", headers=partner).status_code == 200
    deliveries = client.get("/v1/deliveries?type=nope", headers=partner)
    assert deliveries.status_code == 422 and _fields(deliveries) == [("query", "type")]
