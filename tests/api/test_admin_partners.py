"""The operator's partner registry over HTTP: onboarding, listing, edits guarded by ETag, suspension."""

from __future__ import annotations

import pytest

from gateway.domain.keys import KeyKind
from tests.support.api import bearer

NEW_PARTNER = {
    "code": "nordlink",
    "display_name": "Nordlink",
    "markets": ["DE", "AT"],
    "default_locale": "DE-at",
    "webhook_urls": ["https://hooks.nordlink.example/gw"],
}


@pytest.fixture
def operator(seed):
    return bearer(seed.token(KeyKind.OPERATOR))


def test_onboarding_sorts_markets_canonicalises_the_locale_and_returns_an_etag(client, operator):
    response = client.post("/admin/v1/partners", json=NEW_PARTNER, headers=operator)
    assert response.status_code == 201
    body = response.json
    assert body["markets"] == ["AT", "DE"]
    assert body["default_locale"] == "de-AT"
    assert body["status"] == "active"
    assert body["flavour"] == "standard"
    assert response.headers["ETag"] == '"v1"'
    endpoints = client.get("/admin/v1/partners/nordlink/webhook-endpoints", headers=operator).json["items"]
    assert [endpoint["url"] for endpoint in endpoints] == NEW_PARTNER["webhook_urls"]


def test_a_duplicate_code_is_a_409_and_changes_nothing(client, operator):
    client.post("/admin/v1/partners", json=NEW_PARTNER, headers=operator)
    again = client.post("/admin/v1/partners", json={**NEW_PARTNER, "display_name": "Other"}, headers=operator)
    assert again.status_code == 409
    assert client.get("/admin/v1/partners/nordlink", headers=operator).json["display_name"] == "Nordlink"


def test_lower_case_markets_are_refused_naming_the_item(client, operator):
    response = client.post("/admin/v1/partners", json={**NEW_PARTNER, "markets": ["DE", "at"]}, headers=operator)
    assert response.status_code == 422
    assert [error["field"] for error in response.json["errors"]] == ["markets.1"]


def test_an_unknown_flavour_is_rejected(client, operator):
    response = client.post("/admin/v1/partners", json={**NEW_PARTNER, "flavour": "carrier-pigeon"}, headers=operator)
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "flavour"


def test_a_bad_webhook_url_rejects_the_whole_partner(client, operator):
    response = client.post("/admin/v1/partners", json={**NEW_PARTNER, "webhook_urls": ["ftp://x"]}, headers=operator)
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "webhook_urls.0"
    assert client.get("/admin/v1/partners/nordlink", headers=operator).status_code == 404


def test_listing_pages_with_a_cursor_and_filters(client, operator, seed):
    for code, market in [("aa", "DE"), ("bb", "FR"), ("cc", "DE"), ("dd", "DE")]:
        seed.partner(code, markets=[market])
    first = client.get("/admin/v1/partners?limit=2&market=DE", headers=operator).json
    assert [item["code"] for item in first["items"]] == ["aa", "cc"]
    second = client.get(f"/admin/v1/partners?limit=2&market=DE&cursor={first['next_cursor']}", headers=operator).json
    assert [item["code"] for item in second["items"]] == ["dd"]
    assert second["next_cursor"] is None
    client.post("/admin/v1/partners/bb/suspend", headers=operator)
    suspended = client.get("/admin/v1/partners?status=suspended", headers=operator).json["items"]
    assert [item["code"] for item in suspended] == ["bb"]


def test_a_forged_cursor_is_a_422(client, operator):
    response = client.get("/admin/v1/partners?cursor=WyJhIiwiYiJd", headers=operator)  # ["a","b"]: wrong arity
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "cursor"


def test_patch_with_the_current_etag_applies_and_bumps_it(client, operator, seed):
    seed.partner("nordlink")
    etag = client.get("/admin/v1/partners/nordlink", headers=operator).headers["ETag"]
    response = client.patch(
        "/admin/v1/partners/nordlink", json={"markets": ["DK", "SE"]}, headers={**operator, "If-Match": etag}
    )
    assert response.status_code == 200
    assert response.json["markets"] == ["DK", "SE"]
    assert response.headers["ETag"] == '"v2"'


def test_patch_with_a_stale_etag_is_a_412_and_changes_nothing(client, operator, seed):
    seed.partner("nordlink")
    stale = client.get("/admin/v1/partners/nordlink", headers=operator).headers["ETag"]
    client.patch("/admin/v1/partners/nordlink", json={"display_name": "First"}, headers=operator)
    response = client.patch(
        "/admin/v1/partners/nordlink",
        json={"display_name": "Second"},
        headers={**operator, "If-Match": stale},
    )
    assert response.status_code == 412
    assert client.get("/admin/v1/partners/nordlink", headers=operator).json["display_name"] == "First"


