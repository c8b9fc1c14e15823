"""What a delivery's request carries: the event as it was committed, or, to a TM Forum hub (flavour `tmf`), the
event rendered as its TMF event (gateway.domain.tmf_events) at the moment it is sent. The stored event stays the
one record: the feed, the operators' views and a replay read it, and a retry renders the same TMF event again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.delivery.claims import ClaimedDelivery
from gateway.domain.tmf_events import NoTmfForm, tmf_event, tmf_event_text
from partners.base import OutgoingEvent
from partners.tmf import FLAVOUR as TMF_FLAVOUR


def outgoing_event(delivery: ClaimedDelivery, *, gateway_url: str) -> OutgoingEvent:
    """The event the adapter sends for this delivery; NoTmfForm when a hub's event has no TMF form (a hub only
    takes types that have one, so that is a fault, recorded as the attempt's error)."""
    if delivery.flavour != TMF_FLAVOUR:
        return OutgoingEvent(delivery.event_id, delivery.event_type, delivery.body)
    tmf_type, body = tmf_event_text(delivery.body, gateway_url=gateway_url)
    return OutgoingEvent(delivery.event_id, str(tmf_type), body)


def event_as_sent(payload: Mapping[str, Any], *, flavour: str | None, gateway_url: str) -> Mapping[str, Any]:
    """The stored event as a delivery to an endpoint of `flavour` (its own, else its partner's) carries it, for the
    delivery views: a hub's as its TMF event (or as stored, should it have no TMF form: the attempts say why)."""
    if flavour != TMF_FLAVOUR:
        return payload
    try:
        return tmf_event(payload, gateway_url=gateway_url)[1]
    except NoTmfForm:
        return payload
