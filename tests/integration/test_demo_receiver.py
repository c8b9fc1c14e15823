"""The demo partner receiver over real HTTP on loopback, fed by the partners' own adapters: a batch shows as a
batch (how many events came in the one request, then each), a single event as one line, a bad signature as a
refusal."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer

import aiohttp
import pytest

from gateway.demo_receiver import make_handler
from partners.base import OutgoingEvent, Target
from partners.registry import ADAPTERS
from partners.signing import new_webhook_secret

SECRET = new_webhook_secret()


def _event(number: int) -> OutgoingEvent:
    body = {
        "id": f"evt_{number:04x}",
        "type": "subscription.suspended",
        "subscription": {"id": f"sub_{number}", "partner_ref": f"cust-{number}"},
        "sequence": number,
        "data": {"status": "suspended"},
    }
    return OutgoingEvent(body["id"], body["type"], json.dumps(body))


@pytest.fixture
def receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler({"selat-mobile": [SECRET], "rheinfunk": [SECRET]}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    finally:
        server.shutdown()
        server.server_close()


def _send(flavour: str, url: str, events: list[OutgoingEvent], secret: str = SECRET) -> list[int | None]:
    async def go():
        async with aiohttp.ClientSession() as http:
            results = await ADAPTERS[flavour].send_batch(
                http, Target(url, [secret]), events, timeout=5, clock=lambda: datetime.now(UTC)
            )
        return [result.attempts[-1].status for result in results]

    return asyncio.run(go())


def test_a_batch_shows_as_one_request_with_its_events(receiver, capsys):
    statuses = _send("batch", f"{receiver}/selat-mobile", [_event(1), _event(2), _event(3)])

    assert statuses == [204, 204, 204]
    assert capsys.readouterr().out.splitlines() == [
        "[demo receiver] selat-mobile: a batch of 3 events in one request (NDJSON, signature ok)",
        "[demo receiver]   1. subscription.suspended sub_1 #1 suspended",
        "[demo receiver]   2. subscription.suspended sub_2 #2 suspended",
        "[demo receiver]   3. subscription.suspended sub_3 #3 suspended",
    ]


def test_a_batch_of_one_is_still_a_batch_and_a_standard_event_one_line(receiver, capsys):
    assert _send("batch", f"{receiver}/selat-mobile", [_event(4)]) == [204]
    assert _send("standard", f"{receiver}/rheinfunk", [_event(5)]) == [204]

    assert capsys.readouterr().out.splitlines() == [
        "[demo receiver] selat-mobile: a batch of 1 event in one request (NDJSON, signature ok)",
        "[demo receiver]   1. subscription.suspended sub_4 #4 suspended",
        "[demo receiver] rheinfunk: subscription.suspended sub_5 #5 suspended (signature ok)",
    ]


def test_a_batch_signed_with_another_secret_is_refused(receiver, capsys):
    statuses = _send("batch", f"{receiver}/selat-mobile", [_event(6), _event(7)], secret=new_webhook_secret())

    assert statuses == [401, 401]
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith("[demo receiver] selat-mobile: REJECTED batch_") and line.endswith(": bad signature")
