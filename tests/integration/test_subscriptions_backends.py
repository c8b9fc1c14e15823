"""The subscription flow over HTTP on each backend: the hot read paths use Core rows and raw SQL."""

from __future__ import annotations

from gateway.domain.keys import KeyKind
from tests.conftest import Seeder, app_store, bearer


def test_create_activate_read_list_and_history(backend_app):
    seed = Seeder(app_store(backend_app))
    seed.partner("nordlink", markets=["DE"])
    partner = bearer(seed.token(KeyKind.PARTNER, "nordlink"))
    service = bearer(seed.token(KeyKind.SERVICE))
    client = backend_app.test_client()
    body = {"partner_ref": "cust-1", "plan": "standard", "market": "DE", "billing_anchor": "2026-01-31"}
    created = client.post("/v1/subscriptions", json=body, headers=partner).json
    code = created["activation"]["code"]
    client.post("/v1/service/activations", json={"code": code, "member_id": "m-1"}, headers=service)

    read = client.get(f"/v1/subscriptions/{created['id']}", headers=partner)
    assert read.status_code == 200 and read.json["status"] == "active"
    assert read.json["created_at"] == created["created_at"] and read.headers["ETag"] == '"v2"'
    listed = client.get("/v1/subscriptions?status=active", headers=partner).json["items"]
    assert [item["id"] for item in listed] == [created["id"]]
    history = client.get(f"/v1/subscriptions/{created['id']}/history", headers=partner).json["items"]
    assert [entry["to_status"] for entry in history] == ["pending_activation", "active"]
    assert client.get(f"/v1/subscriptions/{created['id']}", headers=service).status_code == 403
