"""Keys over the admin API: shown once, stored as a hash, rotated with an overlap, revoked at once."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from gateway.domain.keys import KeyKind
from gateway.store.models import ApiKey
from tests.support.api import app_store, bearer


@pytest.fixture
def operator(seed):
    return bearer(seed.token(KeyKind.OPERATOR))


@pytest.fixture
def partner(seed):
    return seed.partner("nordlink")


def _issue(client, operator, **overrides):
    body = {
        "kind": "partner",
        "partner": "nordlink",
        "scopes": ["events:read"],
        "name": "billing",
        **overrides,
    }
    return client.post("/admin/v1/keys", json=body, headers=operator)


def test_the_token_is_shown_once_and_stored_only_as_a_hash(app, client, operator, partner):
    issued = _issue(client, operator)
    assert issued.status_code == 201
    token = issued.json["token"]
    assert token.startswith(issued.json["prefix"] + "_")
    shown_again = client.get(f"/admin/v1/keys/{issued.json['id']}", headers=operator)
    assert "token" not in shown_again.json
    assert token not in client.get("/admin/v1/keys", headers=operator).get_data(as_text=True)
    with app_store(app).transaction() as session:
        row = session.scalar(select(ApiKey).where(ApiKey.id == issued.json["id"]))
        stored = [str(value) for value in vars(row).values()]
    assert token not in stored
    assert row.secret_hash == hashlib.sha256(token.encode()).hexdigest()
    assert client.get("/v1/webhook-endpoints", headers=bearer(token)).status_code == 200


def test_scopes_must_fit_the_kind_of_key(client, operator, partner):
    response = _issue(client, operator, scopes=["admin"])
    assert response.status_code == 422
    assert "may not hold admin" in response.json["errors"][0]["detail"]
    operator_with_partner = _issue(client, operator, kind="operator", scopes=["admin"])
    assert operator_with_partner.status_code == 422
    assert operator_with_partner.json["errors"][0]["field"] == "partner"
    missing_partner = _issue(client, operator, partner=None)
    assert missing_partner.status_code == 422


def test_a_key_for_an_unknown_partner_is_a_404(client, operator):
    assert _issue(client, operator, partner="ghost").status_code == 404


def test_rotation_keeps_the_old_key_working_during_the_overlap(client, operator, partner):
    old = _issue(client, operator).json
    rotated = client.post(f"/admin/v1/keys/{old['id']}/rotate", json={"overlap_hours": 2}, headers=operator)
    assert rotated.status_code == 201
    new = rotated.json
    assert new["scopes"] == old["scopes"] and new["partner"] == "nordlink" and new["token"] != old["token"]
    for token in (old["token"], new["token"]):
        assert client.get("/v1/webhook-endpoints", headers=bearer(token)).status_code == 200
    old_now = client.get(f"/admin/v1/keys/{old['id']}", headers=operator).json
    assert old_now["status"] == "expiring" and old_now["replaced_by"] == new["id"]
    again = client.post(f"/admin/v1/keys/{old['id']}/rotate", json={}, headers=operator)
    assert again.status_code == 409


def test_rotation_without_overlap_stops_the_old_key_at_once(client, operator, partner):
    old = _issue(client, operator).json
    new = client.post(f"/admin/v1/keys/{old['id']}/rotate", json={"overlap_hours": 0}, headers=operator).json
    refused = client.get("/v1/webhook-endpoints", headers=bearer(old["token"]))
    assert refused.status_code == 401 and "expired" in refused.json["detail"]
    assert client.get("/v1/webhook-endpoints", headers=bearer(new["token"])).status_code == 200


def test_rotation_without_a_body_uses_the_configured_overlap(app, client, operator, partner):
    old = _issue(client, operator).json
    response = client.post(f"/admin/v1/keys/{old['id']}/rotate", headers=operator)
    assert response.status_code == 201
    expires = client.get(f"/admin/v1/keys/{old['id']}", headers=operator).json["expires_at"]
    from datetime import datetime, timedelta

    gap = datetime.fromisoformat(expires) - datetime.fromisoformat(response.json["created_at"])
    assert gap == timedelta(hours=app.config["GATEWAY"]["KEY_ROTATION_OVERLAP_HOURS"])


def test_revocation_takes_effect_on_the_next_request(client, operator, partner):
    issued = _issue(client, operator).json
    assert client.get("/v1/webhook-endpoints", headers=bearer(issued["token"])).status_code == 200
    revoked = client.post(f"/admin/v1/keys/{issued['id']}/revoke", headers=operator)
    assert revoked.json["status"] == "revoked"
    refused = client.get("/v1/webhook-endpoints", headers=bearer(issued["token"]))
    assert refused.status_code == 401 and "revoked" in refused.json["detail"]
    assert client.post(f"/admin/v1/keys/{issued['id']}/revoke", headers=operator).status_code == 200
    assert client.post(f"/admin/v1/keys/{issued['id']}/rotate", json={}, headers=operator).status_code == 409


def test_listing_keys_pages_oldest_first_and_filters(client, operator, partner, seed):
    seed.partner("other", markets=["FR"])
    ids = [_issue(client, operator).json["id"] for _ in range(3)]
    _issue(client, operator, partner="other")
    first = client.get("/admin/v1/keys?partner=nordlink&limit=2", headers=operator).json
    second = client.get(f"/admin/v1/keys?partner=nordlink&limit=2&cursor={first['next_cursor']}", headers=operator).json
    assert [key["id"] for key in first["items"] + second["items"]] == ids
    assert second["next_cursor"] is None
    operators = client.get("/admin/v1/keys?kind=operator", headers=operator).json["items"]
    assert [key["kind"] for key in operators] == ["operator"]
