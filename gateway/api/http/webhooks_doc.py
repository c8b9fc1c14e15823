"""The event catalog (contracts.events) published as the OpenAPI 3.1 `webhooks` section: one POST per event type."""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from contracts.events import CATALOG, CatalogEntry

# The Standard Webhooks headers every delivery carries (partners.signing), as components/parameters.
WEBHOOK_HEADERS = {
    "WebhookId": {
        "name": "webhook-id",
        "description": "The event's id (a batch's id is derived from its events'); the same on every retry: "
        "drop a message whose id you have already processed.",
        "schema": {"type": "string"},
    },
    "WebhookTimestamp": {
        "name": "webhook-timestamp",
        "description": "Unix time in seconds when this attempt was signed; refuse one far from your clock "
        "(the reference libraries allow five minutes).",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "WebhookSignature": {
        "name": "webhook-signature",
        "description": "`v1,<base64 HMAC-SHA256 of id.timestamp.body>` with the endpoint's `whsec_` secret; "
        "during a secret rotation's overlap two, space-separated: accept the message if either verifies.",
        "schema": {"type": "string", "pattern": "^v1,"},
    },
}

# What the dispatcher makes of the endpoint's answer (gateway.domain.delivery.classify_status).
RESPONSES = {
    "2XX": {"description": "Received: the event is delivered. Answer quickly and do the work afterwards."},
    "410": {
        "description": "Gone: the endpoint is disabled and the operators told. Events wait for it to be enabled "
        "again; none is lost."
    },
    "429": {"description": "Too many requests: sent again after the `Retry-After` the answer names."},
    "5XX": {
        "description": "Failed for now (as are 3xx, 408, timeouts and refused connections): sent again on the retry "
        "schedule, then kept as a dead letter for an operator's replay."
    },
    "default": {"description": "Any other 4xx refuses this event: it is not sent again unless an operator replays it."},
}

BODY_DESCRIPTION = (
    "The event as JSON. Partners on the batch flavour receive the same objects as NDJSON (one per line, "
    "`application/x-ndjson`), up to the batch size per request."
)


def document_webhooks(spec: APISpec) -> None:
    """Adds every event type's schemas to components and its operation to the document's `webhooks`."""
    headers = []
    for component_id, parameter in WEBHOOK_HEADERS.items():
        spec.components.parameter(component_id, "header", {**parameter, "required": True})
        headers.append(spec.components.get_ref("parameter", component_id))
    spec.options["webhooks"] = {event.name: {"post": _operation(spec, event, headers)} for event in CATALOG.values()}


def _operation(spec: APISpec, event: CatalogEntry, headers: list[dict[str, Any]]) -> dict[str, Any]:
    # The data schema first, with its extra keywords, so the envelope's `data` refers to it by name.
    spec.components.schema(event.data_component, dict(event.data.json_schema_extra), schema=event.data)
    spec.components.schema(event.component, schema=event.schema)
    return {
        "summary": event.sent_when,
        "description": " ".join((event.data.__doc__ or "").split()),
        "operationId": event.name,
        "parameters": headers,
        "requestBody": {
            "required": True,
            "description": BODY_DESCRIPTION,
            "content": {
                "application/json": {
                    "schema": spec.components.get_ref("schema", event.component),
                    "example": event.example,
                }
            },
        },
        "responses": RESPONSES,
    }
