"""The admin API honours Idempotency-Key too, except where the response carries a secret."""

from __future__ import annotations

from sqlalchemy import select

from gateway.domain.keys import KeyKind
from gateway.store.models import IdempotencyRecord
from tests.support.api import app_store, bearer

PARTNER = {"code": "nordlink", "display_name": "Nordlink", "markets": ["DE"], "default_locale": "de"}


def test_onboarding_retried_with_its_key_is_replayed_not_a_409(client, seed):
    operator = {**bearer(seed.token(KeyKind.OPERATOR)), "Idempotency-Key": "onboard-nordlink"}
    first = client.post("/admin/v1/partners", json=PARTNER, headers=operator)
    retry = client.post("/admin/v1/partners", json=PARTNER, headers=operator)
    assert first.status_code == retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"


def test_issued_tokens_are_never_stored_for_replay(app, client, seed):
    seed.partner("nordlink")
    operator = {**bearer(seed.token(KeyKind.OPERATOR)), "Idempotency-Key": "issue-1"}
    body = {"kind": "partner", "partner": "nordlink", "scopes": ["events:read"], "name": "x"}
    issued = client.post("/admin/v1/keys", json=body, headers=operator)
    rotated = client.post(f"/admin/v1/keys/{issued.json['id']}/rotate", json={}, headers=operator)
    with app_store(app).read() as session:
        stored = " ".join(record.body for record in session.scalars(select(IdempotencyRecord)))
    assert issued.json["token"] not in stored and rotated.json["token"] not in stored
