"""What the call-center and operator escalation views share: an escalation as either side sees it, its detail
with its ETag, If-Match on it, and a page of them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from gateway.api.http import uow
from gateway.api.http.etags import etag, expected_version
from gateway.api.http.pagination import page, time_and_id_after
from gateway.domain import escalations as rules
from gateway.domain.clock import utcnow
from gateway.domain.errors import StaleVersion
from gateway.domain.escalations import Side
from gateway.services import escalations as escalation_service
from gateway.store.models import Escalation, EscalationEntry

ETAG_HEADER = {"ETag": {"description": "The escalation's version; send it as If-Match.", "schema": {"type": "string"}}}


def escalation_body(escalation: Escalation, partner_ref: str, side: Side, now: datetime) -> dict[str, Any]:
    """An escalation as either side sees it; `allowed_actions` are that side's."""
    return {
        "id": escalation.id,
        "partner": escalation.partner_code,
        "subscription": {"id": escalation.subscription_id, "partner_ref": partner_ref},
        "category": escalation.category,
        "priority": escalation.priority,
        "status": escalation.status,
        "description": escalation.description,
        "agent_ref": escalation.agent_ref,
        "locale": escalation.locale,
        "sla_due_at": escalation.sla_due_at,
        "overdue": rules.is_overdue(escalation.status, escalation.sla_due_at, now),
        "allowed_actions": [str(action) for action in rules.allowed_actions(rules.Status(escalation.status), side)],
        "version": escalation.version,
        "created_at": escalation.created_at,
        "updated_at": escalation.updated_at,
        "resolved_at": escalation.resolved_at,
        "closed_at": escalation.closed_at,
    }


def escalation_detail(
    session: Session, escalation: Escalation, side: Side, now: datetime
) -> tuple[dict[str, Any], dict[str, str]]:
    """The escalation with its whole history, and its ETag header."""
    partner_ref = escalation_service.subscriber_of(session, escalation).partner_ref
    body = escalation_body(escalation, partner_ref, side, now)
    entries = escalation_service.history(session, escalation)
    body["history"] = entries if side is Side.SERVICE else [_entry_for_partner(entry) for entry in entries]
    return body, {"ETag": etag(escalation.version)}


def _entry_for_partner(entry: EscalationEntry) -> dict[str, Any]:
    """A history entry as the partner reads it: a person's name as the author, never the key the service acted
    with (null then), as the console shows it (rules.author_shown_to_partner)."""
    return {
        "kind": entry.kind,
        "side": entry.side,
        "author": rules.author_shown_to_partner(entry.author),
        "from_status": entry.from_status,
        "to_status": entry.to_status,
        "comment": entry.comment,
        "occurred_at": entry.occurred_at,
    }


def check_if_match(escalation: Escalation) -> None:
    """412 when If-Match names a version other than the current one; no header, no precondition."""
    expected = expected_version()
    if expected is not None and expected != escalation.version:
        raise StaleVersion(f"The escalation is at version {escalation.version}, not {expected}; read it again.")


def list_page(query: dict[str, Any], *, side: Side, partner_code: str | None) -> dict[str, Any]:
    """One page of escalations for a validated EscalationListQuerySchema (or its admin form) query."""
    now = utcnow()
    with uow.reading() as session:
        found = escalation_service.list_escalations(
            session,
            limit=query["limit"] + 1,
            now=now,
            partner_code=partner_code,
            after=time_and_id_after(query),
            status=query.get("status"),
            category=query.get("category"),
            priority=query.get("priority"),
            partner_ref=query.get("partner_ref"),
            overdue=query.get("overdue"),
        )
    body = page(found, query["limit"], key=lambda item: [item[0].created_at.isoformat(), item[0].id])
    body["items"] = [escalation_body(escalation, ref, side, now) for escalation, ref in body["items"]]
    return body
