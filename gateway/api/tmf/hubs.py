"""TMF630 hubs on both TMF APIs: a partner registers a callback (and a query of event types) for TMF events.

POST /hub {callback, query} -> 201 {id, callback, query} with Location; GET /hub/{id}; DELETE /hub/{id} -> 204,
under /tmf-api/productInventory/v4 and /tmf-api/productOrdering/v4 alike, each hub the partner's own (another
partner's is a 404, as on /v1). A hub is one of the partner's webhook endpoints (gateway.services.hubs).

Scopes follow /v1: reading a hub needs events:read, as reading the partner's endpoints and deliveries does;
registering or removing one decides where the gateway sends, a write, so it needs subscriptions:write, as a
redelivery or a test event does (a key that only watches cannot make the gateway send anywhere).

The response's body is the spec's EventSubscription and nothing more; the hub's Standard Webhooks signing secret,
which the specs have no field for, comes once in the Webhook-Signing-Secret header of the 201 (a retry with the
same Idempotency-Key gets the 201 again without it: the gateway never keeps a secret with a stored response).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.orm import Session

from gateway.api.http.auth import current_partner_code, requires
from gateway.api.http.idempotent import idempotent
from gateway.api.http.uow import in_transaction, reading
from gateway.api.tmf.blueprints import inventory, ordering
from gateway.domain.clock import utcnow
from gateway.domain.errors import InvalidInput
from gateway.domain.keys import Scope
from gateway.domain.tmf import TmfApi
from gateway.domain.tmf_events import api_url
from gateway.runtime import setting
from gateway.services import hubs as hub_service
from gateway.store.models import WebhookEndpoint

SECRET_HEADER = "Webhook-Signing-Secret"  # noqa: S105 - the header's name, not a secret
CALLBACK, QUERY = "callback", "query"


def hub_body(hub: WebhookEndpoint) -> dict[str, str]:
    """The hub as the spec's EventSubscription: its query as registered (left out when none was given)."""
    body = {"id": hub.id, CALLBACK: hub.url}
    if hub.hub_query is not None:
        body[QUERY] = hub.hub_query
    return body


def read_registration(body: Any) -> tuple[str, str | None]:
    """The callback and query of an EventSubscriptionInput; InvalidInput naming what is wrong. The spec's own
    fields only (and its @-prefixed type markers, which say nothing the gateway acts on): a misspelt `qeury`
    must not register a hub for every event."""
    if not isinstance(body, dict):
        raise InvalidInput({"(body)": 'An EventSubscriptionInput: {"callback": "https://...", "query": "..."}.'})
    errors = {
        name: "Not a field of EventSubscriptionInput (callback, query)."
        for name in body
        if name not in (CALLBACK, QUERY) and not str(name).startswith("@")
    }
    callback, query = body.get(CALLBACK), body.get(QUERY)
    if not isinstance(callback, str) or not callback.strip():
        errors[CALLBACK] = "Required: the URL the gateway posts the events to."
    if query is not None and not isinstance(query, str):
        errors[QUERY] = "A text such as 'eventType=ProductStateChangeEvent'."
    if errors:
        raise InvalidInput(errors)
    return callback.strip(), query


def _hub_url(api: TmfApi, hub_id: str) -> str:
    # As the products' hrefs: under GATEWAY_PUBLIC_URL when set, else the address the request came in on.
    return f"{api_url(setting('PUBLIC_URL') or request.root_url, api)}/hub/{hub_id}"


def _add_hub_routes(blueprint: Blueprint, api: TmfApi) -> None:
    @blueprint.post("/hub")
    @requires(Scope.SUBSCRIPTIONS_WRITE)
    @idempotent
    def register_hub(session: Session) -> Response:
        """Register a listener: the partner's callback gets this API's TMF events its query names."""
        callback, query = read_registration(request.get_json(silent=True))
        hub = hub_service.register_hub(
            session,
            current_partner_code(),
            api,
            callback=callback,
            query=query,
            allow_private=setting("ALLOW_PRIVATE_ENDPOINTS"),
            now=utcnow(),
        )
        response = jsonify(hub_body(hub))
        response.status_code = 201
        response.headers["Location"] = _hub_url(api, hub.id)
        response.headers[SECRET_HEADER] = hub.secret
        response.headers["Cache-Control"] = "no-store"
        return response

    @blueprint.get("/hub/<hub_id>")
    @requires(Scope.EVENTS_READ)
    def show_hub(hub_id: str) -> Response:
        """One of the partner's listeners on this API."""
        with reading() as session:
            return jsonify(hub_body(hub_service.get_hub(session, current_partner_code(), api, hub_id)))

    @blueprint.delete("/hub/<hub_id>")
    @requires(Scope.SUBSCRIPTIONS_WRITE)
    @in_transaction
    def unregister_hub(hub_id: str, session: Session) -> Response:
        """Unregister a listener: nothing more is sent to it; what was waiting for it ends as dead letters."""
        hub_service.remove_hub(session, current_partner_code(), api, hub_id, now=utcnow())
        # No body; the type is the one the TMF documents declare for every answer (Flask would say text/html).
        return Response(status=204, content_type="application/json;charset=utf-8")


_add_hub_routes(inventory, TmfApi.PRODUCT_INVENTORY)
_add_hub_routes(ordering, TmfApi.PRODUCT_ORDERING)
