"""Subscriber lookup for call-center agents: one subscriber's situation, gathered from the store in one read."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.visitors import InternalTraversal

from gateway.domain import lifecycle, situation
from gateway.domain.errors import NotFound
from gateway.domain.events import EventType
from gateway.domain.lifecycle import Actor, Command, Status
from gateway.domain.notices import locale_chain
from gateway.services.escalations import unresolved_escalations
from gateway.services.partners import get_partner
from gateway.services.sharing import embargoed_articles
from gateway.services.subscriptions import find_by_partner_ref, history
from gateway.store.models import Delivery, Escalation, FaqArticle, OutboxEvent, Subscription, SubscriptionChange

NOTICES_SHOWN = 5


@dataclass(frozen=True)
class EndpointDelivery:
    endpoint_id: str
    status: str
    attempts: int
    last_error: str | None
    finished_at: datetime | None


@dataclass(frozen=True)
class NoticeSent:
    event_id: str | None  # None once the event is past the feed's retention
    event_type: str
    occurred_at: datetime
    subject: str | None  # of the member's or call center's text, when the event carries one
    delivery: situation.NoticeDelivery
    deliveries: list[EndpointDelivery]


@dataclass(frozen=True)
class FaqLink:
    slug: str
    locale: str
    title: str


@dataclass(frozen=True)
class ActionOffered:
    command: str
    label: str
    actors: list[dict[str, str]]  # {"actor", "label"}
    due_at: datetime | None


@dataclass(frozen=True)
class SubscriberLookup:
    subscription: Subscription
    facts: situation.SubscriberFacts
    explanation: situation.Explanation
    inactivity: situation.Inactivity
    actions: list[ActionOffered]
    notices: list[NoticeSent]
    faq: list[FaqLink]
    escalations: list[Escalation]
    sharing: SharingStanding


@dataclass(frozen=True)
class SharingStanding:
    """Where the account stands under the sharing policy, from the per-account notices in its history (kept
    for the audit, unlike the events)."""

    household_verify_by: datetime | None  # the deadline of the last household verification asked for
    extra_member: bool  # an extra member was added and not removed since


SHARING_NOTICES = ("household_verification_required", "extra_member_added", "extra_member_removed")


def sharing_standing(entries: list[SubscriptionChange]) -> SharingStanding:
    """From the subscription's history, oldest first."""
    verify_by, extra_member = None, False
    for entry in entries:
        if entry.command != "notice" or entry.reason not in SHARING_NOTICES:
            continue
        match entry.details.get("event"):
            case EventType.SHARING_HOUSEHOLD_VERIFICATION_REQUIRED:
                verify_by = datetime.fromisoformat(entry.details["verify_by"])
            case EventType.SHARING_EXTRA_MEMBER_ADDED:
                extra_member = True
            case EventType.SHARING_EXTRA_MEMBER_REMOVED:
                extra_member = False
    return SharingStanding(verify_by, extra_member)


def find_subscriber(session: Session, partner_code: str, partner_ref: str) -> Subscription:
    """The partner's subscription with this reference; another partner's is as missing as one that does not exist."""
    found = find_by_partner_ref(session, partner_code, partner_ref)
    if found is None:
        raise NotFound("subscriber", partner_ref)
    return found


CANDIDATES_SHOWN = 10  # a prefix that matches more asks the agent to type more
ACTIVATION_CODE = re.compile(r"^[A-Za-z0-9]{4}-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}$")


def find_candidates(session: Session, partner_code: str, typed: str) -> list[Subscription]:
    """The partner's subscribers an agent may mean by what they typed, best first: the subscription with that exact
    reference, id or activation code; else with that reference in any letter case; else those whose reference
    starts with it (case aside, at most CANDIDATES_SHOWN + 1, so the agent can tell there are more). Another
    partner's subscriptions never come back. `typed` is a reference in its normal form."""
    exact = find_by_partner_ref(session, partner_code, typed)
    if exact is not None:
        return [exact]
    mine = Subscription.partner_code == partner_code
    if typed.startswith("sub_"):
        by_id = session.scalar(select(Subscription).where(mine, Subscription.id == typed))
        if by_id is not None:
            return [by_id]
    if ACTIVATION_CODE.match(typed):
        code = select(Subscription).where(mine, Subscription.activation_code == typed.upper())
        by_code = session.scalar(code)
        if by_code is not None:
            return [by_code]
    reference = func.lower(Subscription.partner_ref)
    same = _first_references(session, mine, reference == typed.lower())
    if same:
        return same
    return _first_references(session, mine, reference.like(_prefix_pattern(typed.lower()), escape="\\"))


