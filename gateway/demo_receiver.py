"""The demo partner receiver: a local HTTP server that checks each webhook's signature and prints the events.

`gateway demo` runs it; it stands for a partner's system, so it only uses what a partner would have: the
signing secrets (from GATEWAY_DEMO_RECEIVER_SECRETS, JSON {partner code: [whsec_...]}) and the
`standardwebhooks` reference library.

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


def _verified(secrets: list[str], body: bytes, headers: dict[str, str]) -> bool:
    for secret in secrets:
        try:
            Webhook(secret).verify(body, headers, json_parse=False)
            return True
        except WebhookVerificationError:
            continue
    return False


def _describe(event: dict) -> str:
    subscription = event.get("subscription") or {}
    where = f" {subscription.get('id')} #{event.get('sequence')}" if subscription else ""
    data = event.get("data", {})
    detail = data.get("status") or data.get("message") or ""
    return f"{event.get('type')}{where} {detail}".rstrip()


def make_handler(secrets_by_partner: dict[str, list[str]]):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            partner = self.path.rstrip("/").rsplit("/", 1)[-1]
            headers = {name.lower(): value for name, value in self.headers.items()}
            ok = _verified(secrets_by_partner.get(partner, []), body, headers)
            events = [json.loads(line) for line in body.decode().splitlines() if line.strip()] if ok else []
            for event in events:
                print(f"[demo receiver] {partner}: {_describe(event)} (signature ok)", flush=True)
            if not ok:
                print(f"[demo receiver] {partner}: REJECTED {headers.get('webhook-id')}: bad signature", flush=True)
            self.send_response(204 if ok else 401)
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
