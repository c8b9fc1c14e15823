"""The customer view of the console: one screen with where the customer stands, why, what is due next, what the agent
can do, the open cases and what to read; every notice, date and case update one click further."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import g, render_template
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain import partner_actions
from gateway.domain.escalations import Status as CaseStatus
from gateway.domain.lifecycle import Actor, Status
from gateway.domain.situation import Inactivity, action_label, actor_label
from gateway.services import agent_actions, escalation_queue
from gateway.services import lookup as lookup_service
from gateway.services import subscriptions as subscription_service
from gateway.store.models import Escalation, Subscription

NOTICES_IN_DETAILS = 50  # every notice an agent may want on a call; older ones are in the partner API's history
ARTICLES_UP_FRONT = 2


def answered_cases(session: Session, subscription_id: str) -> list[Escalation]:
    """The customer's cases the streaming service resolved and the partner has not closed: its answer waits for the
    agent (to read out, then close or reopen), longest waiting first. The lookup lists only unresolved cases."""
    query = (
        select(Escalation)
        .where(Escalation.subscription_id == subscription_id, Escalation.status == str(CaseStatus.RESOLVED))
        .order_by(Escalation.resolved_at, Escalation.id)
    )
    return list(session.scalars(query))


def customer_context(session: Session, subscription: Subscription, *, now: datetime) -> dict[str, Any]:
    """What lookup.html shows of one customer, read in the caller's session."""
    agent = g.agent
    situation = lookup_service.situation_of(session, subscription, locale=agent.locale, now=now)
    found = lookup_service.as_document(situation)
    locale = found["locale"]
    entries = subscription_service.history(session, subscription)
    # last_notices lists the history's entries past the creation, newest first: the same entries, in step.
    sent = [entry for entry in reversed(entries) if entry.sequence > 0][:NOTICES_IN_DETAILS]
    notices = lookup_service.last_notices(session, subscription, entries, limit=NOTICES_IN_DETAILS)
    notices_with_who = [
        {"notice": notice, "by": actor_label(Actor(entry.actor), locale), "agent": entry.details.get("agent")}
        for entry, notice in zip(sent, notices, strict=True)
    ]
    may_act = agent_actions.may_change_subscriptions(session, agent.key_id)
    status = Status(subscription.status)
    warned = situation.inactivity is Inactivity.WARNED
    offered = [
        {"command": str(command), "label": action_label(command, locale)}
        for command in partner_actions.offered(status, warned=warned, billed_by=subscription.billed_by)
    ]
    due = [action for action in found["actions"] if action["due_at"] is not None]
    return {
        "found": found,
        "subscription_id": subscription.id,
        "version": subscription.version,
        "may_act": may_act,
        "offered": offered if may_act else [],
        "partner_can": bool(offered),
        "next_due": min(due, key=lambda action: action["due_at"]) if due else None,
        "notices": notices_with_who,
        "updates": escalation_queue.latest_updates(session, subscription.id),
        "answered": answered_cases(session, subscription.id),
        "articles_up_front": found["faq"][:ARTICLES_UP_FRONT],
        "articles_more": found["faq"][ARTICLES_UP_FRONT:],
    }


def render_customer(
    session: Session, subscription: Subscription, *, now: datetime, changed: str | None = None, **page: Any
) -> str:
    """lookup.html for one customer; `changed` says why the agent sees them again instead of what they asked for."""
    context = customer_context(session, subscription, now=now)
    return render_template(
        "console/lookup.html",
        partner_ref=subscription.partner_ref,
        error=None,
        candidates=[],
        more=False,
        changed=changed,
        **context,
        **page,
    )