def _prefix_pattern(lowered: str) -> str:
    """A LIKE pattern for references starting with `lowered`: its own %, _ and \\ match only themselves."""
    return lowered.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _first_references(session: Session, mine, matches) -> list[Subscription]:
    """The first CANDIDATES_SHOWN + 1 references (in lower-case order) meeting `matches`, each as the subscription
    it names. The database finds them through ix_subscriptions_partner_ref_lower (partner_code, lower(partner_ref),
    text_pattern_ops on PostgreSQL so that a LIKE prefix reads it too) in the index's order, and stops after the
    first few: a one-letter prefix on a partner with a large base reads about as many index entries as it lists,
    not every member (tests/integration/test_lookup_backends.py checks the plan)."""
    reference = func.lower(Subscription.partner_ref)
    # Grouped: a reference held by a purged subscription and by its returning member counts once. (GROUP BY, not
    # DISTINCT: PostgreSQL 15 plans this DISTINCT as a sort of every match; the grouping follows the index.)
    first = (
        select(reference, Subscription.partner_ref)
        .where(mine, matches)
        .group_by(reference, Subscription.partner_ref)
        .order_by(_InIndexOrder(reference), Subscription.partner_ref)
        .limit(CANDIDATES_SHOWN + 1)
    )
    refs = [ref for _, ref in session.execute(first)]
    if not refs:
        return []
    named = session.scalars(_newest_first(select(Subscription).where(mine, Subscription.partner_ref.in_(refs))))
    return _one_per_reference(named)


class _InIndexOrder(ColumnElement):
    """An ORDER BY term for lower(partner_ref) in the order ix_subscriptions_partner_ref_lower keeps, so that the
    database walks the index and stops at the LIMIT instead of sorting every match: on PostgreSQL the index's
    text_pattern_ops order (USING ~<~, code point order; the plain ORDER BY is the collation's, which that index
    cannot give); elsewhere the plain term (SQLite's default BINARY collation is code point order already)."""

    inherit_cache = True
    _traverse_internals: ClassVar = [("term", InternalTraversal.dp_clauseelement)]

    def __init__(self, term: ColumnElement) -> None:
        self.term = term
        self.type = term.type


@compiles(_InIndexOrder)
def _in_index_order(element: _InIndexOrder, compiler, **kw) -> str:
    return compiler.process(element.term, **kw)


@compiles(_InIndexOrder, "postgresql")
def _in_index_order_postgresql(element: _InIndexOrder, compiler, **kw) -> str:
    return f"{compiler.process(element.term, **kw)} USING ~<~"


def _newest_first(query):
    """Live subscriptions before purged ones, newer before older: the one a reference names comes first."""
    return query.order_by(Subscription.status == Status.PURGED, Subscription.created_at.desc())


def _one_per_reference(subscriptions) -> list[Subscription]:
    """One subscription per reference (the first, which _newest_first makes the one the reference names), in
    reference order."""
    chosen: dict[str, Subscription] = {}
    for subscription in subscriptions:
        chosen.setdefault(subscription.partner_ref, subscription)
    return [chosen[ref] for ref in sorted(chosen, key=str.lower)]


def _last(entries: list[SubscriptionChange], matches) -> SubscriptionChange | None:
    return next((entry for entry in reversed(entries) if matches(entry)), None)


def _facts(subscription: Subscription, entries: list[SubscriptionChange]) -> situation.SubscriberFacts:
    """What bears on the situation, from the subscription and its history (oldest first)."""
    inactivity_steps = {str(command) for command in situation.INACTIVITY_COMMANDS}
    last_inactivity_step = _last(entries, lambda entry: entry.command in inactivity_steps)
    last_cancellation = _last(entries, lambda entry: entry.to_status == Status.CANCELLED)
    command = Command(last_inactivity_step.command) if last_inactivity_step is not None else None
    return situation.SubscriberFacts(
        billed_by=subscription.billed_by,
        cancelled_by=Actor(last_cancellation.actor) if last_cancellation is not None else None,
        status=Status(subscription.status),
        reason=subscription.status_reason,
        plan=subscription.plan,
        pending_plan=subscription.pending_plan,
        dates=situation.KeyDates(
            joined=subscription.activated_at,
            last_activity=subscription.last_viewed_at,
            activation_expires=subscription.activation_expires_at,
            inactivity_warned=subscription.inactivity_warned_at,
            respond_by=subscription.inactivity_respond_by,
            cancelled=subscription.cancelled_at,
            access_until=subscription.access_until,
            retention_until=subscription.retention_until,
        ),
        last_inactivity_command=command,
        keep_reason=last_inactivity_step.reason if command is Command.CONFIRM_KEEP else None,
    )


