"""Subscribers in every situation an agent can find them in, FAQ rows and open escalations, for the lookup tests."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from gateway.domain.clock import utcnow
from gateway.domain.ids import new_id
from gateway.domain.lifecycle import Actor, Command
from gateway.domain.situation import SITUATION_SLUGS
from gateway.services import subscriptions as subscription_service
from gateway.store.models import Escalation, FaqArticle
from tests.support.seeding import add_subscription

# situation -> the commands (actor, reason) that lead there from an active subscription; None: never activated.
SITUATIONS: dict[str, list[tuple[Command, Actor, str]] | None] = {
    "pending_activation": None,
    "active": [],
    "warned": [],  # plus an open warning, as a campaign leaves it
    "kept": [(Command.CONFIRM_KEEP, Actor.PARTNER, "partner_confirmed")],  # after a warning
    "suspended": [(Command.SUSPEND, Actor.PARTNER, "non_payment")],
    "cancellation_scheduled": [(Command.SCHEDULE_CANCELLATION, Actor.PARTNER, "member_request")],
    "cancelled": [(Command.CANCEL_NOW, Actor.SERVICE, "account_closed")],  # rejoinable: not the partner's doing
    "cancelled_inactive": [(Command.CANCEL_INACTIVE, Actor.SCHEDULER, "inactivity")],  # after a warning
    "purged": [
        (Command.CANCEL_NOW, Actor.PARTNER, "partner_churn"),
        (Command.PURGE, Actor.SCHEDULER, "retention_expired"),
    ],
}
WARNED_FIRST = {"warned", "kept", "cancelled_inactive"}


def warn(subscription, now: datetime) -> None:
    """An open inactivity warning, as a campaign run leaves it (the campaign writes it in bulk)."""
    subscription.inactivity_warned_at = now - timedelta(days=1)
    subscription.inactivity_respond_by = now + timedelta(days=13)


def subscriber_in(session, partner_code: str, situation: str, *, partner_ref: str | None = None, now=None):
    """A subscription of the partner's in the named situation (see SITUATIONS); partner_ref defaults to it."""
    now = now or utcnow()
    steps = SITUATIONS[situation]
    subscription = add_subscription(
        session, partner_code, partner_ref or situation, now=now - timedelta(days=40), active=steps is not None
    )
    if steps is None:
        return subscription
    subscription.last_viewed_at = now - timedelta(days=3)
    if situation in WARNED_FIRST:
        warn(subscription, now)
    for command, actor, reason in steps:
        subscription_service.apply_command(session, subscription, command, actor=actor, reason=reason, now=now)
    session.flush()
    return subscription


def add_faq_article(session, slug: str, locale: str, title: str, body: str = "", tags=()) -> FaqArticle:
    article = FaqArticle(
        slug=slug,
        locale=locale,
        title=title,
        body=body or f"{title}.",
        tags=list(tags),
        related_events=[],
        source="file",
        content_hash=hashlib.sha256(f"{slug}/{locale}/{title}".encode()).hexdigest(),
        version=1,
        updated_at=utcnow(),
    )
    session.add(article)
    return article


def add_faq_titles(session, locales=("en", "de")) -> None:
    """Every slug a lookup can point to, in each locale, titled '<locale>: <slug>'."""
    for slug in sorted(SITUATION_SLUGS):
        for locale in locales:
            add_faq_article(session, slug, locale, f"{locale}: {slug}")
    session.flush()


def add_open_escalation(session, subscription, *, category: str = "billing", now=None) -> Escalation:
    """An open case about the subscriber, as the escalations use case stores one."""
    now = now or utcnow()
    escalation = Escalation(
        id=new_id("esc"),
        partner_code=subscription.partner_code,
        subscription_id=subscription.id,
        category=category,
        priority="high",
        status="open",
        description="Charged twice this month.",
        agent_ref="agent-7",
        locale="en",
        open_key=f"{subscription.id}/{category}",
        sla_due_at=now + timedelta(hours=8),
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(escalation)
    session.flush()
    return escalation
