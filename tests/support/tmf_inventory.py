"""A partner's TMF637 Product Inventory on loopback: a real threaded HTTP server answering GET …/product with
offset/limit pages of products as TMF630 says (X-Total-Count, X-Result-Count, 206 while more remain), for the
reconciliation that reads it. Each request can be answered otherwise by `override` (an outage, a refusal, junk).
"""

from __future__ import annotations

import gzip as gzip_module
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

BASE_PATH = "/tmf-api/productInventory/v4"
TOKEN = "inventory-token"  # the bearer token the server asks for unless told otherwise


def product(
    partner_ref: str,
    status: str = "active",
    plan: str = "standard",
    *,
    product_id: str | None = None,
    market: str = "DE",
) -> dict:
    """A Product as a partner's inventory lists one: the seller and the customer as relatedParty, the plan as the
    productOffering, market and locale as characteristics."""
    return {
        "id": product_id or f"prod-{partner_ref}",
        "href": f"https://inventory.partner.example{BASE_PATH}/product/{product_id or partner_ref}",
        "name": "Streaming bundle",
        "status": status,
        "productOffering": {"id": plan, "name": plan.title(), "@referredType": "ProductOffering"},
        "relatedParty": [
            {"id": "nordlink", "role": "seller", "@referredType": "Organization"},
            {"id": partner_ref, "role": "customer", "@referredType": "Customer"},
        ],
        "productCharacteristic": [
            {"name": "market", "valueType": "string", "value": market},
            {"name": "locale", "valueType": "string", "value": "de-DE"},
        ],
        "@type": "Product",
    }


@dataclass(frozen=True)
class Reply:
    """An answer other than the page: a status, headers and body as given."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    path: str
    offset: int
    limit: int
    headers: dict[str, str]


class InventoryServer:
    """Serves `count` products, product number i being `make(i)`, under BASE_PATH on 127.0.0.1.

    `token`: the bearer token required (None: none). `max_limit`: the most products a page holds whatever the
    client asks (a server's own cap). `announce_total`: whether pages carry X-Total-Count. `gzip`: whether pages
    are gzip-compressed. `override(request, number)` may answer a request (its number counting from 1) instead.
    """

    def __init__(
        self,
        count: int,
        make: Callable[[int], object],
        *,
        token: str | None = TOKEN,
        max_limit: int | None = None,
        announce_total: bool = True,
        gzip: bool = False,
        override: Callable[[Request, int], Reply | None] | None = None,
    ) -> None:
        self.count, self.make, self.token = count, make, token
        self.max_limit, self.announce_total, self.gzip, self.override = max_limit, announce_total, gzip, override
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                offset = int(query.get("offset", ["0"])[0])
                limit = int(query.get("limit", ["100"])[0])
                request = Request(parts.path, offset, limit, {k.lower(): v for k, v in self.headers.items()})
                with server._lock:
                    server.requests.append(request)
                    number = len(server.requests)
                reply = server.override(request, number) if server.override else None
                if reply is None:
                    reply = server.page(request)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{BASE_PATH}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def page(self, request: Request) -> Reply:
        if request.path != f"{BASE_PATH}/product":
            return _error(404, "Not Found", f"no resource at {request.path}")
        if self.token is not None and request.headers.get("authorization") != f"Bearer {self.token}":
            return _error(401, "Unauthorized", "the bearer token is missing or wrong")
        limit = min(request.limit, self.max_limit or request.limit)
        end = min(request.offset + limit, self.count)
        items = [self.make(index) for index in range(request.offset, end)]
        body = json.dumps(items).encode()
        headers = {"Content-Type": "application/json;charset=utf-8", "X-Result-Count": str(len(items))}
        if self.announce_total:
            headers["X-Total-Count"] = str(self.count)
        if self.gzip:
            body, headers["Content-Encoding"] = gzip_module.compress(body), "gzip"
        return Reply(206 if end < self.count else 200, body, headers)

    def __enter__(self) -> InventoryServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def _error(status: int, reason: str, message: str) -> Reply:
    body = json.dumps({"code": str(status), "reason": reason, "message": message, "status": str(status)})
    return Reply(status, body.encode(), {"Content-Type": "application/json"})


def serving(products: list[object], **options) -> InventoryServer:
    """A server listing exactly `products`, in this order."""
    return InventoryServer(len(products), products.__getitem__, **options)