def last_notices(
    session: Session, subscription: Subscription, entries: list[SubscriptionChange], limit: int = NOTICES_SHOWN
) -> list[NoticeSent]:
    """The newest notices sent about this subscriber, newest first, each with where its deliveries stand.

    They come from the subscription's own history (`entries`), where every change but the creation was reported
    with an event of the same sequence number: the feed forgets events past its retention, the history does not.
    An event still kept adds its id, the subject of its text and its deliveries."""
    sent = [entry for entry in reversed(entries) if entry.sequence > 0][:limit]
    if not sent:
        return []
    events = {
        event.sequence: event
        for event in session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.partner_code == subscription.partner_code,
                OutboxEvent.subscription_id == subscription.id,
                OutboxEvent.sequence.in_([entry.sequence for entry in sent]),
            )
        )
    }
    by_event: dict[int, list[Delivery]] = {event.id: [] for event in events.values()}
    if by_event:
        query = select(Delivery).where(Delivery.event_id.in_(list(by_event))).order_by(Delivery.id)
        for delivery in session.scalars(query):
            by_event[delivery.event_id].append(delivery)
    return [_notice_sent(entry, events.get(entry.sequence), by_event) for entry in sent]


def _notice_sent(
    entry: SubscriptionChange, event: OutboxEvent | None, by_event: dict[int, list[Delivery]]
) -> NoticeSent:
    event_type = lifecycle.event_of_entry(entry.command, entry.details)
    if event is None:  # past the feed's retention: delivered or dead by then, its records gone with it
        return NoticeSent(None, event_type, entry.occurred_at, None, situation.NoticeDelivery.ARCHIVED, [])
    deliveries = by_event[event.id]
    text = (event.payload.get("data") or {}).get("notice") or {}
    return NoticeSent(
        event_id=event.event_id,
        event_type=event_type,
        occurred_at=entry.occurred_at,
        subject=text.get("subject"),
        delivery=situation.notice_delivery(event.position is not None, [d.status for d in deliveries]),
        deliveries=[
            EndpointDelivery(d.endpoint_id, d.status, d.attempts, d.last_error, d.finished_at) for d in deliveries
        ],
    )


def _readable(session: Session, slugs: list[str], market: str) -> list[str]:
    """The slugs less those under the sharing policy's embargo in the subscriber's market."""
    hidden = embargoed_articles(session, [market])
    return [slug for slug in slugs if slug not in hidden]


def faq_links(session: Session, slugs: list[str], locale: str | None) -> list[FaqLink]:
    """Each slug's article in the best locale there is (de-AT, de, then en); slugs with no article are left out."""
    chain = locale_chain(locale)
    rows = session.scalars(select(FaqArticle).where(FaqArticle.slug.in_(slugs), FaqArticle.locale.in_(chain)))
    best: dict[str, FaqArticle] = {}
    for row in rows:
        current = best.get(row.slug)
        if current is None or chain.index(row.locale) < chain.index(current.locale):
            best[row.slug] = row
    return [FaqLink(slug, best[slug].locale, best[slug].title) for slug in slugs if slug in best]


def _offered(actions: list[situation.AvailableAction], locale: str) -> list[ActionOffered]:
    return [
        ActionOffered(
            command=str(action.command),
            label=situation.action_label(action.command, locale),
            actors=[{"actor": str(actor), "label": situation.actor_label(actor, locale)} for actor in action.actors],
            due_at=action.due_at,
        )
        for action in actions
    ]


def lookup_subscriber(
    session: Session, *, partner_code: str, partner_ref: str, locale: str | None, now: datetime
) -> SubscriberLookup:
    """One of the partner's subscribers, named by its exact reference, as an agent needs to see them."""
    return situation_of(session, find_subscriber(session, partner_code, partner_ref), locale=locale, now=now)


def situation_of(
    session: Session, subscription: Subscription, *, locale: str | None, now: datetime
) -> SubscriberLookup:
    """One subscriber as an agent needs to see them, in the agent's locale (the partner's default language when
    none is given)."""
    chosen_locale = locale or get_partner(session, subscription.partner_code).default_locale
    entries = history(session, subscription)  # read once: the facts and the sharing standing come from it
    facts = _facts(subscription, entries)
    explanation = situation.explain(facts, chosen_locale)
    return SubscriberLookup(
        subscription=subscription,
        facts=facts,
        explanation=explanation,
        inactivity=situation.inactivity(facts),
        actions=_offered(situation.available_actions(facts, now), explanation.locale),
        notices=last_notices(session, subscription, entries),
        faq=faq_links(session, _readable(session, situation.faq_slugs(facts), subscription.market), chosen_locale),
        escalations=unresolved_escalations(session, subscription.id),
        sharing=sharing_standing(entries),
    )


def as_document(found: SubscriberLookup) -> dict[str, Any]:
    """The lookup as plain data: what the API answers (contracts.lookup) and the agent console renders."""
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
