"""Paged listings used by more than one audience."""

from __future__ import annotations

from typing import Any

from gateway.api.http.pagination import decode_cursor, page
from gateway.api.http.uow import reading
from gateway.services import partners as partner_service


def partner_page(query: dict[str, Any]) -> dict[str, Any]:
    """One page of partners for a validated PartnerListQuerySchema query."""
    after = decode_cursor(query["cursor"], 1)[0] if "cursor" in query else None
    with reading() as session:
        found = partner_service.list_partners(
            session,
            limit=query["limit"] + 1,
            after=after,
            status=query.get("status"),
            market=query.get("market"),
        )
    return page(found, query["limit"], key=lambda partner: [partner.code])
