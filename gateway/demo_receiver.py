"""The demo partner receiver: a local HTTP server that checks each webhook's signature and prints the events.

`gateway demo` runs it; it stands for a partner's system, so it only uses what a partner would have: the
signing secrets (from GATEWAY_DEMO_RECEIVER_SECRETS, JSON {partner code: [whsec_...]}) and the
`standardwebhooks` reference library. A batch is verified over its raw NDJSON body (json_parse=False: the
library would parse it as one JSON document), then read a line at a time. A TM Forum partner's hubs post TMF
events (eventType, event: {product}), signed the same way; each is shown with the status it reports.

    python -m gateway.demo_receiver --port 8001
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

SECRETS_VARIABLE = "GATEWAY_DEMO_RECEIVER_SECRETS"
NDJSON = "application/x-ndjson"  # a batch partner's requests: one event per line


def _verified(secrets: list[str], body: bytes, headers: dict[str, str]) -> bool:
    for secret in secrets:
        try:
            Webhook(secret).verify(body, headers, json_parse=False)
            return True
        except WebhookVerificationError:
            continue
    return False


def _describe(event: dict) -> str:
    if "eventType" in event:  # a TM Forum hub's event (TMF630)
        return _describe_tmf(event)
    subscription = event.get("subscription") or {}
    where = f" {subscription.get('id')} #{event.get('sequence')}" if subscription else ""
    data = event.get("data", {})
    detail = data.get("status") or data.get("message") or ""
    return f"{event.get('type')}{where} {detail}".rstrip()


def _describe_tmf(event: dict) -> str:
    """A TM Forum event: its type, the product (or order) it is about and the status (state) it reports; a deleted
    product has none."""
    payload = event.get("event") or {}
    resource = payload.get("product") or payload.get("productOrder") or {}
    status = resource.get("status") or resource.get("state") or ""
    return f"{event.get('eventType')} {resource.get('id')} {status}".rstrip()


def _received(partner: str, body: bytes, content_type: str) -> str:
    """What a verified request brought: one line for a single event; for a batch (NDJSON, one event per line),
    a line saying how many events came in the one request, then one line per event."""
    if content_type.split(";")[0].strip().lower() != NDJSON:
        event = json.loads(body)
        checked = "TM Forum, signature ok" if "eventType" in event else "signature ok"
        return f"[demo receiver] {partner}: {_describe(event)} ({checked})"
    events = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
    count = f"{len(events)} event{'' if len(events) == 1 else 's'}"
    lines = [f"[demo receiver] {partner}: a batch of {count} in one request (NDJSON, signature ok)"]
    lines += [f"[demo receiver]   {number}. {_describe(event)}" for number, event in enumerate(events, 1)]
    return "\n".join(lines)


def make_handler(secrets_by_partner: dict[str, list[str]]):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            partner = self.path.rstrip("/").rsplit("/", 1)[-1]
            headers = {name.lower(): value for name, value in self.headers.items()}
            status = 204 if _verified(secrets_by_partner.get(partner, []), body, headers) else 401
            if status == 204:
                try:
                    print(_received(partner, body, headers.get("content-type", "")), flush=True)
                except ValueError:  # not JSON, or not UTF-8
                    print(f"[demo receiver] {partner}: REJECTED {headers.get('webhook-id')}: not JSON", flush=True)
                    status = 400
            else:
                print(f"[demo receiver] {partner}: REJECTED {headers.get('webhook-id')}: bad signature", flush=True)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args) -> None:
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8001)
    options = parser.parse_args()
    secrets_by_partner = json.loads(os.environ.get(SECRETS_VARIABLE, "{}"))
    server = ThreadingHTTPServer(("127.0.0.1", options.port), make_handler(secrets_by_partner))
    print(f"[demo receiver] listening on http://127.0.0.1:{options.port}/hooks/<partner>", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sys.stdout.flush()


if __name__ == "__main__":
    main()