def test_an_operator_sets_shows_and_clears_the_partners_time_zone(client, operator, seed):
    seed.partner("nordlink")
    assert client.get("/admin/v1/partners/nordlink", headers=operator).json["time_zone"] is None

    set_zone = client.patch("/admin/v1/partners/nordlink", json={"time_zone": "America/Sao_Paulo"}, headers=operator)
    other_edit = client.patch("/admin/v1/partners/nordlink", json={"display_name": "Nordlink"}, headers=operator)
    assert set_zone.status_code == 200 and set_zone.json["time_zone"] == "America/Sao_Paulo"
    assert other_edit.json["time_zone"] == "America/Sao_Paulo"  # left out: kept
    listed = client.get("/admin/v1/partners", headers=operator).json["items"]
    assert [partner["time_zone"] for partner in listed if partner["code"] == "nordlink"] == ["America/Sao_Paulo"]

    cleared = client.patch("/admin/v1/partners/nordlink", json={"time_zone": None}, headers=operator)
    assert cleared.status_code == 200 and cleared.json["time_zone"] is None
    assert cleared.headers["ETag"] == '"v4"'


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus_Mons", "europe/berlin", "", "Europe/Berlin ", "../../etc/passwd", "x" * 200, 7, ["UTC"]]
)
def test_a_time_zone_zoneinfo_does_not_know_is_a_422_naming_the_field_and_changes_nothing(client, operator, seed, zone):
    seed.partner("nordlink")
    client.patch("/admin/v1/partners/nordlink", json={"time_zone": "Europe/Vienna"}, headers=operator)

    response = client.patch("/admin/v1/partners/nordlink", json={"time_zone": zone}, headers=operator)

    assert response.status_code == 422
    assert {error["field"] for error in response.json["errors"]} == {"time_zone"}  # "" fails two rules
    assert client.get("/admin/v1/partners/nordlink", headers=operator).json["time_zone"] == "Europe/Vienna"


def test_suspension_refuses_the_partners_keys_at_once_and_resume_restores_them(client, operator, seed):
    seed.partner("nordlink")
    partner_key = bearer(seed.token(KeyKind.PARTNER, "nordlink"))
    assert client.get("/v1/webhook-endpoints", headers=partner_key).status_code == 200
    assert client.post("/admin/v1/partners/nordlink/suspend", headers=operator).json["status"] == "suspended"
    refused = client.get("/v1/webhook-endpoints", headers=partner_key)
    assert refused.status_code == 403
    assert refused.json["type"] == "/problems/partner-suspended"
    assert client.post("/admin/v1/partners/nordlink/resume", headers=operator).json["status"] == "active"
    assert client.get("/v1/webhook-endpoints", headers=partner_key).status_code == 200


def test_endpoints_are_added_listed_to_their_partner_only_and_removed(client, operator, seed):
    seed.partner("nordlink")
    seed.partner("other", markets=["FR"])
    created = client.post(
        "/admin/v1/partners/nordlink/webhook-endpoints",
        json={"url": "https://hooks.example.net/a", "description": "primary"},
        headers=operator,
    )
    assert created.status_code == 201
    endpoint_id = created.json["id"]
    own = bearer(seed.token(KeyKind.PARTNER, "nordlink", {"events:read"}))
    other = bearer(seed.token(KeyKind.PARTNER, "other", {"events:read"}))
    assert client.get(f"/v1/webhook-endpoints/{endpoint_id}", headers=own).json["description"] == "primary"
    assert client.get(f"/v1/webhook-endpoints/{endpoint_id}", headers=other).status_code == 404
    assert client.get("/v1/webhook-endpoints", headers=other).json["items"] == []
    assert client.delete(f"/admin/v1/webhook-endpoints/{endpoint_id}", headers=operator).status_code == 204
    assert client.get(f"/v1/webhook-endpoints/{endpoint_id}", headers=own).status_code == 404


def test_endpoint_for_a_missing_partner_is_a_404(client, operator):
    response = client.post(
        "/admin/v1/partners/ghost/webhook-endpoints", json={"url": "https://x.example"}, headers=operator
    )
    assert response.status_code == 404


def test_callcenter_profile_and_service_listing(client, seed):
    seed.partner("nordlink", markets=["DE", "AT"], locale="de-AT")
    seed.partner("selat", markets=["MY"], locale="ms-MY")
    agent = bearer(seed.token(KeyKind.PARTNER, "selat", {"callcenter"}))
    profile = client.get("/v1/callcenter/profile", headers=agent).json
    assert profile == {
        "partner": "selat",
        "display_name": "Selat",
        "default_locale": "ms-MY",
        "markets": ["MY"],
    }
    service = bearer(seed.token(KeyKind.SERVICE))
    in_austria = client.get("/v1/service/partners?market=AT", headers=service).json["items"]
    assert [item["code"] for item in in_austria] == ["nordlink"]
