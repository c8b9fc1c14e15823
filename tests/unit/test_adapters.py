"""One suite for every partner flavour (partners.registry): sending, batching, callbacks, signing.

`responses` stands in for the partner here, to unit-test each adapter; the real path (a dispatcher and
HTTP receivers on loopback) is tested in tests/delivery.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import requests
import responses
from standardwebhooks import Webhook

from partners.base import CallbackRejected, OutgoingEvent, Target
from partners.batch import batch_id
from partners.registry import ADAPTERS
from partners.signing import new_webhook_secret, signature_header, signed_headers, verify

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


def _events_in(body: bytes) -> list[dict]:
    return [json.loads(line) for line in body.decode().splitlines() if line.strip()]


@responses.activate
def test_an_event_goes_out_signed_and_verifies_with_the_reference_library(adapter):
    responses.post(URL, status=204)
    result = adapter.send(requests.Session(), Target(URL, [SECRET]), EVENTS[0], timeout=5, clock=clock)
    assert result.http_status == 204 and len(result.attempts) == 1
    sent = responses.calls[0].request
    headers = dict(sent.headers)
    Webhook(SECRET).verify(sent.body, {k.lower(): v for k, v in headers.items()}, json_parse=False)
    assert _events_in(sent.body)[0] == json.loads(EVENTS[0].body)


@responses.activate
def test_a_batch_carries_every_event_with_one_result_each(adapter):
    responses.post(URL, status=200)
    results = adapter.send_batch(requests.Session(), Target(URL, [SECRET]), EVENTS, timeout=5, clock=clock)
    assert [result.event_id for result in results] == [event.event_id for event in EVENTS]
    assert all(result.http_status == 200 for result in results)
    sent = [event for call in responses.calls for event in _events_in(call.request.body)]
    assert [event["id"] for event in sent] == ["evt_0", "evt_1", "evt_2"]
    expected_requests = 1 if adapter.accepts_batches else len(EVENTS)
    assert len(responses.calls) == expected_requests


@responses.activate
def test_a_refused_connection_is_retried_at_once_then_reported(adapter):
    responses.post(URL, body=requests.ConnectionError("refused"))
    result = adapter.send(requests.Session(), Target(URL, [SECRET]), EVENTS[0], timeout=5, clock=clock)
    assert len(result.attempts) == 3 and result.http_status is None
    assert {attempt.error_class for attempt in result.attempts} == {"ConnectionError"}


@responses.activate
def test_a_timeout_is_not_retried_in_process(adapter):
    responses.post(URL, body=requests.ReadTimeout("slow"))
    result = adapter.send(requests.Session(), Target(URL, [SECRET]), EVENTS[0], timeout=5, clock=clock)
    assert len(result.attempts) == 1 and result.attempt.error_class == "ReadTimeout"


@responses.activate
def test_the_response_excerpt_is_kept_to_2_kb(adapter):
    responses.post(URL, status=500, body="x" * 5000, headers={"Retry-After": "30"})
    result = adapter.send(requests.Session(), Target(URL, [SECRET]), EVENTS[0], timeout=5, clock=clock)
    assert result.http_status == 500 and len(result.attempt.excerpt) == 2048
    assert result.attempt.retry_after == "30"


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


@responses.activate
def test_a_batch_partner_can_answer_per_event():
    responses.post(URL, status=200, json={"results": [{"id": "evt_1", "status": 422, "detail": "unknown plan"}]})
    results = ADAPTERS["batch"].send_batch(requests.Session(), Target(URL, [SECRET]), EVENTS, timeout=5, clock=clock)
    assert [result.http_status for result in results] == [200, 422, 200]
    assert results[1].detail == "unknown plan"
    request = responses.calls[0].request
    assert request.headers["Content-Type"] == "application/x-ndjson"
    assert request.headers["webhook-id"] == batch_id(EVENTS)


@responses.activate
def test_a_failed_batch_request_applies_to_every_event():
    responses.post(URL, status=503, json={"results": [{"id": "evt_1", "status": 200}]})
    results = ADAPTERS["batch"].send_batch(requests.Session(), Target(URL, [SECRET]), EVENTS, timeout=5, clock=clock)
    assert [result.http_status for result in results] == [503, 503, 503]
