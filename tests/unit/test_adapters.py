"""One suite for every partner flavour (partners.registry): sending, batching, callbacks, signing.

A fake client (tests.support.fake_http) stands in for the partner here, to unit-test each adapter; the real path (a
dispatcher and HTTP receivers on loopback, hostile ones included) is tested in tests/delivery.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from datetime import UTC, datetime

import aiohttp
import pytest
from standardwebhooks import Webhook

from partners.base import CallbackRejected, OutgoingEvent, Target
from partners.batch import batch_id
from partners.registry import ADAPTERS
from partners.signing import new_webhook_secret, signature_header, signed_headers, verify
from tests.support.fake_http import FakeClient, Scripted

URL = "https://hooks.partner.example/gateway"
SECRET = new_webhook_secret()
EVENTS = [
    OutgoingEvent(f"evt_{index}", "subscription.suspended", json.dumps({"id": f"evt_{index}", "n": index}))
    for index in range(3)
]


def clock() -> datetime:
    # The time of the send, not of the import: the reference library refuses signatures over five minutes
    # old, and a loaded machine can take that long to reach this test.
    return datetime.now(UTC)


@pytest.fixture(params=sorted(ADAPTERS))
def adapter(request):
    return ADAPTERS[request.param]


def send(adapter, client: FakeClient, event=EVENTS[0]):
    return asyncio.run(adapter.send(client, Target(URL, [SECRET]), event, timeout=5, clock=clock))


def send_batch(adapter, client: FakeClient, events=EVENTS):
    return asyncio.run(adapter.send_batch(client, Target(URL, [SECRET]), events, timeout=5, clock=clock))


def _events_in(body: bytes) -> list[dict]:
    return [json.loads(line) for line in body.decode().splitlines() if line.strip()]


def test_an_event_goes_out_signed_and_verifies_with_the_reference_library(adapter):
    partner = FakeClient(Scripted(204))
    result = send(adapter, partner)
    assert result.http_status == 204 and len(result.attempts) == 1
    [sent] = partner.sent
    body, headers = sent.body, sent.headers
    assert sent.url == URL
    Webhook(SECRET).verify(body, {k.lower(): v for k, v in headers.items()}, json_parse=False)
    assert _events_in(body)[0] == json.loads(EVENTS[0].body)


def test_a_batch_carries_every_event_with_one_result_each(adapter):
    partner = FakeClient(Scripted(200))
    results = send_batch(adapter, partner)
    assert [result.event_id for result in results] == [event.event_id for event in EVENTS]
    assert all(result.http_status == 200 for result in results)
    sent = [event for request in partner.sent for event in _events_in(request.body)]
    assert [event["id"] for event in sent] == ["evt_0", "evt_1", "evt_2"]
    expected_requests = 1 if adapter.accepts_batches else len(EVENTS)
    assert len(partner.sent) == expected_requests


def test_a_refused_connection_is_retried_at_once_then_reported(adapter):
    partner = FakeClient(Scripted(error=aiohttp.ClientConnectionError("refused")))
    result = send(adapter, partner)
    assert len(result.attempts) == 3 == len(partner.sent) and result.http_status is None
    assert {attempt.error_class for attempt in result.attempts} == {"ConnectionError"}


def test_a_connection_that_recovers_within_the_quick_retries_delivers(adapter):
    partner = FakeClient(Scripted(error=aiohttp.ServerDisconnectedError()), Scripted(204))
    result = send(adapter, partner)
    assert [attempt.error_class for attempt in result.attempts] == ["ConnectionError", None]
    assert result.http_status == 204


def test_a_timeout_is_not_retried_in_process(adapter):
    partner = FakeClient(Scripted(error=TimeoutError()))
    result = send(adapter, partner)
    assert len(result.attempts) == 1 and result.attempt.error_class == "DeadlineExceeded"


def test_the_response_excerpt_is_kept_to_2_kb(adapter):
    result = send(adapter, FakeClient(Scripted(500, b"x" * 5000, {"Retry-After": "30"})))
    assert result.http_status == 500 and len(result.attempt.excerpt) == 2048
    assert result.attempt.retry_after == "30"


def test_a_gzip_answer_is_read_inflated_but_no_further_than_the_excerpt(adapter):
    answer = gzip.compress(b"refused: " + b"z" * 100_000)
    result = send(adapter, FakeClient(Scripted(422, answer, {"Content-Encoding": "gzip"})))
    assert result.attempt.excerpt.startswith("refused: zzz") and len(result.attempt.excerpt) == 2048


def test_a_callback_signed_with_the_partner_secret_is_read(adapter):
    body = json.dumps({"type": "subscription.suspend", "data": {"subscription_id": "sub_1"}})
    headers = signed_headers([SECRET], "msg_1", datetime.now(UTC), body)
    inbound = adapter.parse_callback(body.encode(), headers, [SECRET])
    assert (inbound.event_id, inbound.event_type, dict(inbound.data)) == (
        "msg_1",
        "subscription.suspend",
        {"subscription_id": "sub_1"},
    )


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda body, headers: (body.replace(b"sub_1", b"sub_2"), headers), "signature"),
        (lambda body, headers: (body, {**headers, "webhook-signature": "v1,AAAA"}), "signature"),
        (lambda body, headers: (body, {k: v for k, v in headers.items() if k != "webhook-signature"}), "signature"),
        (lambda body, headers: (body, {**headers, "webhook-timestamp": "1000000000"}), "signature"),
    ],
    ids=["changed body", "wrong signature", "no signature", "old timestamp"],
)
def test_a_callback_that_does_not_verify_is_rejected(adapter, tamper, message):
    body = json.dumps({"type": "subscription.suspend", "data": {"subscription_id": "sub_1"}}).encode()
    headers = signed_headers([SECRET], "msg_1", datetime.now(UTC), body.decode())
    body, headers = tamper(body, headers)
    with pytest.raises(CallbackRejected, match=message):
        adapter.parse_callback(body, headers, [SECRET])


def test_a_callback_without_a_type_is_rejected(adapter):
    body = json.dumps({"data": {}})
    headers = signed_headers([SECRET], "msg_1", datetime.now(UTC), body)
    with pytest.raises(CallbackRejected, match="type"):
        adapter.parse_callback(body.encode(), headers, [SECRET])


# --- signing ---------------------------------------------------------------------------------------------

# The Standard Webhooks specification's published test vector.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = datetime.fromtimestamp(1614265330, UTC)
VECTOR_BODY = '{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signing_matches_the_published_vector():
    assert signature_header([VECTOR_SECRET], VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE
    headers = signed_headers([VECTOR_SECRET], VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
    assert headers == {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": "1614265330",
        "webhook-signature": VECTOR_SIGNATURE,
    }


def test_during_a_rotation_both_secrets_sign_and_either_verifies():
    new, old = new_webhook_secret(), new_webhook_secret()
    headers = signed_headers([new, old], "msg_2", datetime.now(UTC), "{}")
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(new).verify("{}", headers)
    Webhook(old).verify("{}", headers)
    verify([old], b"{}", headers)


def test_new_secrets_are_whsec_32_random_bytes():
    first, second = new_webhook_secret(), new_webhook_secret()
    assert first != second and first.startswith("whsec_")
    assert len(Webhook(first)._whsecret) == 32


def test_a_batch_id_is_the_same_for_the_same_events_and_differs_otherwise():
    assert batch_id(EVENTS) == batch_id(list(EVENTS))
    assert batch_id(EVENTS) != batch_id(EVENTS[:2])


def test_a_batch_partner_can_answer_per_event():
    answer = json.dumps({"results": [{"id": "evt_1", "status": 422, "detail": "unknown plan"}]}).encode()
    partner = FakeClient(Scripted(200, answer))
    results = send_batch(ADAPTERS["batch"], partner)
    assert [result.http_status for result in results] == [200, 422, 200]
    assert results[1].detail == "unknown plan"
    [sent] = partner.sent
    headers = sent.headers
    assert headers["Content-Type"] == "application/x-ndjson"
    assert headers["webhook-id"] == batch_id(EVENTS)


def test_a_failed_batch_request_applies_to_every_event():
    answer = json.dumps({"results": [{"id": "evt_1", "status": 200}]}).encode()
    results = send_batch(ADAPTERS["batch"], FakeClient(Scripted(503, answer)))
    assert [result.http_status for result in results] == [503, 503, 503]
