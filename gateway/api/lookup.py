"""Call-center API: look up one of the partner's subscribers (GET /v1/callcenter/lookup)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask.views import MethodView

from contracts.lookup import LookupQuerySchema, LookupSchema
from gateway.api.auth import current_partner_code, requires
from gateway.api.callcenter import blp
from gateway.api.uow import reading
from gateway.domain.clock import utcnow
from gateway.domain.keys import Scope
from gateway.services import lookup as lookup_service


def lookup_body(found: lookup_service.SubscriberLookup) -> dict[str, Any]:
    """The lookup as the API and the agent console show it."""
    subscription, explanation = found.subscription, found.explanation
    return {
        "subscription": {
            "id": subscription.id,
            "partner_ref": subscription.partner_ref,
            "plan": subscription.plan,
            "pending_plan": subscription.pending_plan,
            "market": subscription.market,
            "locale": subscription.locale,
            "billed_by": subscription.billed_by,
        },
        "locale": explanation.locale,
        "status": {"code": subscription.status, "label": explanation.status_label, "text": explanation.status_text},
        "reason": {"code": found.facts.reason, "text": explanation.reason_text},
        "inactivity": {"state": str(found.inactivity), "text": explanation.inactivity_text},
        "dates": asdict(found.facts.dates),
        "sharing": asdict(found.sharing),
        "notices": [asdict(notice) for notice in found.notices],
        "faq": [asdict(link) for link in found.faq],
        "actions": [asdict(action) for action in found.actions],
        "escalations": [
            {
                "id": escalation.id,
                "category": escalation.category,
                "priority": escalation.priority,
                "status": escalation.status,
                "sla_due_at": escalation.sla_due_at,
                "created_at": escalation.created_at,
            }
            for escalation in found.escalations
        ],
    }


@blp.route("/lookup")
class SubscriberLookup(MethodView):
    @requires(Scope.CALLCENTER)
    @blp.arguments(LookupQuerySchema, location="query")
    @blp.response(200, LookupSchema)
    def get(self, query):
        """Look up one of the partner's subscribers by partner_ref

        Status and reason in plain words in the agent's language, key dates, the last notices and their
        delivery, the FAQ articles that explain the situation, the actions available and who can take each,
        and any open escalation.
        """
        with reading() as session:
            found = lookup_service.lookup_subscriber(
                session,
                partner_code=current_partner_code(),
                partner_ref=query["partner_ref"],
                locale=query.get("locale"),
                now=utcnow(),
            )
            return lookup_body(found)
