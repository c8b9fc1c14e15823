"""Secrets are shown once: a retry with the same Idempotency-Key gets the same status and resource, but the whsec_
signing and inbound secrets are withheld (null, `secret_withheld: true`), and no stored response holds one."""

from __future__ import annotations

from sqlalchemy import select

from gateway.domain.keys import KeyKind
from gateway.services.idempotency import withhold_secrets
from gateway.store.models import IdempotencyRecord, WebhookEndpoint
from tests.support.api import app_store, bearer
from tests.support.seeding import Seeder

PARTNER = {
    "code": "nordlink",
    "display_name": "Nordlink",
    "markets": ["DE"],
    "default_locale": "de",
    "webhook_urls": ["https://hooks.nordlink.example/a", "https://hooks.nordlink.example/b"],
}


def _without_secret(item: dict) -> dict:
    return {name: value for name, value in item.items() if name not in ("secret", "secret_withheld")}


def _post_twice(client, url, headers, key, json=None):
    """The first response and the replay of a POST sent twice with one Idempotency-Key."""
    keyed = {**headers, "Idempotency-Key": key}
    first = client.post(url, json=json, headers=keyed)
    replay = client.post(url, json=json, headers=keyed)
    assert "Idempotent-Replayed" not in first.headers and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.status_code == first.status_code
    return first, replay


def _assert_shown_once(first: dict, replay: dict) -> None:
    assert first["secret"].startswith("whsec_") and first["secret_withheld"] is False
    assert replay["secret"] is None and replay["secret_withheld"] is True
    assert _without_secret(replay) == _without_secret(first)  # the same resource


def test_secrets_are_withheld_from_replays_and_from_the_store(backend_app):
    store = app_store(backend_app)
    client = backend_app.test_client()
    operator = bearer(Seeder(store).token(KeyKind.OPERATOR))

    created, replayed = _post_twice(client, "/admin/v1/partners", operator, "onboard", PARTNER)
    assert created.status_code == 201, created.json
    assert replayed.headers["ETag"] == created.headers["ETag"]
    partner = {name: value for name, value in created.json.items() if name != "webhook_endpoints"}
    assert {name: value for name, value in replayed.json.items() if name != "webhook_endpoints"} == partner
    assert len(created.json["webhook_endpoints"]) == 2
    for first, replay in zip(created.json["webhook_endpoints"], replayed.json["webhook_endpoints"], strict=True):
        _assert_shown_once(first, replay)

    added, replayed = _post_twice(
        client, "/admin/v1/partners/nordlink/webhook-endpoints", operator, "add", {"url": "https://hooks.example.net/c"}
    )
    assert added.status_code == 201
    _assert_shown_once(added.json, replayed.json)

    endpoint = added.json["id"]
    rotated, replayed = _post_twice(client, f"/admin/v1/webhook-endpoints/{endpoint}/rotate-secret", operator, "rot")
    assert rotated.status_code == 200
    _assert_shown_once(rotated.json, replayed.json)
    with store.read() as session:  # rotated once: the secret shown is the one that signs
        assert session.get(WebhookEndpoint, endpoint).secret == rotated.json["secret"] != added.json["secret"]

    inbound, replayed = _post_twice(client, "/admin/v1/partners/nordlink/inbound-secret", operator, "inbound")
    assert inbound.status_code == 201
    _assert_shown_once(inbound.json, replayed.json)

    with store.read() as session:
        bodies = session.scalars(select(IdempotencyRecord.body)).all()
    assert len(bodies) == 4 and not any("whsec_" in body for body in bodies)
    # Without a key nothing is kept, and each call shows its own secret.
    assert (
        client.post("/admin/v1/partners/nordlink/inbound-secret", headers=operator).json["secret"].startswith("whsec_")
    )


def test_withholding_keeps_everything_but_the_secrets():
    token = "gw_0123456789ab_" + "c" * 48
    body = (
        '{"id":"ep_1","secret":"whsec_QUJD+/=","secret_withheld":false,"items":[{"secret":"whsec_RA=="}],'
        f'"note":"key {token} here","url":"https://hooks.example.net/whsec_","token":"{token}","n":1}}'
    )
    assert withhold_secrets(body) == (
        '{"id":"ep_1","secret":null,"secret_withheld":true,"items":[{"secret":null,"secret_withheld":true}],'
        '"note":"key [withheld] here","url":"https://hooks.example.net/whsec_","token":null,"n":1,'
        '"token_withheld":true}'
    )
    plain = '{"id": "ep_1", "status": "enabled"}'
    assert withhold_secrets(plain) is plain  # kept byte for byte
    assert withhold_secrets("not json whsec_QUJD") == "not json [withheld]"
