"""TM Forum hubs (TMF630 listener registrations): register, read and remove a partner's hub, and ask whether anyone
listens for an event type.

A hub is a webhook endpoint of the partner's, one that filters event types (the internal types its query's TMF
event types stand for, gateway.domain.tmf_events) and is spoken to as `tmf`: its events take the same outbox,
dispatcher, retries, order per subscriber, breaker, dead letters, replays and attempt log as every endpoint's,
and the operators' endpoint commands (enable, rotate the secret) work on it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.delivery.publisher import takes_event_type
from gateway.domain import partners as rules
from gateway.domain.delivery import EndpointStatus
from gateway.domain.errors import Conflict, InvalidInput, NotFound
from gateway.domain.tmf import TmfApi
from gateway.domain.tmf_events import hub_event_types, internal_event_types
from gateway.services import partners as partner_service
from gateway.store.models import EndpointEventType, Partner, WebhookEndpoint

HUB_FLAVOUR = "tmf"  # partners.tmf: one TMF event per request, rendered by the dispatcher
DESCRIPTION_LIMIT = 200  # webhook_endpoints.description
# Hubs are endpoints a partner key creates on its own, and every event goes to each: without a cap a partner could
# multiply the gateway's traffic to a third party's address. Ten per API is more than a partner's systems need.
MAX_HUBS_PER_API = 10


def hub_description(api: TmfApi, query: str | None) -> str:
    """How the hub reads among the partner's endpoints (GET /v1/webhook-endpoints, the operators' views): marked
    as a hub, with its API and query."""
    text = f"TM Forum hub ({api}): {query.strip() if query and query.strip() else 'every event'}"
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


def register_hub(
    session: Session,
    partner_code: str,
    api: TmfApi,
    *,
    callback: str,
    query: str | None,
    allow_private: bool,
    now: datetime,
) -> WebhookEndpoint:
    """A new hub on `api` for the partner, with a fresh signing secret (`hub.secret`: shown once). The callback
    passes the endpoints' address checks; the query names event types of `api` (none: all of them). Conflict when
    the partner has this very hub already, or MAX_HUBS_PER_API hubs on `api`."""
    # The endpoints' own check, whose field (`url`) is the hub's `callback`.
    errors = {}
    for message in rules.check_endpoint_url(callback, allow_private=allow_private).values():
        errors["callback"] = message
    try:
        tmf_types = hub_event_types(api, query)
    except InvalidInput as refused:
        errors.update(refused.errors)
    if errors:
        raise InvalidInput(errors)
    _check_room(session, partner_code, api, callback, query)
    hub = partner_service.add_endpoint(
        session,
        partner_code,
        url=callback,
        description=hub_description(api, query),
        allow_private=allow_private,
        now=now,
    )
    hub.hub_api, hub.hub_query, hub.flavour, hub.filters_events = str(api), query, HUB_FLAVOUR, True
    session.add_all(
        EndpointEventType(endpoint_id=hub.id, event_type=event_type) for event_type in internal_event_types(tmf_types)
    )
    session.flush()
    return hub


def _check_room(session: Session, partner_code: str, api: TmfApi, callback: str, query: str | None) -> None:
    """Conflict when the partner already has this hub (the same callback and query on `api`: a second would send
    every event twice) or MAX_HUBS_PER_API of them. The partner's row is locked first, so two registrations at
    once are counted one after the other (PostgreSQL; SQLite has one writer anyway)."""
    session.get(Partner, partner_code, with_for_update=True, populate_existing=True)
    endpoint = WebhookEndpoint.__table__
    live = select(endpoint.c.id, endpoint.c.url, endpoint.c.hub_query).where(
        endpoint.c.partner_code == partner_code,
        endpoint.c.hub_api == str(api),
        endpoint.c.status != EndpointStatus.DELETED,
    )
    hubs = session.execute(live.order_by(endpoint.c.created_at, endpoint.c.id)).all()
    for hub_id, url, hub_query in hubs:
        if url == callback and _same_query(hub_query, query):
            raise Conflict(
                f"Hub {hub_id} already sends this API's events for this query to this callback. Use it, or "
                f"unregister it (DELETE /hub/{hub_id}) before registering again.",
                hub_id=hub_id,
            )
    if len(hubs) >= MAX_HUBS_PER_API:
        raise Conflict(
            f"A partner may register at most {MAX_HUBS_PER_API} hubs on each TM Forum API, and this one has "
            f"{len(hubs)}. Unregister one (DELETE /hub/{{id}}) first, or combine their queries."
        )


def _same_query(one: str | None, other: str | None) -> bool:
    # None, an empty and a blank query all ask for every event of the API.
    return (one or "").strip() == (other or "").strip()


def get_hub(session: Session, partner_code: str, api: TmfApi, hub_id: str) -> WebhookEndpoint:
    """The partner's hub on `api`; another partner's, one of the other API, a plain endpoint or a deleted hub is
    reported as missing."""
    hub = session.get(WebhookEndpoint, hub_id)
    if hub is None or hub.partner_code != partner_code or hub.hub_api != api or hub.status == EndpointStatus.DELETED:
        raise NotFound("hub", hub_id)
    return hub


def remove_hub(session: Session, partner_code: str, api: TmfApi, hub_id: str, *, now: datetime) -> None:
    """Unregister the hub: nothing more is published or sent to it, its deliveries still waiting end as dead
    letters saying why, and its history stays on record (gateway.services.partners.remove_endpoint)."""
    get_hub(session, partner_code, api, hub_id)
    partner_service.remove_endpoint(session, hub_id, now=now)


def listens_for(session: Session, partner_code: str, event_type: str) -> bool:
    """Whether an enabled endpoint of the partner would receive an event of `event_type` (the publisher's rule):
    an opt-in event is only worth recording while one does."""
    endpoint = WebhookEndpoint.__table__
    found = select(endpoint.c.id).where(
        endpoint.c.partner_code == partner_code,
        endpoint.c.status == EndpointStatus.ENABLED,
        takes_event_type(endpoint, event_type),
    )
    return session.scalar(found.limit(1)) is not None
