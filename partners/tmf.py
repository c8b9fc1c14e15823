"""The `tmf` flavour: a TM Forum hub's listener (TMF630). One TMF event per request, as JSON, to the callback the
partner registered, signed with Standard Webhooks like every delivery: the TMF specs define no signing, so a
listener that verifies gets integrity and one that does not loses nothing.

The event arrives here already in its TMF form (eventId, eventType, event: {product: ...}): the gateway renders
it from the stored event when it sends it (gateway.delivery.rendering), since this package never imports the
gateway. `event_id` is the webhook-id, the same on every retry; the TMF event's eventId is that same id.
"""

from __future__ import annotations

from partners.standard import StandardAdapter

FLAVOUR = "tmf"


class TmfAdapter(StandardAdapter):
    """Sends as the standard flavour does (one JSON body, signed); only what the body holds differs, and the
    dispatcher decides that by the flavour's name. Callbacks a partner signs are read as the standard's."""

    name = FLAVOUR
