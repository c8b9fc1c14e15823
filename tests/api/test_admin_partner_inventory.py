"""The operator sets, shows and clears a partner's own TMF637 inventory over HTTP: URL and token together, the token
never shown back, the URL held to the webhook endpoints' rules, every mistake a 422 naming its field."""

from __future__ import annotations

import pytest

from gateway.domain.keys import KeyKind
from tests.support.api import bearer

URL = "https://inventory.nordlink.example/tmf-api/productInventory/v4"
TOKEN = "eyJhbGciOi.partner-issued.token"  # what the partner issued the gateway


@pytest.fixture
def operator(seed):
    seed.partner("nordlink")
    return bearer(seed.token(KeyKind.OPERATOR))


def _inventory(client, operator):
    return client.get("/admin/v1/partners/nordlink/inventory", headers=operator)


def test_url_and_token_are_set_together_and_the_token_is_never_shown(client, operator):
    assert _inventory(client, operator).json == {"url": None, "token_set": False}
    before = client.get("/admin/v1/partners/nordlink", headers=operator).headers["ETag"]

    response = client.put(
        "/admin/v1/partners/nordlink/inventory", json={"url": URL + "/", "token": TOKEN}, headers=operator
    )

    assert response.status_code == 200 and response.json == {"url": URL, "token_set": True}
    assert _inventory(client, operator).json == {"url": URL, "token_set": True}
    assert TOKEN not in response.get_data(as_text=True) + _inventory(client, operator).get_data(as_text=True)
    assert client.get("/admin/v1/partners/nordlink", headers=operator).headers["ETag"] != before

    # a new URL without a token presents none: the old token does not follow the partner elsewhere
    moved = client.put("/admin/v1/partners/nordlink/inventory", json={"url": URL + "2"}, headers=operator)
    assert moved.json == {"url": URL + "2", "token_set": False}


def test_clearing_forgets_both(client, operator):
    client.put("/admin/v1/partners/nordlink/inventory", json={"url": URL, "token": TOKEN}, headers=operator)
    assert client.delete("/admin/v1/partners/nordlink/inventory", headers=operator).status_code == 204
    assert _inventory(client, operator).json == {"url": None, "token_set": False}


@pytest.mark.parametrize(
    ("body", "field", "said"),
    [
        ({"url": "http://inventory.nordlink.example/v4"}, "url", "The inventory must be reached over https."),
        ({"url": "https://10.0.0.7/v4"}, "url", "The inventory must be public"),
        ({"url": "https://localhost/v4"}, "url", "The inventory must be public"),
        ({"url": URL + "/product"}, "url", "without /product"),
        ({"url": URL + "?limit=10"}, "url", "without a query or fragment"),
        ({"url": "inventory.nordlink.example"}, "url", "An absolute http(s) URL"),
        ({"token": TOKEN}, "url", "Missing data for required field."),
        ({"url": URL, "token": "two words"}, "token", "A bearer token: 1 to 4096 visible ASCII characters"),
        ({"url": URL, "token": TOKEN + "\r\nX-Injected: yes"}, "token", "A bearer token"),
        ({"url": URL, "token": ""}, "token", "A bearer token"),
        ({"url": URL, "token": "x" * 4097}, "token", "A bearer token"),
        ({"url": URL, "token": 42}, "token", "Not a valid string."),
    ],
)
def test_a_url_or_token_that_cannot_serve_is_a_422_naming_the_field_and_changes_nothing(
    client, operator, body, field, said
):
    response = client.put("/admin/v1/partners/nordlink/inventory", json=body, headers=operator)
    assert response.status_code == 422
    [error] = response.json["errors"]
    assert error["field"] == field and said in error["detail"]
    if isinstance(body.get("token"), str) and body["token"]:
        assert body["token"][:20] not in response.get_data(as_text=True)
    assert _inventory(client, operator).json == {"url": None, "token_set": False}


def test_an_unknown_partner_is_a_404(client, operator):
    assert client.get("/admin/v1/partners/nobody/inventory", headers=operator).status_code == 404
    put = client.put("/admin/v1/partners/nobody/inventory", json={"url": URL}, headers=operator)
    assert put.status_code == 404
    assert client.delete("/admin/v1/partners/nobody/inventory", headers=operator).status_code == 404


def test_a_partners_own_key_cannot_read_or_set_it(client, seed, operator):
    partner = bearer(seed.token(KeyKind.PARTNER, "nordlink"))
    assert _inventory(client, partner).status_code == 403
    put = client.put("/admin/v1/partners/nordlink/inventory", json={"url": URL}, headers=partner)
    assert put.status_code == 403
