"""What the partner and operator delivery views share: filters, pages, the detail body."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from gateway.api.http.pagination import number_after, page
from gateway.api.http.uow import reading
from gateway.api.shared.presenters import attributes
from gateway.runtime import setting
from gateway.services import deliveries as delivery_service
from gateway.services.deliveries import DeliveryFilter


def delivery_filter(query: dict[str, Any], *, partner_code: str | None) -> DeliveryFilter:
    return DeliveryFilter(
        partner_code=partner_code,
        status=query.get("status"),
        event_type=query.get("type"),
        since=query.get("since"),
        until=query.get("until"),
    )


def delivery_page(query: dict[str, Any], *, partner_code: str | None) -> dict[str, Any]:
    with reading() as session:
        found = delivery_service.list_deliveries(
            session,
            delivery_filter(query, partner_code=partner_code),
            after=number_after(query),
            limit=query["limit"] + 1,
        )
    return page(found, query["limit"], key=lambda delivery: [str(delivery.id)])


def delivery_detail(session: Session, delivery_id: int, *, partner_code: str | None = None) -> dict[str, Any]:
    """The delivery with its event and attempts, as `session` sees it (a replay's own transaction shows the
    replay)."""
    delivery = delivery_service.get_delivery(session, delivery_id, partner_code=partner_code)
    body = attributes(delivery)
    gateway_url = setting("PUBLIC_URL") or ""  # as the dispatcher renders a hub's TMF event: its hrefs' base
    body.update(
        webhook_id=delivery.webhook_id,
        event=delivery_service.event_sent(session, delivery, gateway_url=gateway_url),
        attempt_log=delivery_service.attempts_of(session, delivery.id),
    )
    return body
